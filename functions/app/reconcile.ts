/** Drives stranded tasks again: the reconciler's sweep, and the local runtime's recovery at start. */
import { PRIORITY, type TaskStatus } from '../core/task-model';
import { type AcceptedDeps, endOverdueAttempts } from './accepted-attempts';

const UNFINISHED: readonly TaskStatus[] = ['pending', 'queued', 'sent', 'running', 'retrying'];

/**
 * Finds unfinished tasks that nothing drives and puts them on the intake queue again. A task
 * parked in the cache is driven by the next freed slot, not by the reconciler: it goes back only
 * when its queue timeout has passed (its execution then fails it) or when it was handed a slot and
 * its wake-up never came (the slot's reservation ended unused). Any other task goes back when it
 * was not updated for `staleAfterSeconds` and has no attempt in flight. With 0, every unfinished
 * task that is not parked goes back: used at start-up, when no execution of the last run survives
 * (an attempt that was in flight is then written off once its lease ends). Starting is idempotent
 * on Standard, and the dispatcher's conditional lease keeps a duplicate from delivering twice.
 * An attempt an agent accepted (202) is driven by no execution: once past its heartbeat deadline or
 * its overall deadline it is ended here (retried elsewhere, or timed out), from the cache's sorted
 * sets of due attempts and from the table's listing (the path that works with the cache down).
 * `limit` is per status (oldest tasks first) and per agent type of the cache's sweep.
 */
export async function reconcile(
  deps: AcceptedDeps,
  staleAfterSeconds: number,
  limit = 1000,
): Promise<{ requeued: number; task_ids: string[]; overdue: number; lost_wake_ups: number; attempts_ended: number }> {
  const now = deps.clock.now();
  // A task both the cache's sweep and the table's listing name goes back once.
  const taskIds = new Set<string>();
  const requeue = async (taskId: string, priority: number) => {
    if (taskIds.has(taskId)) return;
    await deps.queue.enqueue(taskId, priority);
    taskIds.add(taskId);
  };
  // The cache's own sweep: O(log n + k) per agent type, whatever the number of waiting tasks.
  const sweep = await deps.cache.sweepWaiters(now, limit);
  for (const id of [...(sweep?.overdue ?? []), ...(sweep?.lostWakeUps ?? [])]) await requeue(id, PRIORITY.normal);

  // A task last updated before the cutoff was created before it too, so fresh tasks are not even read.
  const createdBefore = staleAfterSeconds === 0 ? undefined : new Date(now - staleAfterSeconds * 1000).toISOString();
  const tasks = await deps.tasks.listByStatus(UNFINISHED, { limit, createdBefore });
  const ended = await endOverdueAttempts(deps, tasks, limit);
  const candidates = tasks.filter((task) => {
    // Accepted: its report, a cancel or the sweep above ends it; an execution would find nothing to do.
    if (task.status === 'running' && task.heartbeat_until !== undefined) return false;
    const stale = now - Date.parse(task.updated_at) >= staleAfterSeconds * 1000;
    const leaseOver = staleAfterSeconds === 0 || (task.lease_until ?? 0) < now;
    return stale && leaseOver;
  });
  // With the cache down its waiters cannot be told apart: all of them go back, as before parking.
  const waiting = await deps.cache.waiterStates(candidates.map((t) => ({ agentType: t.agent_type, taskId: t.task_id })));
  for (const task of candidates)
    if (!isWaiting(waiting?.get(task.task_id), now, staleAfterSeconds)) await requeue(task.task_id, task.priority);
  // The ids (the first 50) go to the log, so a task that was driven again can be traced.
  return {
    requeued: taskIds.size,
    task_ids: [...taskIds].slice(0, 50),
    overdue: sweep?.overdue.length ?? 0,
    lost_wake_ups: sweep?.lostWakeUps.length ?? 0,
    attempts_ended: ended.length,
  };
}

/** Parked, or woken with its slot still reserved (at start-up a wake-up of the last run is lost: it goes back). */
function isWaiting(state: { deadlineMs: number; wokenUntilMs?: number } | undefined, now: number, stale: number): boolean {
  if (!state) return false;
  if (state.wokenUntilMs === undefined) return true;
  return stale > 0 && state.wokenUntilMs > now;
}
