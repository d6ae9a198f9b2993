/**
 * An agent answered, but its answer cannot be stored: the dispatch and fault steps on the
 * in-memory stores (which refuse what DynamoDB refuses, held to it by the store contract). A result
 * the task store cannot keep fails the task after one delivery, saying where and why; a store that
 * refuses the completed task's write fails the task too. Neither delivers the attempt again.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { dispatchStep } from '../../functions/app/dispatch';
import { faultStep } from '../../functions/app/fault-step';
import { AnswerNotStoredError, type StepDeps, type WorkflowState } from '../../functions/app/workflow-step';
import { storeError } from '../../functions/adapters/memory-items';
import type { TaskChange, TaskStore } from '../../functions/core/ports';
import type { Task, TaskState, TaskStatus } from '../../functions/core/task-model';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import { completed, type World, world } from './world';

const A = '00000000-0000-5000-8000-00000000000a';

let w: World;
beforeEach(async () => {
  w = world();
  await w.agent({ agent_id: A, name: 'cost-a' });
});

const state = (t: Task, fault?: WorkflowState['fault']): WorkflowState => ({
  task_id: t.task_id,
  state_timeout_seconds: t.timeout_seconds + STEP_OVERHEAD_SECONDS,
  ...(fault ? { fault } : {}),
});

/** The in-memory store, except that moves to the statuses in `refused` fail as a DynamoDB write can (item too large). */
class RefusingTaskStore implements TaskStore {
  constructor(
    private readonly inner: TaskStore,
    readonly refused: Set<TaskStatus>,
  ) {}
  create = (task: Task) => this.inner.create(task);
  get = (taskId: string) => this.inner.get(taskId);
  payload = (taskId: string) => this.inner.payload(taskId);
  list: TaskStore['list'] = (filter) => this.inner.list(filter);
  listByStatus: TaskStore['listByStatus'] = (statuses, options) => this.inner.listByStatus(statuses, options);
  async transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<TaskState | undefined> {
    if (this.refused.has(to)) throw storeError('ValidationException', 'Item size has exceeded the maximum allowed size');
    return this.inner.transition(taskId, to, change);
  }
}

describe('an answer the task store cannot keep', () => {
  it.each([
    ['2^64', '{"total":18446744073709551616}', 'result.total is 18446744073709552000 as a double, beyond ±9007199254740991'],
    ['1e400', '{"rows":[{"cost":1e400}]}', 'result.rows.0.cost is not a finite number'],
    ['a nested __proto__ key', '{"a":{"__proto__":{"admin":true}}}', 'result.a.__proto__ is a key named "__proto__"'],
    ['a top-level __proto__ key', '{"__proto__":1}', 'result.__proto__ is a key named "__proto__"'],
  ])('a result holding %s fails the task after one delivery, without retry, saying where and why', async (_label, json, why) => {
    const t = await w.task({ max_retries: 3 });
    w.agentClient.answer(completed(JSON.parse(json)));
    expect(await dispatchStep(w.stepDeps, state(t))).toMatchObject({ outcome: 'done', status: 'failed', attempts: 1 });
    const stored = await w.tasks.get(t.task_id);
    expect(stored).toMatchObject({ status: 'failed', attempts: 1, failed_agents: [A] });
    expect(stored?.error).toMatch(new RegExp(`^attempt 1 on agent cost-a \\(${A}\\): `));
    expect(stored?.error).toContain(`the agent's result cannot be stored: ${why}`);
    expect(stored?.error).toMatch(/\(not retried\)$/);
    expect('result' in stored!).toBe(false);
    expect(w.agentClient.deliveries).toHaveLength(1);
    expect(w.metrics.total('TasksFailed')).toBe(1);
  });

  it('fails the task, not delivered again, when the store refuses the completed task', async () => {
    const t = await w.task({ max_retries: 3 });
    const tasks = new RefusingTaskStore(w.tasks, new Set(['completed']));
    w.agentClient.answer(completed({ ok: true }));
    expect(await dispatchStep({ ...w.stepDeps, tasks }, state(t))).toMatchObject({ outcome: 'done', status: 'failed', attempts: 1 });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'failed',
      error: `attempt 1 on agent cost-a (${A}): the agent answered, but the orchestrator could not store its result (ValidationException: Item size has exceeded the maximum allowed size); not retried, as the agent did the work`,
    });
    expect(w.agentClient.deliveries).toHaveLength(1);
  });

  it('when even the failure cannot be written, the step throws AnswerNotStoredError, and the fault step fails the task instead of delivering it again', async () => {
    const t = await w.task({ max_retries: 3 });
    const tasks = new RefusingTaskStore(w.tasks, new Set(['completed', 'failed']));
    const deps: StepDeps = { ...w.stepDeps, tasks };
    w.agentClient.answer(completed({ ok: true }));
    const thrown = await dispatchStep(deps, state(t)).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(AnswerNotStoredError);
    const err = thrown as AnswerNotStoredError;
    expect(err.name).toBe('AnswerNotStoredError');
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'sent', attempts: 1 });

    // The state machine's Catch passes the error's name and message on; the store works again.
    tasks.refused.clear();
    expect(await faultStep(deps, state(t, { Error: err.name, Cause: err.message }))).toMatchObject({ outcome: 'done', status: 'failed' });
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'failed', attempts: 1, error: err.message });
    expect(w.agentClient.deliveries).toHaveLength(1);
  });

  it('the fault step reads the message out of a Lambda error Cause', async () => {
    const t = await w.task({ status: 'sent', attempts: 2, agent_id: A, lease_until: w.clock.now() + 30_000 });
    const Cause = JSON.stringify({
      errorType: 'AnswerNotStoredError',
      errorMessage: 'attempt 2 on agent cost-a: could not store',
      trace: [],
    });
    expect(await faultStep(w.stepDeps, state(t, { Error: 'AnswerNotStoredError', Cause }))).toMatchObject({
      outcome: 'done',
      status: 'failed',
    });
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: 'attempt 2 on agent cost-a: could not store',
    });
    expect(w.agentClient.deliveries).toHaveLength(0);
  });
});
