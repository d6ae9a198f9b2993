/**
 * Asynchronous delivery on the in-memory world: an agent answers 202, the task runs with no
 * execution waiting, and the attempt ends by the agent's report, by the reconciler's sweep of its
 * heartbeat or overall deadline, or by a cancel; whichever comes first decides, and the others
 * change nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { reportProgress, reportResult } from '../../functions/app/agent-reports';
import { dispatchStep } from '../../functions/app/dispatch';
import { reconcile } from '../../functions/app/reconcile';
import { cancelTask, getTask } from '../../functions/app/tasks';
import type { AgentRecord } from '../../functions/core/agent-model';
import { agentTokenHash } from '../../functions/core/ids';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import type { Task } from '../../functions/core/task-model';
import { accepted, type World, world } from './world';

const A = '00000000-0000-5000-8000-00000000000a';
const B = '00000000-0000-5000-8000-00000000000b';
const TOKEN_A = 'token-of-agent-a-0123456789';
const TOKEN_B = 'token-of-agent-b-0123456789';

let w: World;
let agentA: AgentRecord;
beforeEach(async () => {
  w = world({ publicApiUrl: 'https://api.example.com' });
  agentA = await w.agent({ agent_id: A, name: 'cost-a', token_hash: agentTokenHash(TOKEN_A) });
});

const inFlight = async (agentId: string) => (await w.cache.inFlight([{ agentId, type: 'cost' }], w.clock.now()))?.get(agentId);
const dispatch = (t: Task) => dispatchStep(w.stepDeps, { task_id: t.task_id, state_timeout_seconds: 30 + STEP_OVERHEAD_SECONDS });
const sweep = () => reconcile(w.deps, 120);

/** A task delivered to agent A, which accepted it. */
async function acceptedTask(overrides: Partial<Task> = {}): Promise<Task> {
  const t = await w.task(overrides);
  w.agentClient.answer(accepted());
  expect(await dispatch(t)).toMatchObject({ outcome: 'done', status: 'running', attempts: 1 });
  return t;
}

describe('an accepted attempt (202)', () => {
  it('runs with no execution waiting: the task is running on its agent, the slot stays held, the delivery says where to report', async () => {
    const t = await acceptedTask({ heartbeat_timeout_seconds: 30 });
    const stored = (await w.tasks.get(t.task_id))!;
    expect(stored).toMatchObject({ status: 'running', attempts: 1, agent_id: A, heartbeat_until: w.clock.now() + 30_000 });
    expect(stored.started_at).toBe(w.clock.iso());
    expect(await inFlight(A)).toBe(1);
    expect(w.agentClient.deliveries[0]?.request).toMatchObject({
      heartbeat_timeout_seconds: 30,
      report_url: `https://api.example.com/tasks/${t.task_id}/result`,
      progress_url: `https://api.example.com/tasks/${t.task_id}/progress`,
    });
    expect(w.metrics.total('AttemptsAccepted')).toBe(1);
  });

  it('completes on its agent’s report, frees the slot, and answers a repeat 200 with no second change', async () => {
    const t = await acceptedTask();
    w.clock.advance(5_000);
    const report = { status: 'completed' as const, result: { plan: ['a', 'b'] }, attempt: 1 };
    expect(await reportResult(w.deps, t.task_id, TOKEN_A, report)).toEqual({ task_id: t.task_id, status: 'completed' });
    expect(await reportResult(w.deps, t.task_id, TOKEN_A, report)).toEqual({ task_id: t.task_id, status: 'completed' });
    expect(await getTask(w.deps, t.task_id)).toMatchObject({ status: 'completed', result: { plan: ['a', 'b'] } });
    expect(await inFlight(A)).toBe(0);
    expect(w.metrics.total('TasksCompleted')).toBe(1);
    // A report of another outcome for the same attempt is refused.
    await expect(reportResult(w.deps, t.task_id, TOKEN_A, { status: 'failed', error: 'x', attempt: 1 })).rejects.toMatchObject({
      status: 409,
      code: 'attempt_ended',
    });
  });

  it('takes a report sent before the dispatcher recorded the 202 (the task still `sent`)', async () => {
    const t = await w.task();
    w.agentClient.answer(async () => {
      expect(await reportResult(w.deps, t.task_id, TOKEN_A, { status: 'completed', result: 7 })).toMatchObject({ status: 'completed' });
      return accepted();
    });
    expect(await dispatch(t)).toMatchObject({ outcome: 'done', status: 'completed' });
    expect(await inFlight(A)).toBe(0);
  });

  it('refuses another agent’s token (403), no token (401) and an unknown task (404), changing nothing', async () => {
    const t = await acceptedTask();
    await w.agent({ agent_id: B, name: 'cost-b', token_hash: agentTokenHash(TOKEN_B) });
    const done = { status: 'completed' as const, result: 1 };
    await expect(reportResult(w.deps, t.task_id, TOKEN_B, done)).rejects.toMatchObject({ status: 403, code: 'not_your_attempt' });
    await expect(reportProgress(w.deps, t.task_id, TOKEN_B, { progress: 5 })).rejects.toMatchObject({ status: 403 });
    await expect(reportResult(w.deps, t.task_id, undefined, done)).rejects.toMatchObject({ status: 401 });
    await expect(reportResult(w.deps, '00000000-0000-4000-8000-999999999999', TOKEN_A, done)).rejects.toMatchObject({ status: 404 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'running', attempts: 1 });
    await expect(reportResult(w.deps, t.task_id, TOKEN_A, { ...done, attempt: 2 })).rejects.toMatchObject({ status: 409 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'running' });
  });

  it('retries a failed report after the backoff through the intake queue, on another agent', async () => {
    const t = await acceptedTask();
    await w.agent({ agent_id: B, name: 'cost-b', token_hash: agentTokenHash(TOKEN_B) });
    const failedReport = { status: 'failed' as const, error: 'model quota', attempt: 1 };
    expect(await reportResult(w.deps, t.task_id, TOKEN_A, failedReport)).toEqual({ task_id: t.task_id, status: 'retrying' });
    expect(await reportResult(w.deps, t.task_id, TOKEN_A, failedReport)).toEqual({ task_id: t.task_id, status: 'retrying' });
    expect(await inFlight(A)).toBe(0);
    expect(w.metrics.total('TasksRetried')).toBe(1);
    const [message, ...more] = w.queue.sent;
    expect(more).toEqual([]);
    expect(message?.taskId).toBe(t.task_id);
    expect(message?.delaySeconds).toBeGreaterThanOrEqual(0);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'retrying', failed_agents: [A], reported: 1 });

    w.agentClient.answer(accepted());
    expect(await dispatch(t)).toMatchObject({ status: 'running', attempts: 2 });
    expect(w.agentClient.deliveries[1]?.target.agentId).toBe(B);
    // The first agent's late report is over: 409, nothing changes.
    await expect(reportResult(w.deps, t.task_id, TOKEN_A, { status: 'completed', result: 1, attempt: 1 })).rejects.toMatchObject({
      status: 409,
    });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'running', attempts: 2, agent_id: B });
  });

  it('a report marked not retryable fails the task at once', async () => {
    const t = await acceptedTask();
    const out = await reportResult(w.deps, t.task_id, TOKEN_A, { status: 'failed', error: 'bad input', retryable: false });
    expect(out.status).toBe('failed');
    expect((await w.tasks.get(t.task_id))?.error).toContain('agent reported failure (marked not retryable): bad input');
  });
});

describe('progress and liveness', () => {
  it('progress moves the heartbeat deadline and shows on GET; silence past it loses the attempt, retried elsewhere', async () => {
    const t = await acceptedTask({ timeout_seconds: 600, heartbeat_timeout_seconds: 60 });
    w.clock.advance(50_000);
    const answer = await reportProgress(w.deps, t.task_id, TOKEN_A, { progress: 40, message: 'step 2 of 5', attempt: 1 });
    expect(answer).toEqual({ task_id: t.task_id, status: 'running', heartbeat_deadline: new Date(w.clock.now() + 60_000).toISOString() });
    expect(await getTask(w.deps, t.task_id)).toMatchObject({
      status: 'running',
      progress: 40,
      progress_message: 'step 2 of 5',
      last_progress_at: w.clock.iso(),
    });

    w.clock.advance(50_000); // 100 s after the accept, 50 s after the progress: alive
    expect((await sweep()).attempts_ended).toBe(0);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'running' });

    w.clock.advance(11_000); // 61 s of silence
    expect((await sweep()).attempts_ended).toBe(1);
    const lost = (await w.tasks.get(t.task_id))!;
    expect(lost).toMatchObject({ status: 'retrying', failed_agents: [A] });
    expect(lost.error).toContain('no progress for heartbeat_timeout_seconds (60 s)');
    expect(await inFlight(A)).toBe(0);
    expect(w.queue.sent.map((m) => m.taskId)).toEqual([t.task_id]);
    // Swept once: the attempt left the cache's set.
    expect((await sweep()).attempts_ended).toBe(0);

    await expect(reportProgress(w.deps, t.task_id, TOKEN_A, { progress: 90 })).rejects.toMatchObject({
      status: 409,
      code: 'attempt_ended',
    });
    await expect(reportResult(w.deps, t.task_id, TOKEN_A, { status: 'completed', result: 1 })).rejects.toMatchObject({ status: 409 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'retrying', attempts: 1 });
  });

  it('a keep-alive (no progress, no message) moves the deadline in the cache alone, and keeps the attempt alive', async () => {
    const t = await acceptedTask({ timeout_seconds: 600, heartbeat_timeout_seconds: 60 });
    const before = (await w.tasks.get(t.task_id))!;
    w.clock.advance(50_000);
    expect(await reportProgress(w.deps, t.task_id, TOKEN_A, {})).toMatchObject({ status: 'running' });
    expect(await w.tasks.get(t.task_id)).toEqual(before);
    w.clock.advance(20_000); // the stored deadline has passed, the cache's has not: the table's sweep leaves it too
    expect((await reconcile(w.deps, 0)).attempts_ended).toBe(0);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'running' });
    w.clock.advance(41_000);
    expect((await sweep()).attempts_ended).toBe(1);
  });

  it('past its overall deadline an attempt that keeps reporting progress times out', async () => {
    const t = await acceptedTask({ timeout_seconds: 120, max_retries: 0, heartbeat_timeout_seconds: 60 });
    for (let i = 0; i < 3; i++) {
      w.clock.advance(40_000);
      await reportProgress(w.deps, t.task_id, TOKEN_A, {});
    }
    await sweep();
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'timeout' });
    expect(await inFlight(A)).toBe(0);
  });

  it('with the cache down, the table’s sweep ends an attempt whose agent went silent', async () => {
    w = world({}, { cacheDown: true });
    agentA = await w.agent({ agent_id: A, name: 'cost-a', token_hash: agentTokenHash(TOKEN_A) });
    const t = await acceptedTask({ timeout_seconds: 600, max_retries: 0 });
    w.clock.advance(61_000);
    expect(await reconcile(w.deps, 0)).toMatchObject({ attempts_ended: 1, requeued: 0 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'failed' });
  });
});

describe('cancel of an accepted task', () => {
  it('a cancel while the delivery was on its way: the agent that then accepts is told, and its slot freed', async () => {
    const t = await w.task();
    w.agentClient.answer(async () => {
      await cancelTask(w.deps, t.task_id);
      return accepted();
    });
    expect(await dispatch(t)).toMatchObject({ outcome: 'done', status: 'cancelled' });
    expect(w.agentClient.cancelNotices).toEqual([{ agentId: A, taskId: t.task_id, attempt: 1 }]);
    expect(await inFlight(A)).toBe(0);
  });

  it('frees the slot, tells the agent, and a late report changes nothing (409)', async () => {
    const t = await acceptedTask();
    await cancelTask(w.deps, t.task_id);
    expect(await inFlight(A)).toBe(0);
    expect(w.agentClient.cancelNotices).toEqual([{ agentId: A, taskId: t.task_id, attempt: 1 }]);
    await expect(reportResult(w.deps, t.task_id, TOKEN_A, { status: 'completed', result: 1 })).rejects.toMatchObject({ status: 409 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'cancelled' });
    expect(agentA.agent_id).toBe(A);
  });
});
