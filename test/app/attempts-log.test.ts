/**
 * A task's attempts_log through the use cases, on the in-memory world: each attempt's entry is
 * appended by its lease write and ended by the write that ends the attempt (never a write of its
 * own), for every way an attempt ends; GET /tasks/{id} shows it, GET /tasks does not.
 */
import { describe, expect, it } from 'vitest';
import { reportResult } from '../../functions/app/agent-reports';
import { dispatchStep } from '../../functions/app/dispatch';
import { faultStep } from '../../functions/app/fault-step';
import { reconcile } from '../../functions/app/reconcile';
import { cancelTask, getTask, listTasks } from '../../functions/app/tasks';
import type { StepResult } from '../../functions/app/workflow-step';
import type { Item } from '../../functions/adapters/task-items';
import { agentTokenHash } from '../../functions/core/ids';
import type { AttemptResult } from '../../functions/core/retry-policy';
import type { Task } from '../../functions/core/task-model';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import { accepted, completed, timedOut, world } from './world';

const A = '00000000-0000-5000-8000-00000000000a';
const B = '00000000-0000-5000-8000-00000000000b';
const TOKEN_A = 'token-of-agent-a-0123456789';
const http500: AttemptResult = {
  kind: 'failed',
  error: 'agent answered HTTP 500: boom',
  retryable: true,
  health: 'failure',
  outcome: 'http_error',
  httpStatus: 500,
};

/** A world with agents A and B, counting the writes to each task's state item. */
async function setUp() {
  const writes = new Map<string, number>();
  const count = (_before: Item | undefined, after: Item | undefined) => {
    const id = after?.task_id as string | undefined;
    if (id && !id.includes('#')) writes.set(id, (writes.get(id) ?? 0) + 1);
  };
  const w = world({ publicApiUrl: 'https://api.example.com' }, { observeTaskWrites: count });
  await w.agent({ agent_id: A, name: 'cost-a', token_hash: agentTokenHash(TOKEN_A) });
  await w.agent({ agent_id: B, name: 'cost-b' });
  const step = (t: Task, prev?: StepResult) =>
    dispatchStep(w.stepDeps, {
      task_id: t.task_id,
      state_timeout_seconds: t.timeout_seconds + STEP_OVERHEAD_SECONDS,
      ...(prev ? { step: prev } : {}),
    });
  /** Writes to the task's state item since it was stored. */
  const writesSinceCreate = (t: Task) => (writes.get(t.task_id) ?? 0) - 1;
  return { w, step, writesSinceCreate };
}

describe('attempts_log', () => {
  it('keeps one entry per attempt of a task that fails every time, each http_error 500, with two writes per attempt as before', async () => {
    const { w, step, writesSinceCreate } = await setUp();
    const t = await w.task({ max_retries: 2 });
    w.agentClient.answer(
      async () => {
        w.clock.advance(120);
        return http500;
      },
      http500,
      http500,
    );
    let prev = await step(t);
    w.clock.advance(5_000);
    prev = await step(t, prev);
    w.clock.advance(10_000);
    expect(await step(t, prev)).toMatchObject({ outcome: 'done', status: 'failed', attempts: 3 });
    const view = await getTask(w.deps, t.task_id);
    expect(view.attempts_log).toHaveLength(3);
    expect(view.attempts_log?.map((e) => [e.attempt, e.outcome, e.http_status])).toEqual([
      [1, 'http_error', 500],
      [2, 'http_error', 500],
      [3, 'http_error', 500],
    ]);
    expect(view.attempts_log?.[0]).toMatchObject({ latency_ms: 120, error: 'agent answered HTTP 500: boom', reason: expect.any(String) });
    expect(view.attempts_log?.[1]?.agent_id).not.toBe(view.attempts_log?.[0]?.agent_id);
    // Lease and end of each attempt: the entries add no write.
    expect(writesSinceCreate(t)).toBe(6);
  });

  it('ends a completed attempt as completed; GET /tasks leaves the log out', async () => {
    const { w, step, writesSinceCreate } = await setUp();
    const t = await w.task();
    w.agentClient.answer(completed(42));
    await step(t);
    const log = (await getTask(w.deps, t.task_id)).attempts_log;
    expect(log).toEqual([expect.objectContaining({ attempt: 1, outcome: 'completed', latency_ms: 0 })]);
    expect(log?.[0]).not.toHaveProperty('error');
    expect(writesSinceCreate(t)).toBe(2);
    const page = await listTasks(w.deps, { limit: 10 });
    expect(page.tasks[0]).not.toHaveProperty('attempts_log');
  });

  it('records a timeout', async () => {
    const { w, step } = await setUp();
    const t = await w.task({ max_retries: 0 });
    w.agentClient.answer(timedOut('no answer within 30 s'));
    expect(await step(t)).toMatchObject({ status: 'timeout' });
    expect((await w.tasks.get(t.task_id))?.attempts_log).toEqual([
      expect.objectContaining({ outcome: 'timeout', error: 'no answer within 30 s' }),
    ]);
  });

  it('stamps accepted_at on a 202 and ends the entry with the agent’s report', async () => {
    const { w, step } = await setUp();
    const t = await w.task({ requested_agent_id: A, agent_id: A });
    w.agentClient.answer(accepted());
    await step(t);
    const running = (await w.tasks.get(t.task_id))?.attempts_log?.[0];
    expect(running).toMatchObject({ agent_id: A, accepted_at: w.clock.iso() });
    expect(running).not.toHaveProperty('outcome');
    w.clock.advance(2_000);
    await reportResult(w.deps, t.task_id, TOKEN_A, { status: 'completed', result: 1, attempt: 1 });
    expect((await w.tasks.get(t.task_id))?.attempts_log).toEqual([expect.objectContaining({ outcome: 'completed', latency_ms: 2_000 })]);
  });

  it('marks an accepted attempt whose agent went silent as lost', async () => {
    const { w, step } = await setUp();
    const t = await w.task({ requested_agent_id: A, agent_id: A, max_retries: 0, heartbeat_timeout_seconds: 30, timeout_seconds: 600 });
    w.agentClient.answer(accepted());
    await step(t);
    w.clock.advance(31_000);
    await reconcile(w.deps, 120);
    expect((await w.tasks.get(t.task_id))?.attempts_log).toEqual([expect.objectContaining({ outcome: 'lost', latency_ms: 31_000 })]);
  });

  it('marks an attempt the orchestrator lost track of interrupted: a failed step, or a lease that ran out', async () => {
    const { w, step } = await setUp();
    const crash = async () => {
      throw new Error('the dispatcher died mid-delivery');
    };
    const first = await w.task();
    w.agentClient.answer(crash);
    await expect(step(first)).rejects.toThrow('died');
    await faultStep(w.stepDeps, { task_id: first.task_id, state_timeout_seconds: 60, fault: { Error: 'Error' } });
    expect((await w.tasks.get(first.task_id))?.attempts_log).toEqual([expect.objectContaining({ attempt: 1, outcome: 'interrupted' })]);

    const second = await w.task();
    w.agentClient.answer(crash);
    await expect(step(second)).rejects.toThrow('died');
    w.clock.advance(3_600_000);
    await step(second);
    expect((await w.tasks.get(second.task_id))?.attempts_log?.[0]).toMatchObject({
      attempt: 1,
      outcome: 'interrupted',
      latency_ms: 3_600_000,
    });
  });

  it('marks the running attempt cancelled when the task is cancelled, on the cancel’s own write', async () => {
    const { w, step, writesSinceCreate } = await setUp();
    const t = await w.task({ requested_agent_id: A, agent_id: A });
    w.agentClient.answer(accepted());
    await step(t);
    const before = writesSinceCreate(t);
    await cancelTask(w.deps, t.task_id);
    expect(writesSinceCreate(t)).toBe(before + 1);
    expect((await getTask(w.deps, t.task_id)).attempts_log).toEqual([
      expect.objectContaining({ outcome: 'cancelled', error: 'cancelled by request' }),
    ]);
  });
});
