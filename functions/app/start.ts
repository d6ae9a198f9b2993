/** Intake: start one state machine execution per task (starter), and drive stranded tasks again (reconciler). */
import { isTerminal, type Task, type TaskStatus } from '../core/task-model';
import type { WorkflowInput } from '../core/ports';
import type { Deps } from './deps';

/** Time the dispatch step may take beyond the attempt timeout (selection, lease, recording). */
export const STEP_OVERHEAD_SECONDS = 20;

export function workflowInput(task: Pick<Task, 'task_id' | 'timeout_seconds'>): WorkflowInput {
  return { task_id: task.task_id, state_timeout_seconds: task.timeout_seconds + STEP_OVERHEAD_SECONDS };
}

export type StartResult = 'started' | 'already_running' | 'finished' | 'unknown_task';

export async function startTask(deps: Pick<Deps, 'tasks' | 'workflow' | 'clock'>, taskId: string): Promise<StartResult> {
  const task = await deps.tasks.get(taskId);
  if (!task) return 'unknown_task';
  if (isTerminal(task.status)) return 'finished';
  const outcome = await deps.workflow.start(taskId, workflowInput(task));
  if (task.status === 'pending') {
    const nowIso = new Date(deps.clock.now()).toISOString();
    await deps.tasks.transition(taskId, 'queued', { set: { queued_at: nowIso }, when: { attempts: task.attempts } });
  }
  return outcome === 'already_running' ? 'already_running' : 'started';
}

const UNFINISHED: readonly TaskStatus[] = ['pending', 'queued', 'sent', 'running', 'retrying'];

/**
 * Finds unfinished tasks that nothing seems to be driving (not updated for `staleAfterSeconds`
 * and with no attempt in flight) and puts them on the intake queue again. With 0, every unfinished
 * task goes back: used at start-up, when no execution of the last run survives (an attempt that was
 * in flight is then written off once its lease ends). Starting is idempotent, so a task whose
 * execution is alive is left alone.
 */
export async function reconcile(deps: Pick<Deps, 'tasks' | 'queue' | 'clock'>, staleAfterSeconds: number, limit = 1000): Promise<{ requeued: number }> {
  const now = deps.clock.now();
  const tasks = await deps.tasks.listByStatus(UNFINISHED, limit);
  let requeued = 0;
  for (const task of tasks) {
    const stale = now - Date.parse(task.updated_at) >= staleAfterSeconds * 1000;
    const leaseOver = staleAfterSeconds === 0 || (task.lease_until ?? 0) < now;
    if (stale && leaseOver) {
      await deps.queue.enqueue(task.task_id, task.priority);
      requeued++;
    }
  }
  return { requeued };
}
