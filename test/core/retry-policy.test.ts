import { describe, expect, it } from 'vitest';
import { afterFailedAttempt, agentPollSeconds, MAX_RETRY_DELAY_SECONDS } from '../../functions/core/retry-policy';

describe('afterFailedAttempt', () => {
  it.each([['failed' as const], ['timed_out' as const]])('with max_retries 0 a %s first attempt is not retried', (kind) => {
    expect(afterFailedAttempt(1, 0, 5, kind).retry).toBe(false);
  });

  it.each(Array.from({ length: 11 }, (_, n) => [n]))('with max_retries %i a task gets exactly max_retries + 1 attempts', (maxRetries) => {
    let attempts = 1;
    for (;;) {
      const next = afterFailedAttempt(attempts, maxRetries, 5, 'failed');
      if (!next.retry) break;
      expect(next.status).toBe('retrying');
      attempts += 1;
      expect(attempts).toBeLessThanOrEqual(100);
    }
    expect(attempts).toBe(maxRetries + 1);
  });

  it.each([
    [1, 5],
    [2, 10],
    [3, 20],
    [4, 40],
    [5, 60],
    [6, 60],
    [10, 60],
  ])('after attempt %i the retry waits %i seconds (5 doubling, capped at 60)', (attempts, delay) => {
    expect(afterFailedAttempt(attempts, 10, 5, 'failed')).toEqual({ retry: true, delaySeconds: delay, status: 'retrying' });
  });

  it('the cap is one minute', () => {
    expect(MAX_RETRY_DELAY_SECONDS).toBe(60);
  });

  it.each([
    [1, 1, 1],
    [1, 2, 2],
    [1, 7, 60],
    [0, 3, 0],
    [1.5, 2, 3],
    [100, 1, 60],
  ])('with base %f seconds attempt %i waits %i seconds', (base, attempts, delay) => {
    const next = afterFailedAttempt(attempts, 10, base, 'timed_out');
    expect(next).toEqual({ retry: true, delaySeconds: delay, status: 'retrying' });
  });

  it.each([
    ['failed', 'failed'],
    ['timed_out', 'timeout'],
  ] as const)('when the last attempt %s the task ends %s', (kind, status) => {
    expect(afterFailedAttempt(4, 3, 5, kind)).toEqual({ retry: false, status });
    expect(afterFailedAttempt(1, 0, 5, kind)).toEqual({ retry: false, status });
  });

  it('a timed-out attempt with retries left is retried, not ended', () => {
    expect(afterFailedAttempt(2, 3, 5, 'timed_out')).toEqual({ retry: true, delaySeconds: 10, status: 'retrying' });
  });

  it('attempts past the allowance (duplicate delivery) still end the task', () => {
    expect(afterFailedAttempt(9, 3, 5, 'failed')).toEqual({ retry: false, status: 'failed' });
  });
});

describe('agentPollSeconds', () => {
  it.each([
    [1, 10, 10],
    [5, 10, 10],
    [9, 10, 10],
    [10, 10, 5],
    [15, 10, 5],
    [10, 3, 2],
    [15, 1, 1],
    [5, 0, 1],
    [5, 0.2, 1],
    [5, 2.6, 3],
  ])('priority %i with a %f-second base polls every %i seconds', (priority, base, expected) => {
    expect(agentPollSeconds(priority, base)).toBe(expected);
  });

  it('high and critical work never polls less often than normal work', () => {
    for (const base of [1, 2, 5, 10, 30]) {
      for (let p = 1; p <= 15; p++) expect(agentPollSeconds(p, base)).toBeLessThanOrEqual(agentPollSeconds(1, base));
    }
  });
});
