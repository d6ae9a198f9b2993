/**
 * The submitter's callback: a finished task is POSTed to the `callback_url` it was submitted with,
 * once, from a message on the intake queue (the starter sends it), tried again with backoff through
 * delayed messages, and resumed by the reconciler from the callbacks index when a message is lost.
 */
import type { TaskChange } from '../core/ports';
import {
  afterCallbackFailure,
  CALLBACK_LEASE_MS,
  CALLBACK_TIMEOUT_MS,
  callbackWebhookId,
  MAX_CALLBACK_DELAY_SECONDS,
} from '../core/task-callback';
import { type Task, type TaskState, toStatusResponse } from '../core/task-model';
import type { Deps } from './deps';

/**
 * What the terminal write of a task with a callback adds: the callback pending, no attempt yet, and
 * its entry in the callbacks index, due at once (the reconciler resumes it if its message is lost).
 */
export function pendingCallbackChange(
  task: Pick<Task, 'callback_url'>,
  nowMs: number,
): Pick<TaskChange, 'callbackDueAt'> & { set?: Partial<TaskState> } {
  if (task.callback_url === undefined) return {};
  return { set: { callback_status: 'pending', callback_attempts: 0 }, callbackDueAt: nowMs };
}

/**
 * Puts a finished task's callback on the intake queue. A failure is only counted: the task is
 * finished either way, and the reconciler finds the callback in the index once it is overdue.
 */
export async function scheduleCallback(
  deps: Pick<Deps, 'queue' | 'metrics'>,
  task: Pick<TaskState, 'task_id' | 'agent_type' | 'callback_url'>,
  delaySeconds?: number,
): Promise<void> {
  if (task.callback_url === undefined) return;
  try {
    await deps.queue.enqueueCallback(task.task_id, delaySeconds);
  } catch {
    deps.metrics.count('CallbacksDeferred', task.agent_type);
  }
}

export type CallbackOutcome = 'sent' | 'retrying' | 'failed' | 'not_pending' | 'not_due' | 'claimed_elsewhere';

/** What one callback message did, and why its attempt failed when it did. */
export interface CallbackReport {
  outcome: CallbackOutcome;
  error?: string;
}

/**
 * Sends one attempt of the task's callback, if one is due: claimed first by a conditional write, so
 * a duplicate message or a racing reconciler never sends it twice; recorded sent once the receiver
 * answers 2xx. A failed attempt is tried again after a backoff (a delayed message) while attempts remain.
 */
export async function deliverCallback(
  deps: Pick<Deps, 'tasks' | 'callbacks' | 'callbackClient' | 'queue' | 'clock' | 'settings' | 'metrics'>,
  taskId: string,
): Promise<CallbackReport> {
  const task = await deps.tasks.get(taskId);
  if (!task?.callback_url || !task.callback_secret || task.callback_status !== 'pending') return { outcome: 'not_pending' };
  const now = deps.clock.now();
  if ((task.callback_lease_until ?? 0) > now) return { outcome: 'not_due' };
  const attempts = task.callback_attempts ?? 0;
  if (!(await deps.callbacks.claim(taskId, attempts, now, now + CALLBACK_LEASE_MS))) return { outcome: 'claimed_elsewhere' };
  const attempt = attempts + 1;
  const body = JSON.stringify(toStatusResponse(task));
  const target = { url: task.callback_url, secret: task.callback_secret };
  const answer = await deps.callbackClient.send(target, callbackWebhookId(taskId), body, CALLBACK_TIMEOUT_MS);
  if (answer.kind === 'delivered') {
    await deps.callbacks.settle(taskId, attempt, { status: 'sent', at: new Date(deps.clock.now()).toISOString() });
    deps.metrics.count('CallbacksSent', task.agent_type);
    return { outcome: 'sent' };
  }
  const next = afterCallbackFailure(attempt, answer, deps.settings.callbackPolicy);
  const error = `attempt ${attempt}: ${answer.error}`;
  if (!next.retry) {
    await deps.callbacks.settle(taskId, attempt, { status: 'failed', error });
    deps.metrics.count('CallbacksFailed', task.agent_type);
    return { outcome: 'failed', error };
  }
  const delaySeconds = Math.min(next.delaySeconds, MAX_CALLBACK_DELAY_SECONDS);
  if (await deps.callbacks.settle(taskId, attempt, { status: 'pending', error, retryAt: deps.clock.now() + delaySeconds * 1000 }))
    await scheduleCallback(deps, task, delaySeconds);
  deps.metrics.count('CallbacksRetried', task.agent_type);
  return { outcome: 'retrying', error };
}

/**
 * Puts back on the queue the pending callbacks due before `beforeMs` (all of them when undefined, at
 * start-up, when no message of the last run survives), each delayed until it is due.
 */
export async function resumeCallbacks(
  deps: Pick<Deps, 'callbacks' | 'queue' | 'clock'>,
  beforeMs: number | undefined,
  limit: number,
): Promise<string[]> {
  const due = await deps.callbacks.listDue(beforeMs, limit);
  const now = deps.clock.now();
  for (const { taskId, dueAt } of due)
    await deps.queue.enqueueCallback(taskId, Math.min(MAX_CALLBACK_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - now) / 1000))));
  return due.map((d) => d.taskId);
}
