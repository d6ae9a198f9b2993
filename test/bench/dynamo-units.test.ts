/**
 * The write units `npm run cost` charges the secondary indexes for, which dynalite does not report:
 * an entry that appears is a put, one that goes a delete, one whose index key changes both, one
 * whose projection does not change nothing.
 */
import { describe, expect, it } from 'vitest';
import { indexWriteUnits, itemSize, type TableSpec } from '../../bench/cost/dynamo-units';

const tasks: TableSpec = {
  name: 'Tasks',
  keys: ['task_id'],
  indexes: [
    { name: 'by-status', keys: ['status', 'created_at'], projection: 'KEYS_ONLY', include: [] },
    { name: 'by-agent-type', keys: ['agent_type', 'created_at'], projection: 'KEYS_ONLY', include: [] },
  ],
};
const agents: TableSpec = {
  name: 'Agents',
  keys: ['agent_id'],
  indexes: [{ name: 'by-type', keys: ['type', 'agent_id'], projection: 'ALL', include: [] }],
};

const task = (status: string, extra: Record<string, { S: string }> = {}) => ({
  task_id: { S: 't1' },
  status: { S: status },
  created_at: { S: '2026-12-01T00:00:00Z' },
  agent_type: { S: 'cost' },
  ...extra,
});

describe('index write units', () => {
  it('counts a put in every index whose keys a new item has', () => {
    expect(indexWriteUnits(tasks, undefined, task('pending'))).toBe(2);
  });

  it('counts a delete and a put when an update changes an index key, nothing where the entry is unchanged', () => {
    expect(indexWriteUnits(tasks, task('pending'), task('queued'))).toBe(2);
  });

  it('counts nothing in a keys-only index when only unprojected attributes change', () => {
    expect(indexWriteUnits(tasks, task('sent'), task('sent', { result: { S: 'x'.repeat(5000) } }))).toBe(0);
  });

  it('counts an update by the projected size in an index that projects everything', () => {
    const before = { agent_id: { S: 'a1' }, type: { S: 'cost' }, meta: { S: 'x' } };
    const after = { ...before, meta: { S: 'x'.repeat(3000) } };
    expect(indexWriteUnits(agents, before, after)).toBe(3);
    expect(indexWriteUnits(agents, before, undefined)).toBe(1);
  });

  it('sizes items as DynamoDB does: names and values', () => {
    expect(itemSize({ ab: { S: 'xyz' }, n: { N: '12345' }, f: { BOOL: true } })).toBe(2 + 3 + 1 + 4 + 1 + 1);
  });
});
