/** Intake: start one state machine execution per task (starter), and drive stranded tasks again (reconciler). */
import { isTerminal, type Task, type TaskStatus } from '../core/task-model';
import type { WorkflowInput } from '../core/ports';
import { chooseWorkflow, EXPRESS_LIMIT_SECONDS, EXPRESS_SAFETY_SECONDS, STEP_OVERHEAD_SECONDS, type WorkflowKind } from '../core/workflow-choice';
import type { Deps } from './deps';

export function workflowInput(task: Pick<Task, 'task_id' | 'timeout_seconds'>, kind: WorkflowKind, nowMs: number): WorkflowInput {
  const input: WorkflowInput = { task_id: task.task_id, state_timeout_seconds: task.timeout_seconds + STEP_OVERHEAD_SECONDS };
  if (kind === 'express') input.express_deadline_ms = nowMs + (EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS) * 1000;
  return input;
}

export type StartResult = 'started' | 'already_running' | 'finished' | 'unknown_task';

/**
 * Starts the task's execution, named by the task id. A first start picks Express or Standard; a task
 * driven again (after a restart or a lost execution) always goes to Standard, which has no time limit.
 */
export async function startTask(deps: Pick<Deps, 'tasks' | 'workflow' | 'clock' | 'settings'>, taskId: string): Promise<StartResult> {
  const task = await deps.tasks.get(taskId);
  if (!task) return 'unknown_task';
  if (isTerminal(task.status)) return 'finished';
  const now = deps.clock.now();
  const kind = task.status === 'pending' ? chooseWorkflow(task, deps.settings.workflowMode, task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds) : 'standard';
  const outcome = await deps.workflow.start(kind, taskId, workflowInput(task, kind, now));
  if (task.status === 'pending') {
    await deps.tasks.transition(taskId, 'queued', { set: { queued_at: new Date(now).toISOString(), workflow: kind }, when: { attempts: task.attempts } });
  }
  return outcome === 'already_running' ? 'already_running' : 'started';
}

const UNFINISHED: readonly TaskStatus[] = ['pending', 'queued', 'sent', 'running', 'retrying'];

/**
 * Finds unfinished tasks that nothing seems to be driving (not updated for `staleAfterSeconds`
 * and with no attempt in flight) and puts them on the intake queue again. With 0, every unfinished
 * task goes back: used at start-up, when no execution of the last run survives (an attempt that was
 * in flight is then written off once its lease ends). Starting is idempotent, so a task whose
 * execution is alive is left alone. `limit` is per status, oldest tasks first.
 */
export async function reconcile(deps: Pick<Deps, 'tasks' | 'queue' | 'clock'>, staleAfterSeconds: number, limit = 1000): Promise<{ requeued: number; task_ids: string[] }> {
  const now = deps.clock.now();
  // A task last updated before the cutoff was created before it too, so fresh tasks are not even read.
  const createdBefore = staleAfterSeconds === 0 ? undefined : new Date(now - staleAfterSeconds * 1000).toISOString();
  const tasks = await deps.tasks.listByStatus(UNFINISHED, { limit, createdBefore });
  const taskIds: string[] = [];
  for (const task of tasks) {
    const stale = now - Date.parse(task.updated_at) >= staleAfterSeconds * 1000;
    const leaseOver = staleAfterSeconds === 0 || (task.lease_until ?? 0) < now;
    if (stale && leaseOver) {
      await deps.queue.enqueue(task.task_id, task.priority);
      taskIds.push(task.task_id);
    }
  }
  // The ids (the first 50) go to the log, so a task that was driven again can be traced.
  return { requeued: taskIds.length, task_ids: taskIds.slice(0, 50) };
}
