import { describe, expect, it } from 'vitest';
import {
  afterFailedAttempt,
  type AttemptResult,
  backoffCeilingSeconds,
  classifyHttpStatus,
  healthOf,
  MAX_RETRY_AFTER_SECONDS,
  MAX_RETRY_DELAY_SECONDS,
  parseRetryAfter,
} from '../../functions/core/retry-policy';

type Failure = Exclude<AttemptResult, { kind: 'completed' }>;
const failed = (extra: Partial<Extract<Failure, { kind: 'failed' }>> = {}): Failure => ({
  kind: 'failed',
  error: 'boom',
  retryable: true,
  health: 'failure',
  ...extra,
});
const timedOut: Failure = { kind: 'timed_out', error: 'no answer' };
const completed: AttemptResult = { kind: 'completed', result: 1 };
const LOW = () => 0;
const HIGH = () => 0.999999;

describe('afterFailedAttempt: how many attempts', () => {
  it.each([[failed()], [timedOut]])('with max_retries 0 a failed first attempt is not retried (%j)', (result) => {
    expect(afterFailedAttempt(1, 0, 5, result).retry).toBe(false);
  });

  it.each(Array.from({ length: 11 }, (_, n) => [n]))('with max_retries %i a task gets exactly max_retries + 1 attempts', (maxRetries) => {
    let attempts = 1;
    for (;;) {
      const next = afterFailedAttempt(attempts, maxRetries, 5, failed());
      if (!next.retry) break;
      expect(next.status).toBe('retrying');
      attempts += 1;
      expect(attempts).toBeLessThanOrEqual(100);
    }
    expect(attempts).toBe(maxRetries + 1);
  });

  it.each([
    ['failed', failed(), 'failed'],
    ['timed out', timedOut, 'timeout'],
  ] as const)('when the last attempt %s the task ends %s', (_label, result, status) => {
    expect(afterFailedAttempt(4, 3, 5, result)).toEqual({ retry: false, status });
    expect(afterFailedAttempt(1, 0, 5, result)).toEqual({ retry: false, status });
  });

  it('a failure that is not retryable ends the task failed at once, with retries left', () => {
    expect(afterFailedAttempt(1, 10, 5, failed({ retryable: false, health: 'neutral' }))).toEqual({ retry: false, status: 'failed' });
  });

  it('attempts past the allowance (duplicate delivery) still end the task', () => {
    expect(afterFailedAttempt(9, 3, 5, failed())).toEqual({ retry: false, status: 'failed' });
  });
});

describe('afterFailedAttempt: how long to wait (full jitter)', () => {
  it.each([
    [1, 5, 5],
    [2, 5, 10],
    [3, 5, 20],
    [4, 5, 40],
    [5, 5, 80],
    [6, 5, 120],
    [10, 5, 120],
    [1, 1, 1],
    [7, 1, 64],
    [9, 1, 120],
    [1, 0, 0],
    [3, 300, 300],
    [1, 200, 200],
  ])('after attempt %i with a %i s delay the ceiling is %i s', (attempts, base, ceiling) => {
    expect(backoffCeilingSeconds(attempts, base)).toBe(ceiling);
    expect(afterFailedAttempt(attempts, 10, base, failed(), LOW)).toEqual({ retry: true, delaySeconds: 0, status: 'retrying' });
    expect(afterFailedAttempt(attempts, 10, base, failed(), HIGH)).toEqual({ retry: true, delaySeconds: ceiling, status: 'retrying' });
  });

  it(`the cap is ${MAX_RETRY_DELAY_SECONDS} s unless the task's own delay is longer`, () => {
    expect(MAX_RETRY_DELAY_SECONDS).toBe(120);
  });

  it('the wait is spread between 0 and the ceiling, not always the same', () => {
    const waits = new Set(
      Array.from({ length: 11 }, (_, i) => afterFailedAttempt(3, 10, 5, failed(), () => i / 11)).map((n) =>
        n.retry ? n.delaySeconds : -1,
      ),
    );
    expect(waits.size).toBeGreaterThan(8);
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(0);
    for (const w of waits) expect(w).toBeLessThanOrEqual(20);
  });

  it.each([
    ['raises a shorter jittered wait', 1, 0, 30, 30],
    ['does not shorten a longer one', 3, 0.999999, 2, 20],
    ['is capped', 1, 0, 100_000, MAX_RETRY_AFTER_SECONDS],
  ])("an agent's Retry-After %s", (_label, attempts, r, retryAfter, expected) => {
    expect(afterFailedAttempt(attempts, 10, 5, failed({ retryAfterSeconds: retryAfter, health: 'neutral' }), () => r)).toEqual({
      retry: true,
      delaySeconds: expected,
      status: 'retrying',
    });
  });

  it('a timed-out attempt with retries left is retried, not ended', () => {
    expect(afterFailedAttempt(2, 3, 5, timedOut, HIGH)).toEqual({ retry: true, delaySeconds: 10, status: 'retrying' });
  });
});

describe('classifyHttpStatus', () => {
  it.each([
    [500, undefined, true, 'failure'],
    [502, undefined, true, 'failure'],
    [504, undefined, true, 'failure'],
    [503, undefined, true, 'failure'],
    [503, 5, true, 'neutral'],
    [429, undefined, true, 'neutral'],
    [429, 2, true, 'neutral'],
    [408, undefined, true, 'failure'],
    [401, undefined, true, 'failure'],
    [403, undefined, true, 'failure'],
    [400, undefined, false, 'neutral'],
    [404, undefined, false, 'neutral'],
    [409, undefined, false, 'neutral'],
    [422, undefined, false, 'neutral'],
    [400, 5, false, 'neutral'],
    [302, undefined, true, 'failure'],
  ])('HTTP %i (Retry-After %s): retryable %s, health %s', (status, retryAfter, retryable, health) => {
    expect(classifyHttpStatus(status, retryAfter)).toEqual({ retryable, health });
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['absent', undefined, undefined],
    ['seconds', '7', 7],
    ['seconds with spaces', ' 12 ', 12],
    ['zero', '0', 0],
    ['seconds above the cap', '86400', MAX_RETRY_AFTER_SECONDS],
    ['an HTTP date 30 s ahead', 'Thu, 01 Jan 2026 00:00:30 GMT', 30],
    ['an HTTP date in the past', 'Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['garbage', 'soon', undefined],
    ['a negative number', '-5', undefined],
    ['a fraction', '1.5', undefined],
  ])('%s', (_label, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('healthOf', () => {
  it.each([
    [completed, 'success'],
    [timedOut, 'failure'],
    [failed(), 'failure'],
    [failed({ health: 'neutral' }), 'neutral'],
  ])('%j → %s', (result, expected) => {
    expect(healthOf(result)).toBe(expected);
  });
});
