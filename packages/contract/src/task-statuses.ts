/** Task statuses, priorities and defaults (DESIGN.md §3; the seed's JSON names): what clients and the API share. */

export const TASK_STATUSES = ['pending', 'queued', 'sent', 'running', 'retrying', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES = ['completed', 'failed', 'timeout', 'cancelled'] as const satisfies readonly TaskStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly TaskStatus[]).includes(status);
}

/** Named levels of the seed; any integer from 1 to 15 is accepted, higher runs first. */
export const PRIORITY = { low: 1, normal: 5, high: 10, critical: 15 } as const;
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 15;

export const TASK_DEFAULTS = {
  timeoutSeconds: 30,
  /** An attempt's overall limit: beyond maxSyncWaitSeconds only an agent that accepts (202) can use it. */
  maxTimeoutSeconds: 43_200,
  /** The longest the dispatcher waits for an agent's HTTP answer (a result, or a 202). */
  maxSyncWaitSeconds: 300,
  /** How long an agent that accepted may stay silent (no progress) before it loses the attempt. */
  heartbeatTimeoutSeconds: 60,
  minHeartbeatTimeoutSeconds: 5,
  maxHeartbeatTimeoutSeconds: 3600,
  maxRetries: 3,
  maxMaxRetries: 10,
  firstRetryDelaySeconds: 5,
  maxRetryDelaySeconds: 300,
  queueTimeoutSeconds: 300,
  maxQueueTimeoutSeconds: 86_400,
  resultTtlSeconds: 3600,
  priority: PRIORITY.normal,
} as const;

/**
 * How one attempt ended, in a task's `attempts_log`: `failed` is the agent reporting failure (or an
 * answer the protocol does not accept), `http_error` a non-200 answer (its `http_status` alongside),
 * `unreachable` a refused or broken connection, `lost` an accepted attempt whose agent stopped
 * reporting, `interrupted` an attempt the orchestrator itself lost track of.
 */
export const ATTEMPT_OUTCOMES = [
  'completed',
  'failed',
  'http_error',
  'timeout',
  'unreachable',
  'lost',
  'cancelled',
  'interrupted',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** Longest `error` and routing `reason` an attempts_log entry keeps: the log's size is bounded per task. */
export const ATTEMPT_LOG_LIMITS = { errorChars: 300, reasonChars: 160 } as const;
