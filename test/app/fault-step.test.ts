/**
 * The state machine's Catch path (faultStep, functions/app/fault-step.ts) on the in-memory stores,
 * cache and a fake clock: a step itself failed. An attempt in flight counts as failed; otherwise
 * the step is tried again, and the task fails after three faults in a row.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { dispatchStep } from '../../functions/app/dispatch';
import { faultStep, MAX_CONSECUTIVE_FAULTS } from '../../functions/app/fault-step';
import type { StepResult, WorkflowState } from '../../functions/app/workflow-step';
import type { Task } from '../../functions/core/task-model';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import { completed, type World, world, stateOf } from './world';

const A = '00000000-0000-5000-8000-00000000000a';

let w: World;
beforeEach(() => {
  w = world();
});

function state(t: Task, fault: WorkflowState['fault'], step?: StepResult, extra: Partial<WorkflowState> = {}): WorkflowState {
  return {
    task_id: t.task_id,
    state_timeout_seconds: t.timeout_seconds + STEP_OVERHEAD_SECONDS,
    fault,
    ...(step ? { step } : {}),
    ...extra,
  };
}

describe('faultStep', () => {
  it('counts an attempt in flight as failed and retries the task', async () => {
    const t = await w.task({ status: 'sent', attempts: 1, agent_id: A, lease_until: w.clock.now() + 30_000 });
    expect(await faultStep(w.stepDeps, state(t, { Error: 'Lambda.Unknown', Cause: 'out of memory' }))).toMatchObject({
      outcome: 'retry',
      status: 'retrying',
      attempts: 1,
      fault_count: 0,
    });
    const stored = (await w.tasks.get(t.task_id))!;
    expect(stored).toMatchObject({ status: 'retrying', failed_agents: [A], error: 'attempt 1: the dispatch step failed (Lambda.Unknown)' });
    expect('lease_until' in stored).toBe(false);
    expect(w.metrics.totals()).toEqual({ DispatchFaults: 1, TasksRetried: 1 });
    expect(w.metrics.counts[0]).toEqual({ name: 'DispatchFaults', agentType: 'all', value: 1 });
  });

  it('counts an attempt whose step hit its time limit as timed out; on the last attempt the task ends as timeout', async () => {
    const t = await w.task({ status: 'running', attempts: 1, max_retries: 0, agent_id: A, lease_until: w.clock.now() + 30_000 });
    expect(await faultStep(w.stepDeps, state(t, { Error: 'States.Timeout' }))).toMatchObject({
      outcome: 'done',
      status: 'timeout',
      attempts: 1,
    });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'timeout',
      error: 'attempt 1: the dispatch step exceeded its time limit',
      failed_agents: [A],
      completed_at: w.clock.iso(),
    });
    expect(w.metrics.totals()).toEqual({ DispatchFaults: 1, TasksTimedOut: 1 });
  });

  it(`with no attempt in flight, tries the step again twice, then fails the task after ${MAX_CONSECUTIVE_FAULTS} faults in a row`, async () => {
    const t = await w.task();
    const waiting: StepResult = {
      outcome: 'wait',
      delay_seconds: 2,
      status: 'queued',
      attempts: 0,
      waiting_since: w.clock.now() - 5_000,
      fault_count: 0,
    };
    const fault = { Error: 'Lambda.ServiceException' };

    const first = await faultStep(w.stepDeps, state(t, fault, waiting));
    expect(first).toEqual({
      outcome: 'retry',
      delay_seconds: w.settings.retryBaseDelaySeconds,
      status: 'queued',
      attempts: 0,
      waiting_since: waiting.waiting_since,
      fault_count: 1,
      loop: 1,
    });
    const second = await faultStep(w.stepDeps, state(t, fault, first));
    expect(second).toMatchObject({ outcome: 'retry', fault_count: 2, waiting_since: waiting.waiting_since });
    expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));

    expect(await faultStep(w.stepDeps, state(t, fault, second))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'failed',
      attempts: 0,
      fault_count: 0,
      loop: 3,
    });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'failed',
      error: 'the orchestrator could not dispatch the task (Lambda.ServiceException) 3 times in a row',
    });
    expect(w.metrics.totals()).toEqual({ DispatchFaults: 3, TasksFailed: 1 });
  });

  it('names an unknown fault UnknownError', async () => {
    const t = await w.task();
    const first = await faultStep(w.stepDeps, state(t, undefined));
    const second = await faultStep(w.stepDeps, state(t, {}, first));
    await faultStep(w.stepDeps, state(t, {}, second));
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      error: 'the orchestrator could not dispatch the task (UnknownError) 3 times in a row',
    });
  });

  it('after a dispatch step crashed mid-attempt (its slot freed), counts the attempt failed, and the next step delivers again', async () => {
    await w.agent({ agent_id: A });
    const t = await w.task();
    w.agentClient.answer(async () => {
      throw new Error('socket hang up in the client itself');
    });
    await expect(dispatchStep(w.stepDeps, { task_id: t.task_id, state_timeout_seconds: 50 })).rejects.toThrow('socket hang up');
    expect((await w.cache.inFlight([{ agentId: A, type: 'cost' }], w.clock.now()))?.get(A)).toBe(0);
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'sent', attempts: 1, lease_until: expect.any(Number) });

    const retry = await faultStep(w.stepDeps, state(t, { Error: 'Error', Cause: 'socket hang up in the client itself' }));
    expect(retry).toMatchObject({ outcome: 'retry', status: 'retrying', attempts: 1 });
    w.clock.advance(retry.delay_seconds * 1000);
    w.agentClient.answer(completed());
    expect(await dispatchStep(w.stepDeps, { task_id: t.task_id, state_timeout_seconds: 50, step: retry })).toMatchObject({
      outcome: 'done',
      status: 'completed',
      attempts: 2,
    });
  });

  it('ends the execution for a finished task', async () => {
    const t = await w.task({ status: 'cancelled', attempts: 1 });
    expect(await faultStep(w.stepDeps, state(t, { Error: 'Lambda.Unknown' }))).toEqual({
      outcome: 'done',
      delay_seconds: 0,
      status: 'cancelled',
      attempts: 1,
      fault_count: 0,
      loop: 1,
    });
    expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));
  });

  it('on Express, hands the task to Standard when the retry would run into the deadline', async () => {
    const t = await w.task();
    const out = await faultStep(
      w.stepDeps,
      state(t, { Error: 'Lambda.Unknown' }, undefined, { express_deadline_ms: w.clock.now() + 30_000 }),
    );
    expect(out).toMatchObject({ outcome: 'done', handed_over: true, status: 'queued', fault_count: 1 });
    expect(w.queue.sent.map((m) => m.taskId)).toEqual([t.task_id]);
  });
});
