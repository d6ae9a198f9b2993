/** Intake: start one state machine execution per task (the starter). */
import type { Continuation, FirstStart, WorkflowInput } from '../core/ports';
import { isTerminal, syncWaitSeconds, type Task } from '../core/task-model';
import {
  chooseWorkflow,
  EXPRESS_LIMIT_SECONDS,
  EXPRESS_SAFETY_SECONDS,
  STEP_OVERHEAD_SECONDS,
  type WorkflowKind,
} from '../core/workflow-choice';
import type { Deps } from './deps';

export function workflowInput(task: Pick<Task, 'task_id' | 'timeout_seconds'>, kind: WorkflowKind, nowMs: number): WorkflowInput {
  const input: WorkflowInput = { task_id: task.task_id, state_timeout_seconds: syncWaitSeconds(task) + STEP_OVERHEAD_SECONDS };
  if (kind === 'express') input.express_deadline_ms = nowMs + (EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS) * 1000;
  return input;
}

/** What submit decides for the task's first execution, so that the starter neither reads nor writes the task. */
export function firstStartOf(
  task: Pick<Task, 'timeout_seconds' | 'max_retries' | 'retry_delay_seconds'>,
  settings: Pick<Deps['settings'], 'workflowMode' | 'retryBaseDelaySeconds'>,
): FirstStart {
  const workflow = chooseWorkflow(task, settings.workflowMode, task.retry_delay_seconds ?? settings.retryBaseDelaySeconds);
  return { workflow, timeout_seconds: task.timeout_seconds };
}

export type StartResult = 'started' | 'already_running' | 'finished' | 'unknown_task';

/**
 * Starts the task's execution, named by the task id. A first start (`firstStart`, decided at submit)
 * starts Express or Standard without reading or writing the task: the task stays `pending` until its
 * first attempt is `sent`, and the execution's first step reads it. Any other start reads the task.
 * One with no attempt in flight (a parked task woken by a freed slot, a re-drive of one that waits,
 * a hand-over) picks Express or Standard as a first start does: waiting no longer happens inside an
 * execution, so it need not fit in Express's 5 minutes. A task driven again with an attempt in
 * flight (after a restart or a lost execution) goes to Standard, which has no time limit. A
 * Continuation (a Standard execution near its history budget) starts its generation on Standard,
 * named `<task id>.<generation>`, a name the execution that handed over does not hold. Any other
 * start on Standard finds the task's running generation, or starts the one after the last.
 */
export async function startTask(
  deps: Pick<Deps, 'tasks' | 'workflow' | 'clock' | 'settings'>,
  taskId: string,
  start?: FirstStart | Continuation,
): Promise<StartResult> {
  const now = deps.clock.now();
  if (start && !('generation' in start)) {
    const input = workflowInput({ task_id: taskId, timeout_seconds: start.timeout_seconds }, start.workflow, now);
    const outcome = await deps.workflow.start(start.workflow, taskId, input);
    return outcome === 'already_running' ? 'already_running' : 'started';
  }
  const task = await deps.tasks.get(taskId);
  if (!task) return 'unknown_task';
  if (isTerminal(task.status)) return 'finished';
  if (start) {
    const input = { ...workflowInput(task, 'standard', now), generation: start.generation };
    const outcome = await deps.workflow.start('standard', taskId, input);
    return outcome === 'already_running' ? 'already_running' : 'started';
  }
  const kind =
    task.status === 'sent' || task.status === 'running'
      ? 'standard'
      : chooseWorkflow(task, deps.settings.workflowMode, task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds);
  const outcome = await deps.workflow.start(kind, taskId, workflowInput(task, kind, now));
  return outcome === 'already_running' ? 'already_running' : 'started';
}
