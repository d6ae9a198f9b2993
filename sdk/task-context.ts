/** What a task handler gets besides the task's parameters. */
export interface TaskContext {
  taskId: string;
  taskType: string;
  /** Delivery attempt, from 1 (the `x-optiinfra-attempt` header; 1 when absent). */
  attempt: number;
  /** When the orchestrator stops waiting for this attempt (`x-optiinfra-deadline`, else now + `timeout_seconds`). */
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
