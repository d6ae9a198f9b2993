/**
 * The state machine's dispatch step (dispatchStep, functions/app/dispatch.ts) on the in-memory
 * stores and cache, a fake clock and an agent client that answers what each test scripts: one
 * attempt, retries with backoff on another agent, waiting for a free agent until the queue timeout,
 * races with a cancel and with another invocation, and the hand-over from Express to Standard.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispatchStep } from '../../functions/app/dispatch';
import { cancelTask } from '../../functions/app/tasks';
import type { StepResult, WorkflowState } from '../../functions/app/workflow-step';
import type { AgentRecord } from '../../functions/core/agent-model';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import type { Task } from '../../functions/core/task-model';
import { completed, failed, timedOut, type World, world, stateOf } from './world';

const A = '00000000-0000-5000-8000-00000000000a';
const B = '00000000-0000-5000-8000-00000000000b';

let w: World;
beforeEach(() => {
  w = world();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The state the state machine passes to a step: the task, its limits, and the last step's result. */
function state(t: Task, step?: StepResult, extra: Partial<WorkflowState> = {}): WorkflowState {
  return { task_id: t.task_id, state_timeout_seconds: t.timeout_seconds + STEP_OVERHEAD_SECONDS, ...(step ? { step } : {}), ...extra };
}

/** Takes `agent`'s every slot for other work, until long after the test. */
async function fill(agent: AgentRecord): Promise<void> {
  for (let i = 0; i < agent.max_concurrency; i++) {
    const answer = await w.cache.acquireSlot({
      agentType: agent.type,
      pool: `other-${i}`,
      taskId: `other-${i}`,
      score: 0,
      nowMs: w.clock.now(),
      queueDeadlineMs: w.clock.now() + 3_600_000,
      token: 'fill',
      leaseUntilMs: w.clock.now() + 3_600_000,
      eligible: [{ agentId: agent.agent_id, capacity: agent.max_concurrency, tier: 0 }],
    });
    expect(answer?.kind).toBe('acquired');
  }
}

const inFlight = async (agentId: string) => (await w.cache.inFlight([{ agentId, type: 'cost' }], w.clock.now()))?.get(agentId);

describe('dispatchStep', () => {
  it('completes on the first attempt: the agent gets the task, the result is stored and kept hot, the slot freed, and it is counted', async () => {
    const agent = await w.agent({ agent_id: A, name: 'cost-a', host: '10.0.1.12', port: 8080 });
    const t = await w.task({ parameters: { month: '2026-05' }, metadata: { team: 'finops' }, priority: 10 });
    const start = w.clock.now();
    w.agentClient.answer(async () => {
      expect(await inFlight(A)).toBe(1);
      w.clock.advance(3_000);
      return completed({ total: 42 });
    });

    expect(await dispatchStep(w.stepDeps, state(t))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'completed',
      attempts: 1,
      fault_count: 0,
      loop: 1,
    });

    expect(w.agentClient.deliveries).toEqual([
      {
        target: { agentId: A, host: '10.0.1.12', port: 8080, scheme: 'http', signingSecret: agent.signing_secret },
        request: {
          task_id: t.task_id,
          task_type: 'analyze_cost',
          parameters: { month: '2026-05' },
          timeout_seconds: 30,
          priority: 10,
          metadata: { team: 'finops' },
          heartbeat_timeout_seconds: 60,
        },
        attempt: 1,
        deadlineMs: start + 30_000,
      },
    ]);
    const stored = (await w.tasks.get(t.task_id))!;
    expect(stored).toMatchObject({
      status: 'completed',
      result: { total: 42 },
      attempts: 1,
      agent_id: A,
      started_at: new Date(start).toISOString(),
      completed_at: w.clock.iso(),
      expires_at: Math.floor(w.clock.now() / 1000) + w.settings.taskRetentionDays * 86_400,
      routing: { attempt: 1, agent_id: A, agent_name: 'cost-a', candidates: 1, eligible: 1, decided_at: new Date(start).toISOString() },
    });
    expect('lease_until' in stored).toBe(false);
    expect(await w.cache.getResult(t.task_id)).toMatchObject({ status: 'completed', result: { total: 42 } });
    expect(await inFlight(A)).toBe(0);
    expect(w.metrics.totals()).toEqual({ TasksCompleted: 1 });
    expect(w.metrics.timings).toEqual([{ name: 'DispatchLatency', ms: 3_000, agentType: 'cost' }]);
  });

  it('retries a failed attempt after a backoff that doubles, on another agent, and records the agents that failed', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    await w.agent({ agent_id: A, name: 'cost-a' });
    await w.agent({ agent_id: B, name: 'cost-b', port: 8081 });
    const t = await w.task({ retry_delay_seconds: 5, max_retries: 3 });
    w.agentClient.answer(failed('HTTP 500'), failed('HTTP 502'), completed('third time'));

    const first = await dispatchStep(w.stepDeps, state(t));
    expect(first).toEqual({ outcome: 'retry', delay_seconds: 5, status: 'retrying', attempts: 1, fault_count: 0, loop: 1 });
    const firstAgent = w.agentClient.deliveries[0]!.target.agentId;
    const firstName = firstAgent === A ? 'cost-a' : 'cost-b';
    const afterFirst = (await w.tasks.get(t.task_id))!;
    expect(afterFirst).toMatchObject({
      status: 'retrying',
      attempts: 1,
      failed_agents: [firstAgent],
      error: `attempt 1 on agent ${firstName} (${firstAgent}): HTTP 500`,
    });
    expect('lease_until' in afterFirst).toBe(false);

    w.clock.advance(5_000);
    const second = await dispatchStep(w.stepDeps, state(t, first));
    const secondAgent = w.agentClient.deliveries[1]!.target.agentId;
    expect(secondAgent).not.toBe(firstAgent);
    expect(second).toEqual({ outcome: 'retry', delay_seconds: 10, status: 'retrying', attempts: 2, fault_count: 0, loop: 2 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ failed_agents: [firstAgent, secondAgent] });

    w.clock.advance(10_000);
    expect(await dispatchStep(w.stepDeps, state(t, second))).toMatchObject({ outcome: 'done', status: 'completed', attempts: 3 });
    expect(w.agentClient.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ result: 'third time', failed_agents: [firstAgent, secondAgent] });
    expect(w.metrics.totals()).toEqual({ TasksRetried: 2, TasksCompleted: 1 });
  });

  it("waits no less than the agent's Retry-After", async () => {
    await w.agent({ agent_id: A });
    const t = await w.task();
    w.agentClient.answer({ kind: 'failed', error: 'HTTP 429', retryable: true, health: 'neutral', retryAfterSeconds: 90 });
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'retry', delay_seconds: 90 });
  });

  it('ends the task failed at once when another attempt could not help', async () => {
    await w.agent({ agent_id: A, name: 'cost-a' });
    const t = await w.task();
    w.agentClient.answer(failed('HTTP 400: month is required', false));
    expect(await dispatchStep(w.stepDeps, state(t))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'failed',
      attempts: 1,
      fault_count: 0,
      loop: 1,
    });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'failed',
      error: `attempt 1 on agent cost-a (${A}): HTTP 400: month is required`,
      failed_agents: [A],
      completed_at: w.clock.iso(),
    });
    expect(await w.cache.getResult(t.task_id)).toMatchObject({ status: 'failed' });
    expect(w.metrics.totals()).toEqual({ TasksFailed: 1 });
  });

  it('retries an attempt that timed out; when the last one times out too, the task ends as timeout', async () => {
    await w.agent({ agent_id: A, name: 'cost-a' });
    const t = await w.task({ max_retries: 1 });
    w.agentClient.answer(timedOut(), timedOut('no answer within 30 s'));
    const first = await dispatchStep(w.stepDeps, state(t));
    expect(first).toMatchObject({ outcome: 'retry', status: 'retrying', attempts: 1 });
    w.clock.advance(first.delay_seconds * 1000);
    expect(await dispatchStep(w.stepDeps, state(t, first))).toMatchObject({ outcome: 'done', status: 'timeout', attempts: 2 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'timeout',
      error: `attempt 2 on agent cost-a (${A}): no answer within 30 s`,
      failed_agents: [A, A],
    });
    expect(w.metrics.totals()).toEqual({ TasksRetried: 1, TasksTimedOut: 1 });
  });

  it('with the cache down, waits while every agent is busy (looking again each poll), then fails the task once its queue_timeout_seconds has passed on the clock, saying why', async () => {
    w = world({}, { cacheDown: true });
    // Without the cache, loads come from the agents' heartbeats.
    await w.agent({ agent_id: A, max_concurrency: 1, in_flight: 1 });
    const t = await w.task({ queue_timeout_seconds: 20 });
    const since = w.clock.now();

    const first = await dispatchStep(w.stepDeps, state(t));
    expect(first).toEqual({
      outcome: 'wait',
      delay_seconds: w.settings.agentPollSeconds,
      status: 'queued',
      attempts: 0,
      waiting_since: since,
      fault_count: 0,
      loop: 1,
    });
    w.clock.advance(19_999);
    const second = await dispatchStep(w.stepDeps, state(t, first));
    expect(second).toMatchObject({ outcome: 'wait', waiting_since: since });
    w.clock.advance(1);
    expect(await dispatchStep(w.stepDeps, state(t, second))).toMatchObject({ outcome: 'done', status: 'failed', attempts: 0 });

    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'failed',
      error:
        'no agent became available within the queue timeout of 20 s (every eligible agent of type "cost" with capability "analyze_cost" is at its max_concurrency); add or free agents, or submit with a longer queue_timeout_seconds',
    });
    expect(w.agentClient.deliveries).toEqual([]);
    expect(w.metrics.totals()).toEqual({ TasksFailed: 1 });
  });

  it('with the cache down, a task of high priority looks for a free agent twice as often', async () => {
    w = world({}, { cacheDown: true });
    await w.agent({ agent_id: A, max_concurrency: 1, in_flight: 1 });
    const t = await w.task({ priority: 10 });
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'wait', delay_seconds: w.settings.agentPollSeconds / 2 });
  });

  it('keeps a task cancelled while its agent was working: the late answer is dropped', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task();
    w.agentClient.answer(async () => {
      await cancelTask(w.deps, t.task_id);
      return completed('too late');
    });
    expect(await dispatchStep(w.stepDeps, state(t))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'cancelled',
      attempts: 1,
      fault_count: 0,
      loop: 1,
    });
    const stored = (await w.tasks.get(t.task_id))!;
    expect(stored).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    expect('result' in stored).toBe(false);
    expect(await w.cache.getResult(t.task_id)).toMatchObject({ status: 'cancelled' });
    expect(await inFlight(A)).toBe(0);
    expect(w.metrics.totals()).toEqual({ TasksCancelled: 1 });
  });

  it('waits, delivering nothing, while another invocation holds the attempt, and looks again when its lease ends', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task({ status: 'sent', attempts: 1, agent_id: A, lease_until: w.clock.now() + 7_000 });
    expect(await dispatchStep(w.stepDeps, state(t))).toEqual({
      outcome: 'wait',
      delay_seconds: w.settings.agentPollSeconds,
      status: 'sent',
      attempts: 1,
      fault_count: 0,
      loop: 1,
    });
    w.clock.advance(6_500);
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'wait', delay_seconds: 1 });
    expect(w.agentClient.deliveries).toEqual([]);
    expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));
  });

  it('counts an attempt whose lease ended with no outcome (the orchestrator was interrupted) as failed, and retries it', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task({ status: 'sent', attempts: 1, agent_id: A, lease_until: w.clock.now() - 1 });
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'retry', status: 'retrying', attempts: 1 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'retrying',
      failed_agents: [A],
      error: 'attempt 1 got no outcome before its deadline (the orchestrator was interrupted)',
    });
    expect(w.agentClient.deliveries).toEqual([]);
    expect(w.metrics.totals()).toEqual({ TasksRetried: 1 });

    const last = await w.task({ status: 'running', attempts: 4, max_retries: 3, agent_id: A, lease_until: w.clock.now() - 1 });
    expect(await dispatchStep(w.stepDeps, state(last))).toMatchObject({ outcome: 'done', status: 'failed', attempts: 4 });
  });

  it('with the cache down, on Express, hands the task to Standard (back on the intake queue) when the next wait would run into the deadline', async () => {
    w = world({}, { cacheDown: true });
    await w.agent({ agent_id: A, max_concurrency: 1, in_flight: 1 });
    const t = await w.task({ priority: 3 });
    const deadline = { express_deadline_ms: w.clock.now() + 60_000 };
    // Waiting 2 s, then a step of up to 50 s, ends before the deadline.
    const first = await dispatchStep(w.stepDeps, state(t, undefined, deadline));
    expect(first).toMatchObject({ outcome: 'wait', delay_seconds: 2 });
    expect(w.queue.sent).toEqual([]);

    w.clock.advance(8_001);
    expect(await dispatchStep(w.stepDeps, state(t, first, deadline))).toEqual({
      outcome: 'done',
      handed_over: true,
      delay_seconds: 2,
      status: 'queued',
      attempts: 0,
      waiting_since: first.waiting_since,
      fault_count: 0,
      loop: 2,
    });
    expect(w.queue.sent).toEqual([{ taskId: t.task_id, priority: 5 }]);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'queued' });
    expect(w.metrics.totals()).toEqual({ HandedOverToStandard: 1 });
  });

  it('parks a task on Express instead of handing it over: its execution ends, and nothing waits in it', async () => {
    await fill(await w.agent({ agent_id: A, max_concurrency: 1 }));
    const t = await w.task({ priority: 3 });
    const ended = await dispatchStep(w.stepDeps, state(t, undefined, { express_deadline_ms: w.clock.now() + 60_000 }));
    expect(ended).toEqual({ outcome: 'done', parked: true, delay_seconds: 0, status: 'queued', attempts: 0, fault_count: 0, loop: 1 });
    expect(w.queue.sent).toEqual([]);
    expect(w.metrics.totals()).toEqual({});
  });

  it('on Express, hands over a retry whose delay would run into the deadline', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task();
    w.agentClient.answer({ kind: 'failed', error: 'HTTP 503', retryable: true, health: 'neutral', retryAfterSeconds: 240 });
    expect(await dispatchStep(w.stepDeps, state(t, undefined, { express_deadline_ms: w.clock.now() + 270_000 }))).toMatchObject({
      outcome: 'done',
      handed_over: true,
      status: 'retrying',
      attempts: 1,
    });
    expect(w.queue.sent.map((m) => m.taskId)).toEqual([t.task_id]);
    expect(w.metrics.totals()).toEqual({ TasksRetried: 1, HandedOverToStandard: 1 });
  });

  it("reads the task a moment old only in an execution's first step, and its payload only to deliver it", async () => {
    await w.agent({ agent_id: A });
    const t = await w.task({ parameters: { n: 1 } });
    const reads: string[] = [];
    const get = w.tasks.get.bind(w.tasks);
    const payload = w.tasks.payload.bind(w.tasks);
    vi.spyOn(w.tasks, 'get').mockImplementation((id, options) => {
      reads.push(`get consistent=${options?.consistent ?? true}`);
      return get(id, options);
    });
    vi.spyOn(w.tasks, 'payload').mockImplementation((id) => {
      reads.push('payload');
      return payload(id);
    });
    w.agentClient.answer(failed('HTTP 500'), completed());
    const first = await dispatchStep(w.stepDeps, state(t));
    expect(first).toMatchObject({ outcome: 'retry', attempts: 1 });
    expect(reads).toEqual(['get consistent=false', 'payload']);
    await dispatchStep(w.stepDeps, state(t, first));
    expect(reads.slice(2)).toEqual(['get consistent=true', 'payload']);
    expect(w.agentClient.deliveries.map((d) => d.request.parameters)).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it('fails the task, delivering nothing, when its payload is no longer stored', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task({ max_retries: 3 });
    // A mock: no store call loses a payload; only TTL does, past the task's retention and a month more.
    vi.spyOn(w.tasks, 'payload').mockResolvedValue(undefined);
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'done', status: 'failed', attempts: 1 });
    expect(w.agentClient.deliveries).toEqual([]);
    expect((await w.tasks.get(t.task_id))?.error).toContain("the task's parameters are no longer stored");
    expect(await inFlight(A)).toBe(0);
  });

  it('ends the execution for a finished task, or one that is gone', async () => {
    const t = await w.task({ status: 'completed', attempts: 2 });
    expect(await dispatchStep(w.stepDeps, state(t))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'completed',
      attempts: 2,
      fault_count: 0,
      loop: 1,
    });
    const gone = { ...t, task_id: 'f0000000-0000-4000-8000-000000000000' };
    const prev: StepResult = { outcome: 'retry', delay_seconds: 5, status: 'retrying', attempts: 3, fault_count: 0 };
    expect(await dispatchStep(w.stepDeps, state(gone, prev))).toMatchObject({ outcome: 'done', status: 'gone', attempts: 3 });
    expect(w.agentClient.deliveries).toEqual([]);
  });

  it('on Standard, hands the task to its next execution before a pass that could take the history past the budget', async () => {
    const small = world({ historyBudget: 200 });
    await small.agent({ agent_id: A });
    const t = await small.task();
    const prev: StepResult = { outcome: 'wait', delay_seconds: 2, status: 'queued', attempts: 0, fault_count: 0, loop: 2 };
    expect(await dispatchStep(small.stepDeps, state(t, prev, { generation: 1 }))).toEqual({
      outcome: 'done',
      handed_over: true,
      delay_seconds: 0,
      status: 'queued',
      attempts: 0,
      fault_count: 0,
      loop: 3,
    });
    // Nothing delivered: the next generation runs the step, at once.
    expect(small.agentClient.deliveries).toEqual([]);
    expect(small.queue.sent).toEqual([{ taskId: t.task_id, priority: 5, continuation: { generation: 2 } }]);
    expect(small.metrics.totals()).toEqual({ ContinuedAsNew: 1 });
    // An Express execution has no history limit (it ends at 5 minutes): it runs the step.
    small.agentClient.answer(completed());
    const express = await dispatchStep(small.stepDeps, state(t, prev, { express_deadline_ms: small.clock.now() + 270_000 }));
    expect(express).toMatchObject({ outcome: 'done', status: 'completed', loop: 3 });
  });
});
