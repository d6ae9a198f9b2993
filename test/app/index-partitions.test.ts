/**
 * No index partition of the Tasks table takes more than DynamoDB's 1 000 writes/s per partition at
 * 1 000 tasks/s. One second of that traffic runs through the use cases (submit, start, dispatch,
 * retry, cancel, timeout) on the in-memory store, which writes the same items as DynamoTaskStore
 * (functions/adapters/task-items.ts); every item write is mapped onto the indexes of the
 * synthesized template, by their key schemas and projections, and counted per partition key value.
 * At steady state TTL deletes as many finished tasks per second as finish: those deletes count too.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryOf, type IndexSpec, type TableSpec, tableSpecs } from '../../bench/cost/dynamo-units';
import type { Item } from '../../functions/adapters/task-items';
import { dispatchStep } from '../../functions/app/dispatch';
import { firstStartOf, startTask } from '../../functions/app/start-task';
import { cancelTask, submitTask } from '../../functions/app/tasks';
import type { WorkflowState } from '../../functions/app/workflow-step';
import { taskSubmitRequestSchema } from '@optiinfra/contract';
import { isTerminal, type TaskStatus } from '../../functions/core/task-model';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import { TaskTables } from '../../lib/constructs/task-tables';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { completed, failed, timedOut, world } from './world';

const TASKS_PER_SECOND = 1_000;
const PARTITION_WRITES_PER_SECOND = 1_000;

type Write = [before: Item | undefined, after: Item | undefined];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (item: Item) => Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)));

/** Writes per index partition ("index = partition key value") that these item writes cause. */
function partitionWrites(table: TableSpec, writes: readonly Write[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (index: IndexSpec, entry: Item) => {
    const key = `${index.name} = ${JSON.stringify(entry[index.keys[0]!])}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  for (const [before, after] of writes) {
    for (const index of table.indexes) {
      const old = entryOf(table, index, before);
      const now = entryOf(table, index, after);
      if (old && now && same(sorted(old), sorted(now))) continue;
      if (
        old &&
        now &&
        same(
          index.keys.map((k) => old[k]),
          index.keys.map((k) => now[k]),
        )
      )
        add(index, now);
      else {
        if (old) add(index, old);
        if (now) add(index, now);
      }
    }
  }
  return counts;
}

const busiest = (counts: Map<string, number>) => [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a), ['none', 0]);

/** One second of traffic: the life cycles in a realistic mix, every task of one agent type (the worst case for a per-type key). */
async function oneSecondOfTasks(): Promise<Write[]> {
  const writes: Write[] = [];
  const w = world({ workflowMode: 'auto' }, { observeTaskWrites: (before, after) => writes.push([before, after]) });
  for (const agent_id of ['00000000-0000-5000-8000-00000000000a', '00000000-0000-5000-8000-00000000000b'])
    await w.agent({ agent_id, name: agent_id.slice(-1), max_concurrency: 1_000 });
  const state = (task_id: string, timeout: number): WorkflowState => ({ task_id, state_timeout_seconds: timeout + STEP_OVERHEAD_SECONDS });
  const rethrow = (err: unknown) => {
    throw err;
  };
  for (let i = 0; i < TASKS_PER_SECOND; i++) {
    // Of every 20 tasks: 14 complete at once, 3 fail once and complete on retry, 2 are cancelled (one before its
    // attempt, one during it), 1 times out.
    const kind = i % 20 < 14 ? 'happy' : i % 20 < 17 ? 'retried' : i % 20 < 19 ? 'cancelled' : 'timeout';
    const request = taskSubmitRequestSchema.parse({
      task_type: 'analyze_cost',
      agent_type: 'cost',
      parameters: { account: String(i) },
      max_retries: kind === 'timeout' ? 0 : 3,
    });
    const { task_id } = await submitTask(w.deps, request, rethrow);
    const first = w.queue.sent.at(-1)!.firstStart!;
    expect(first).toEqual(firstStartOf(request, w.settings));
    await startTask(w.deps, task_id, first);
    if (kind === 'cancelled' && i % 2 === 0) {
      await cancelTask(w.deps, task_id);
      continue;
    }
    if (kind === 'cancelled') {
      w.agentClient.answer(async () => {
        await cancelTask(w.deps, task_id);
        return completed();
      });
    } else if (kind === 'retried') w.agentClient.answer(failed('HTTP 500'), completed());
    else if (kind === 'timeout') w.agentClient.answer(timedOut());
    else w.agentClient.answer(completed({ rows: i }));
    // The state machine waits out a retry's delay between steps; the simulated second does not (agents stay live).
    for (let step = 0; step < 5; step++) {
      if ((await dispatchStep(w.stepDeps, state(task_id, request.timeout_seconds))).outcome === 'done') break;
    }
    expect(isTerminal((await w.tasks.get(task_id))!.status), `${kind} task ${i}`).toBe(true);
  }
  // What TTL deletes later: every finished task and its payload.
  const live = new Map<string, Item>();
  for (const [, after] of writes) if (after) live.set(String(after.task_id), after);
  for (const item of live.values()) writes.push([item, undefined]);
  return writes;
}

let tasksTable: TableSpec;
let writes: Write[];

beforeAll(async () => {
  // The tables construct of the stateful stack, synthesized alone (the whole app takes seconds more).
  const stack = new Stack(new App(), 'Tables');
  new TaskTables(stack, 'Tables');
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  tasksTable = [...tableSpecs(template).values()].find((t) => same(t.keys, ['task_id']))!;
  writes = await oneSecondOfTasks();
}, 60_000);

describe('the Tasks table at 1 000 tasks/s', () => {
  it('has no index partition past 1 000 writes/s', () => {
    expect(tasksTable.indexes.length).toBeGreaterThan(0);
    const counts = partitionWrites(tasksTable, writes);
    const [partition, rate] = busiest(counts);
    expect(rate, `busiest: ${partition}`).toBeGreaterThan(0);
    expect(rate, `busiest: ${partition} at ${rate} writes/s; all: ${JSON.stringify(Object.fromEntries(counts))}`).toBeLessThanOrEqual(
      PARTITION_WRITES_PER_SECOND,
    );
  });

  it('would have found the indexes of the table before (status, agent type, month) past it', () => {
    const before: TableSpec = {
      ...tasksTable,
      indexes: ['status', 'agent_type', 'created_month'].map((pk) => ({
        name: `by-${pk}`,
        keys: [pk, 'created_at'],
        projection: 'KEYS_ONLY',
        include: [],
      })),
    };
    const [partition, rate] = busiest(partitionWrites(before, writes));
    expect(rate, partition).toBeGreaterThan(PARTITION_WRITES_PER_SECOND);
  });

  it('writes each payload once, at submit, and the result only in the terminal write', () => {
    const payloads = writes.filter(([, after]) => after !== undefined && String(after.task_id).endsWith('#payload'));
    expect(payloads).toHaveLength(TASKS_PER_SECOND);
    expect(payloads.every(([before, after]) => before === undefined && after!.expires_at !== undefined)).toBe(true);
    const states = writes.filter(([, after]) => after !== undefined && !String(after.task_id).endsWith('#payload'));
    expect(states.some(([, after]) => 'parameters' in after! || 'metadata' in after!)).toBe(false);
    // Completed tasks carry their result from the write that ended them; no write before it set one.
    const terminal = (item: Item) => isTerminal(item.status as TaskStatus);
    for (const [before, after] of states) {
      if ('result' in after!) expect(terminal(after), JSON.stringify(after)).toBe(true);
      if (before && 'result' in before) expect(terminal(before)).toBe(true);
    }
    expect(states.filter(([, after]) => 'result' in after!).length).toBeGreaterThan(TASKS_PER_SECOND / 2);
  });
});
