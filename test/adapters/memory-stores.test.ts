/**
 * The store contracts on the in-memory stores the use-case tests run on (MemoryTaskStore,
 * MemoryAgentStore): dynamo-stores.test.ts runs the same suites on DynamoDB (dynalite), so a
 * use case that passes on these would pass on the tables.
 */
import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../functions/adapters/memory-agent-store';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store';
import { type IndexQuery, listTasks, type TaskIndexReader } from '../../functions/adapters/task-listing';
import { TASK_INDEX_SHARDS } from '../../functions/core/table-keys';
import { describeAgentStoreContract } from './agent-store-contract';
import { describeAttemptLogContract } from './attempt-log-contract';
import { describeCallbackStoreContract } from './callback-store-contract';
import { describeTaskStoreContract } from './task-store-contract';

describeTaskStoreContract({ name: 'MemoryTaskStore', make: async (clock) => new MemoryTaskStore(clock) });
describeAttemptLogContract({ name: 'MemoryTaskStore', make: async (clock) => new MemoryTaskStore(clock) });
describeAgentStoreContract({ name: 'MemoryAgentStore', make: async () => new MemoryAgentStore() });
describeCallbackStoreContract({
  name: 'MemoryTaskStore',
  make: async (clock) => {
    const store = new MemoryTaskStore(clock);
    return { tasks: store, callbacks: store };
  },
});

/** What a listing page costs, whatever the store: one Query per shard of each index it reads, each for at most a page and one. */
describe('a page of GET /tasks', () => {
  function recordingReader(): { reader: TaskIndexReader; queries: IndexQuery[] } {
    const queries: IndexQuery[] = [];
    const reader: TaskIndexReader = {
      query: async (q) => {
        queries.push(q);
        // Every shard has more: the page's work is the most it can be.
        return { entries: [], lastKey: '2026-06-15T12:00:00.000Z#t' };
      },
      fetch: async () => [],
      fetchStates: async () => [],
    };
    return { reader, queries };
  }

  it.each([
    ['unfiltered', {}, ['open', 'finished']],
    ['by an unfinished status', { status: 'pending' as const }, ['open']],
    ['by a terminal status', { status: 'completed' as const }, ['finished']],
    ['by agent type', { agentType: 'cost' }, ['open', 'finished']],
  ])('%s reads each shard of %j once, for limit + 1 entries', async (_label, filter, indexes) => {
    const { reader, queries } = recordingReader();
    const page = await listTasks(reader, { ...filter, limit: 10 }, Date.parse('2026-06-15T12:00:00.000Z'));
    expect(queries).toHaveLength(indexes.length * TASK_INDEX_SHARDS);
    expect(new Set(queries.map((q) => `${q.index.name}/${q.shard}`)).size).toBe(queries.length);
    expect([...new Set(queries.map((q) => q.index.name))]).toEqual(indexes);
    expect(queries.every((q) => q.limit === 11 && !q.forward)).toBe(true);
    // Nothing read for sure: the next page goes on from where every shard stopped.
    expect(page.tasks).toEqual([]);
    expect(page.nextToken).toBeDefined();
  });
});
