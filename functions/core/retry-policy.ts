import type { AttemptOutcome } from '@optiinfra/contract';
import type { HealthSignal } from './circuit-breaker';

/** Longest wait between two attempts that the backoff itself produces. */
export const MAX_RETRY_DELAY_SECONDS = 120;
/** An agent's Retry-After is honoured up to this many seconds. */
export const MAX_RETRY_AFTER_SECONDS = 600;

/** How one attempt ended, as seen by the dispatcher. */
export type AttemptResult =
  | { kind: 'completed'; result: unknown; executionTimeMs?: number }
  | {
      /** Non-200, connection error, bad answer, or the agent said `failed`. */
      kind: 'failed';
      error: string;
      /** False for failures another attempt cannot fix: a 4xx from the agent, or `"retryable": false` in its answer. */
      retryable: boolean;
      /** What the attempt says about the agent's health (feeds its circuit breaker). */
      health: HealthSignal;
      /** From the agent's Retry-After header: wait at least this long before the next attempt. */
      retryAfterSeconds?: number;
      /** How the attempts_log names it, when not `failed` (the agent reported failure or answered off-protocol). */
      outcome?: Exclude<AttemptOutcome, 'completed' | 'timeout' | 'cancelled'>;
      /** The agent's non-200 status (outcome `http_error`). */
      httpStatus?: number;
    }
  /** No answer within the attempt's timeout_seconds. */
  | { kind: 'timed_out'; error: string };

export function healthOf(result: AttemptResult): HealthSignal {
  if (result.kind === 'completed') return 'success';
  if (result.kind === 'timed_out') return 'failure';
  return result.health;
}

/**
 * How the dispatcher reads an agent's non-200 answer.
 * - 5xx, 408: the agent is in trouble; retry, and count it against the agent.
 * - 401, 403: the agent cannot verify the orchestrator (a stale or wrong signing secret): that is the
 *   agent's state, not the task's, so another agent may take it; counted against the agent.
 * - 429, and 503 with Retry-After: back-pressure; retry no sooner than asked, and do not count it.
 * - any other 4xx: the agent refused this task; another attempt would be refused too.
 */
export function classifyHttpStatus(status: number, retryAfterSeconds: number | undefined): { retryable: boolean; health: HealthSignal } {
  if (status === 429 || (status === 503 && retryAfterSeconds !== undefined)) return { retryable: true, health: 'neutral' };
  if (status >= 500 || status === 408 || status === 401 || status === 403) return { retryable: true, health: 'failure' };
  if (status >= 400) return { retryable: false, health: 'neutral' };
  // 1xx/3xx (redirects are not followed): the agent answered something the protocol does not know.
  return { retryable: true, health: 'failure' };
}

/** Parses a Retry-After header: delay-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_SECONDS, Number(trimmed));
  // An HTTP date names its day and month ("Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse alone would also take "-5" or "1.5".
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (!Number.isFinite(date)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((date - nowMs) / 1000)));
}

export type AfterFailure = { retry: true; delaySeconds: number; status: 'retrying' } | { retry: false; status: 'failed' | 'timeout' };

/** The ceiling of the wait before attempt `attempts + 1`: the task's delay doubling per attempt, capped. */
export function backoffCeilingSeconds(attempts: number, baseDelaySeconds: number): number {
  return Math.min(Math.max(MAX_RETRY_DELAY_SECONDS, baseDelaySeconds), baseDelaySeconds * 2 ** Math.max(0, attempts - 1));
}

/**
 * A failed or timed-out attempt is retried while attempts remain (max_retries + 1 in all) and the
 * failure is retryable. The wait is exponential backoff with full jitter (uniform between 0 and the
 * ceiling, so tasks that failed together do not return together), and never shorter than the
 * agent's Retry-After. The last attempt decides the terminal status: `timeout` if it got no answer
 * in time, else `failed`.
 */
export function afterFailedAttempt(
  attempts: number,
  maxRetries: number,
  baseDelaySeconds: number,
  result: Exclude<AttemptResult, { kind: 'completed' }>,
  random: () => number = Math.random,
): AfterFailure {
  const retryable = result.kind === 'timed_out' || result.retryable;
  if (retryable && attempts < maxRetries + 1) {
    const jittered = Math.round(random() * backoffCeilingSeconds(attempts, baseDelaySeconds));
    const retryAfter = result.kind === 'failed' ? (result.retryAfterSeconds ?? 0) : 0;
    return { retry: true, delaySeconds: Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_SECONDS)), status: 'retrying' };
  }
  return { retry: false, status: result.kind === 'timed_out' ? 'timeout' : 'failed' };
}
