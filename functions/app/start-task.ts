/** Intake: start one state machine execution per task (the starter). */
import { isTerminal, type Task } from '../core/task-model';
import type { WorkflowInput } from '../core/ports';
import {
  chooseWorkflow,
  EXPRESS_LIMIT_SECONDS,
  EXPRESS_SAFETY_SECONDS,
  STEP_OVERHEAD_SECONDS,
  type WorkflowKind,
} from '../core/workflow-choice';
import type { Deps } from './deps';

export function workflowInput(task: Pick<Task, 'task_id' | 'timeout_seconds'>, kind: WorkflowKind, nowMs: number): WorkflowInput {
  const input: WorkflowInput = { task_id: task.task_id, state_timeout_seconds: task.timeout_seconds + STEP_OVERHEAD_SECONDS };
  if (kind === 'express') input.express_deadline_ms = nowMs + (EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS) * 1000;
  return input;
}

export type StartResult = 'started' | 'already_running' | 'finished' | 'unknown_task';

/**
 * Starts the task's execution, named by the task id. A task with no attempt in flight (a first start,
 * a parked task woken by a freed slot, a re-drive of one that waits) picks Express or Standard as a
 * first start does: waiting no longer happens inside an execution, so it need not fit in Express's
 * 5 minutes. A task driven again with an attempt in flight (after a restart or a lost execution)
 * goes to Standard, which has no time limit.
 */
export async function startTask(deps: Pick<Deps, 'tasks' | 'workflow' | 'clock' | 'settings'>, taskId: string): Promise<StartResult> {
  const task = await deps.tasks.get(taskId);
  if (!task) return 'unknown_task';
  if (isTerminal(task.status)) return 'finished';
  const now = deps.clock.now();
  const kind =
    task.status === 'sent' || task.status === 'running'
      ? 'standard'
      : chooseWorkflow(task, deps.settings.workflowMode, task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds);
  const outcome = await deps.workflow.start(kind, taskId, workflowInput(task, kind, now));
  if (task.status === 'pending') {
    await deps.tasks.transition(taskId, 'queued', {
      set: { queued_at: new Date(now).toISOString(), workflow: kind },
      when: { attempts: task.attempts },
    });
  }
  return outcome === 'already_running' ? 'already_running' : 'started';
}
