/** The one way a task reaches a terminal status: completed, failed, timeout or cancelled. */
import { shortError } from '../core/activity';
import { TASK_METRIC } from '@optiinfra/contract';
import type { TaskChange } from '../core/ports';
import { type Task, type TaskState, type TerminalStatus, toStatusResponse } from '../core/task-model';
import type { Deps } from './deps';
import { pendingCallbackChange, scheduleCallback } from './task-callbacks';

const METRIC: Record<TerminalStatus, string> = {
  completed: TASK_METRIC.completed,
  failed: TASK_METRIC.failed,
  timeout: TASK_METRIC.timedOut,
  cancelled: TASK_METRIC.cancelled,
};

export function retentionExpiry(nowMs: number, retentionDays: number): number {
  return Math.floor(nowMs / 1000) + retentionDays * 86_400;
}

/**
 * Moves the task to `status` with a conditional write (so it happens once, whoever races it), stamped
 * `completed_at` and due for deletion after the retention period; then keeps the answer hot in the
 * cache, wakes the requests waiting for it, counts it, and queues the submitter's callback if it asked for one. Undefined when the write's condition did not hold: the task had already moved on.
 */
export async function finishTask(
  deps: Pick<Deps, 'tasks' | 'cache' | 'clock' | 'settings' | 'metrics' | 'queue' | 'activity'>,
  task: Pick<Task, 'task_id' | 'agent_type' | 'callback_url'>,
  status: TerminalStatus,
  change: Omit<TaskChange, 'expiresAt' | 'callbackDueAt'>,
): Promise<TaskState | undefined> {
  const now = deps.clock.now();
  const callback = pendingCallbackChange(task, now);
  const finished = await deps.tasks.transition(task.task_id, status, {
    ...change,
    set: { ...change.set, ...callback.set, completed_at: new Date(now).toISOString() },
    expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
    callbackDueAt: callback.callbackDueAt,
  });
  if (!finished) return undefined;
  await deps.cache.putResult(toStatusResponse(finished), deps.settings.resultTtlSeconds);
  // After the result is cached, so a reader it wakes (GET /tasks/{id}?wait=N) finds it there.
  await deps.cache.announceFinished(task.task_id, status);
  deps.metrics.count(METRIC[status], task.agent_type);
  const error = status === 'completed' || finished.error === undefined ? {} : { error: shortError(finished.error) };
  const duration_ms = now - Date.parse(finished.created_at);
  deps.activity.emit({ kind: 'task', event: status, task_id: task.task_id, attempts: finished.attempts, duration_ms, ...error });
  await scheduleCallback(deps, finished);
  return finished;
}
