import type { IncomingHttpHeaders } from 'node:http';
import { type AgentTaskRequest, DELIVERY_HEADERS } from '@optiinfra/contract';
import type { VerifyOutcome } from './delivery-verifier.js';

/** What a task handler gets besides the task's parameters. */
export interface TaskContext {
  taskId: string;
  taskType: string;
  /** Delivery attempt, from 1, as the signed `webhook-id` names it (1 for an unsigned delivery). */
  attempt: number;
  /** When the orchestrator stops waiting for this attempt: the signing time plus `timeout_seconds`, at most that long from now. */
  deadline: Date;
  /**
   * Aborted when the deadline passes, `stop()` runs out of grace, the orchestrator hangs up (synchronous
   * handlers) or, for long-running handlers, when the orchestrator cancels the task (a cancel notice)
   * or answers a progress or report with 409 or 403 `not_your_attempt` (the attempt is over). Pass it on to I/O.
   */
  signal: AbortSignal;
  /**
   * Long-running handlers: tells the orchestrator how far the task is (`pct` 0-100, `message` up to
   * 500 characters) and extends the attempt's heartbeat deadline. Never rejects; a 409 aborts
   * `signal`. Synchronous handlers: does nothing (their answer is their only report).
   */
  progress(pct?: number, message?: string): Promise<void>;
  /** True when the handler was declared `{ longRunning: true }`: the agent answered 202 and reports the result itself. */
  longRunning: boolean;
  priority: number;
  timeoutSeconds: number;
  metadata: Record<string, unknown>;
  /** W3C trace context of the delivery, to continue the trace. */
  traceparent: string | undefined;
  /** The delivery's `webhook-id` ("<task_id>:<attempt>"): the same only when one attempt is delivered again, so a key to de-duplicate on. */
  deliveryId: string | undefined;
  /** True when the delivery carried a valid signature from the orchestrator. */
  verified: boolean;
}

/**
 * Runs one task. The resolved value becomes the TaskResponse `result` (it must be JSON-serializable);
 * a throw becomes HTTP 500 with `status: "failed"` and the error's message, which the orchestrator
 * may retry (for a long-running handler: a `failed` report, retryable unless the error says
 * `retryable === false`). Parameters are not validated for you: parse them with a schema.
 */
export type TaskHandler = (params: Record<string, unknown>, ctx: TaskContext) => unknown;

/** How a task type is served: `longRunning` answers the delivery 202 at once and reports the result with POST /tasks/{id}/result. */
export interface HandlerOptions {
  longRunning?: boolean;
  /**
   * Long-running handlers: send a progress (without `pct`) when none was sent for half the heartbeat
   * timeout, so a working agent is not declared dead. Default true; false for a handler that calls
   * `ctx.progress()` often enough itself (or a test that plays a silent agent).
   */
  keepAlive?: boolean;
}

export interface RegisteredHandler {
  handler: TaskHandler;
  longRunning: boolean;
  keepAlive: boolean;
}

const noProgress = (): Promise<void> => Promise.resolve();

/** The attempt a signed `webhook-id` names: the orchestrator signs `<task_id>:<attempt>`. */
function attemptOf(deliveryId: string, taskId: string): number | undefined {
  const prefix = `${taskId}:`;
  if (!deliveryId.startsWith(prefix)) return undefined;
  const rest = deliveryId.slice(prefix.length);
  return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) : undefined;
}

/** The attempt of a delivery: from its signed `webhook-id`, else 1. */
export function deliveryAttempt(taskId: string, check: VerifyOutcome & { ok: true }): number {
  return (check.verified ? attemptOf(check.id, taskId) : undefined) ?? 1;
}

export function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What the handler is told about a delivery. Only signed values count: the webhook-id names the
 * attempt, and the signing time plus the signed timeout_seconds is the deadline. Bounding it by
 * timeout_seconds from now keeps a skewed agent clock from aborting every task at once or letting
 * one run past the attempt timeout.
 */
export function taskContextOf(
  task: AgentTaskRequest,
  check: VerifyOutcome & { ok: true },
  headers: IncomingHttpHeaders,
  signal: AbortSignal,
  progress?: TaskContext['progress'],
  now = Date.now(),
): TaskContext {
  const byTimeout = now + task.timeout_seconds * 1000;
  const signedDeadline = check.verified ? check.timestampMs + task.timeout_seconds * 1000 : undefined;
  return {
    taskId: task.task_id,
    taskType: task.task_type,
    attempt: deliveryAttempt(task.task_id, check),
    deadline: new Date(signedDeadline !== undefined && signedDeadline > now ? Math.min(signedDeadline, byTimeout) : byTimeout),
    signal,
    progress: progress ?? noProgress,
    longRunning: progress !== undefined,
    priority: task.priority,
    timeoutSeconds: task.timeout_seconds,
    metadata: task.metadata,
    traceparent: firstHeader(headers, DELIVERY_HEADERS.traceparent),
    deliveryId: firstHeader(headers, DELIVERY_HEADERS.id),
    verified: check.verified,
  };
}
