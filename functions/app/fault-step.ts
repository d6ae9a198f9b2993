/**
 * The state machine's Catch path: a step itself failed (Lambda error, or the Task state's own
 * timeout). An attempt in flight counts as failed; otherwise the step is tried again a few times
 * before the task is failed, so every execution still ends with the task in a terminal state. A
 * step that failed after its agent answered (AnswerNotStoredError) fails the task: the attempt is
 * never delivered again.
 */
import { TASK_METRIC } from '@optiinfra/contract';
import { endingChange } from '../core/attempt-log';
import { isTerminal } from '../core/task-model';
import { finishTask } from './finish-task';
import {
  AnswerNotStoredError,
  done,
  handOverIfNeeded,
  loopOf,
  recordFailure,
  type StepDeps,
  type StepResult,
  type WorkflowState,
} from './workflow-step';

/** Orchestrator faults tolerated in a row before the task is failed. */
export const MAX_CONSECUTIVE_FAULTS = 3;

export async function faultStep(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  deps.metrics.count(TASK_METRIC.dispatchFaults, 'all');
  // The dispatch step that failed left no result: this step is in the same pass through the loop.
  return { ...(await handOverIfNeeded(deps, state, await recordFault(deps, state))), loop: loopOf(state) };
}

async function recordFault(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const task = await deps.tasks.get(state.task_id);
  if (!task || isTerminal(task.status)) return done(task, state.step);
  const errorName = state.fault?.Error ?? 'UnknownError';
  if (errorName === AnswerNotStoredError.NAME && (task.status === 'sent' || task.status === 'running')) {
    // The agent answered this attempt: delivering it again would run the work twice.
    const error = causeMessage(state.fault?.Cause) ?? `attempt ${task.attempts}: the agent answered, but its outcome could not be stored`;
    const failed = await finishTask(deps, task, 'failed', {
      set: { error },
      remove: ['lease_until'],
      when: { attempts: task.attempts },
      ...endingChange(task, task.attempts, { outcome: 'interrupted', error }, deps.clock.now()),
    });
    return done(failed ?? (await deps.tasks.get(task.task_id)));
  }
  const timedOut = errorName === 'States.Timeout';
  if ((task.status === 'sent' || task.status === 'running') && (task.lease_until ?? 0) > 0) {
    const why = timedOut ? 'the dispatch step exceeded its time limit' : `the dispatch step failed (${errorName})`;
    const error = `attempt ${task.attempts}: ${why}`;
    return recordFailure(
      deps,
      task,
      task.attempts,
      timedOut ? { kind: 'timed_out', error } : { kind: 'failed', error, retryable: true, health: 'neutral', outcome: 'interrupted' },
      task.agent_id,
    );
  }
  const faults = (state.step?.fault_count ?? 0) + 1;
  if (faults < MAX_CONSECUTIVE_FAULTS) {
    return {
      outcome: 'retry',
      delay_seconds: deps.settings.retryBaseDelaySeconds,
      status: task.status,
      attempts: task.attempts,
      waiting_since: state.step?.waiting_since,
      fault_count: faults,
    };
  }
  const failed = await finishTask(deps, task, 'failed', {
    set: { error: `the orchestrator could not dispatch the task (${errorName}) ${faults} times in a row` },
    when: { attempts: task.attempts },
  });
  return done(failed ?? (await deps.tasks.get(task.task_id)));
}

/** The failed step's message: Lambda passes `{"errorMessage", "errorType", ...}` as the Cause, the local engine the message itself. */
function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage.slice(0, 2_000);
  } catch {
    // not JSON: the message as it is
  }
  return cause.slice(0, 2_000);
}
