import type { IncomingHttpHeaders } from 'node:http';
import { type AgentTaskRequest, DELIVERY_HEADERS } from '../functions/core/contract';
import type { VerifyOutcome } from './delivery-verifier';

/** What a task handler gets besides the task's parameters. */
export interface TaskContext {
  taskId: string;
  taskType: string;
  /** Delivery attempt, from 1, as the signed `webhook-id` names it (1 for an unsigned delivery). */
  attempt: number;
  /** When the orchestrator stops waiting for this attempt: the signing time plus `timeout_seconds`, at most that long from now. */
  deadline: Date;
  /** Aborted when the orchestrator hangs up, the deadline passes, or `stop()` runs out of grace. Pass it on to I/O. */
  signal: AbortSignal;
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
 * may retry. Parameters are not validated for you: parse them with a schema.
 */
export type TaskHandler = (params: Record<string, unknown>, ctx: TaskContext) => unknown;

/** The attempt a signed `webhook-id` names: the orchestrator signs `<task_id>:<attempt>`. */
function attemptOf(deliveryId: string, taskId: string): number | undefined {
  const prefix = `${taskId}:`;
  if (!deliveryId.startsWith(prefix)) return undefined;
  const rest = deliveryId.slice(prefix.length);
  return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) : undefined;
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
  now = Date.now(),
): TaskContext {
  const byTimeout = now + task.timeout_seconds * 1000;
  const signedDeadline = check.verified ? check.timestampMs + task.timeout_seconds * 1000 : undefined;
  return {
    taskId: task.task_id,
    taskType: task.task_type,
    attempt: (check.verified ? attemptOf(check.id, task.task_id) : undefined) ?? 1,
    deadline: new Date(signedDeadline !== undefined && signedDeadline > now ? Math.min(signedDeadline, byTimeout) : byTimeout),
    signal,
    priority: task.priority,
    timeoutSeconds: task.timeout_seconds,
    metadata: task.metadata,
    traceparent: firstHeader(headers, DELIVERY_HEADERS.traceparent),
    deliveryId: firstHeader(headers, DELIVERY_HEADERS.id),
    verified: check.verified,
  };
}
