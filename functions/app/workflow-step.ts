/**
 * What the state machine's steps exchange, and what both of them (dispatch and fault) do: end the
 * execution, record a failed attempt, and hand a task from Express over to Standard.
 */
import { shortError } from '../core/activity';
import { TASK_METRIC } from '@optiinfra/contract';
import { type EndedAttempt, endedOf, endingChange } from '../core/attempt-log';
import type { CachedAgentStore } from '../core/ports';
import { afterFailedAttempt, type AttemptResult } from '../core/retry-policy';
import { PRIORITY, type TaskState, type TaskStatus } from '../core/task-model';
import { mustHandOver } from '../core/workflow-choice';
import { mustContinueAsNew } from '../core/workflow-history';
import type { Deps } from './deps';
import { finishTask } from './finish-task';

/**
 * The dispatch step's error when an agent answered but neither its outcome nor the failure to
 * store it could be written. The state machine's Catch passes the name on to the fault step
 * (`$.fault.Error`), which then fails the task instead of delivering the attempt again.
 */
export class AnswerNotStoredError extends Error {
  static readonly NAME = 'AnswerNotStoredError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = AnswerNotStoredError.NAME;
  }
}

/** Lease slack beyond the attempt deadline, covering the write of the outcome. */
export const LEASE_GRACE_MS = 5_000;

/** What the state machine's Choice routes on. */
export type StepOutcome = 'retry' | 'wait' | 'done';

export interface StepResult {
  outcome: StepOutcome;
  /** Seconds for the next Wait state (RetryDelay or WaitForAgent). */
  delay_seconds: number;
  status: TaskStatus | 'gone';
  attempts: number;
  /** When this execution started waiting for a free agent (ms since epoch), carried between steps. */
  waiting_since?: number;
  /** Consecutive failures of the orchestrator's own steps. */
  fault_count: number;
  /** Set when this (Express) execution gave the task to a Standard execution and ends here. */
  handed_over?: true;
  /** Set when the execution ends because the task is parked in the cache until a freed slot wakes it. */
  parked?: true;
  /** The execution's pass through the loop this step ran in (1 for its first): what its history is counted by. */
  loop?: number;
}

export interface WorkflowState {
  task_id: string;
  state_timeout_seconds: number;
  express_deadline_ms?: number;
  generation?: number;
  step?: StepResult;
  fault?: { Error?: string; Cause?: string };
}

/** What a step uses; the agent registry may answer from a recent read (CachingAgentStore). */
export type StepDeps = Pick<Deps, 'tasks' | 'cache' | 'agentClient' | 'clock' | 'settings' | 'metrics' | 'queue' | 'activity'> & {
  agents: CachedAgentStore;
};

/** The execution ends: the task is finished, gone, or driven by another execution. */
export function done(task: TaskState | undefined, prev?: StepResult): StepResult {
  return {
    outcome: 'done',
    delay_seconds: 0,
    status: task?.status ?? 'gone',
    attempts: task?.attempts ?? prev?.attempts ?? 0,
    fault_count: 0,
  };
}

export type FailedAttempt = Exclude<AttemptResult, { kind: 'completed' }>;

/** Records the failed attempt `attempts` of a task that is `sent` (ending its attempts_log entry as `logged`), deciding retry or the end. */
export async function recordFailure(
  deps: StepDeps,
  task: TaskState,
  attempts: number,
  failure: FailedAttempt,
  agentId: string | undefined,
  logged: EndedAttempt = endedOf(failure),
): Promise<StepResult> {
  const next = afterFailedAttempt(attempts, task.max_retries, task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds, failure);
  const change = {
    set: { error: failure.error },
    remove: ['lease_until'] as Array<keyof TaskState>,
    when: { attempts },
    appendFailedAgent: agentId,
    ...endingChange(task, attempts, logged, deps.clock.now()),
  };
  if (!next.retry) {
    const finished = await finishTask(deps, task, next.status, change);
    return done(finished ?? (await deps.tasks.get(task.task_id)));
  }
  const updated = await deps.tasks.transition(task.task_id, 'retrying', change);
  if (!updated) return done(await deps.tasks.get(task.task_id));
  deps.metrics.count(TASK_METRIC.retried, task.agent_type);
  const retrying = { task_id: task.task_id, attempt: attempts, error: shortError(failure.error), delay_seconds: next.delaySeconds };
  deps.activity.emit({ kind: 'task', event: 'retrying', ...retrying });
  return { outcome: 'retry', delay_seconds: next.delaySeconds, status: 'retrying', attempts, fault_count: 0 };
}

/**
 * An Express execution ends at 5 minutes. Before it sleeps into that limit (long waits for agents,
 * late retries) it puts the task back on the intake queue and ends: the starter starts a Standard
 * execution for a task that is no longer pending, and that carries on from the task's stored state.
 * (The dispatcher cannot start the Standard machine itself: that machine's definition names the
 * dispatcher, so the reference would be circular.)
 */
export async function handOverIfNeeded(deps: StepDeps, state: WorkflowState, result: StepResult): Promise<StepResult> {
  const { express_deadline_ms, state_timeout_seconds } = state;
  if (result.outcome === 'done' || !mustHandOver(express_deadline_ms, deps.clock.now(), result.delay_seconds, state_timeout_seconds)) {
    return result;
  }
  await deps.queue.enqueue(state.task_id, PRIORITY.normal);
  deps.metrics.count('HandedOverToStandard', 'all');
  return { ...result, outcome: 'done', handed_over: true };
}

/** The pass through the loop a step runs in: one more than the previous step's (whose result the state carries). */
export function loopOf(state: WorkflowState): number {
  return (state.step?.loop ?? 0) + 1;
}

/**
 * A Standard execution whose next pass could take its history past the budget hands the task to the
 * next generation of executions, through the intake queue, before running the step: that one runs it
 * at once (the wait before this step is over). Undefined when the execution carries on.
 */
export async function continueAsNewIfNeeded(deps: StepDeps, state: WorkflowState): Promise<StepResult | undefined> {
  const loop = loopOf(state);
  if (state.express_deadline_ms !== undefined || !mustContinueAsNew(loop, deps.settings.historyBudget)) return undefined;
  await deps.queue.enqueue(state.task_id, PRIORITY.normal, { generation: (state.generation ?? 0) + 1 });
  deps.metrics.count('ContinuedAsNew', 'all');
  const prev = state.step;
  return {
    outcome: 'done',
    delay_seconds: 0,
    status: prev?.status ?? 'pending',
    attempts: prev?.attempts ?? 0,
    fault_count: 0,
    handed_over: true,
    loop,
  };
}
