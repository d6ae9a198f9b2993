import type { TaskStatus } from './task-model';

export const MAX_RETRY_DELAY_SECONDS = 60;

/** How one attempt ended, as seen by the dispatcher. */
export type AttemptResult =
  | { kind: 'completed'; result: unknown; executionTimeMs?: number }
  /** Non-200, connection error, bad answer, or the agent said `failed`. */
  | { kind: 'failed'; error: string }
  /** No answer within the attempt's timeout_seconds. */
  | { kind: 'timed_out'; error: string };

export type AfterFailure = { retry: true; delaySeconds: number; status: 'retrying' } | { retry: false; status: TaskStatus };

/**
 * A failed or timed-out attempt is retried while attempts remain (max_retries + 1 in all), after
 * `baseDelaySeconds` doubling each time up to a minute. The last attempt decides the terminal
 * status: `timeout` if it got no answer in time, else `failed`.
 */
export function afterFailedAttempt(attempts: number, maxRetries: number, baseDelaySeconds: number, kind: 'failed' | 'timed_out'): AfterFailure {
  if (attempts < maxRetries + 1) {
    const delaySeconds = Math.min(MAX_RETRY_DELAY_SECONDS, Math.round(baseDelaySeconds * 2 ** Math.max(0, attempts - 1)));
    return { retry: true, delaySeconds, status: 'retrying' };
  }
  return { retry: false, status: kind === 'timed_out' ? 'timeout' : 'failed' };
}

/** How long a waiting task sleeps before it looks for a free agent again; critical work looks more often. */
export function agentPollSeconds(priority: number, baseSeconds: number): number {
  return Math.max(1, Math.round(priority >= 10 ? baseSeconds / 2 : baseSeconds));
}
