/** Drives stranded tasks again: the reconciler's sweep, and the local runtime's recovery at start. */
import type { TaskStatus } from '../core/task-model';
import type { Deps } from './deps';

const UNFINISHED: readonly TaskStatus[] = ['pending', 'queued', 'sent', 'running', 'retrying'];

/**
 * Finds unfinished tasks that nothing seems to be driving (not updated for `staleAfterSeconds`
 * and with no attempt in flight) and puts them on the intake queue again. With 0, every unfinished
 * task goes back: used at start-up, when no execution of the last run survives (an attempt that was
 * in flight is then written off once its lease ends). Starting is idempotent, so a task whose
 * execution is alive is left alone. `limit` is per status, oldest tasks first.
 */
export async function reconcile(
  deps: Pick<Deps, 'tasks' | 'queue' | 'clock'>,
  staleAfterSeconds: number,
  limit = 1000,
): Promise<{ requeued: number; task_ids: string[] }> {
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
