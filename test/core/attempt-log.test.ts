import { describe, expect, it } from 'vitest';
import { ATTEMPT_LOG_LIMITS } from '@optiinfra/contract';
import { acceptedEntry, bounded, canAppend, endedOf, endEntry, entryOf, startedEntry } from '../../functions/core/attempt-log';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const agent = { agent_id: 'agent-1', name: 'cost-a' };

describe('attempts_log entries', () => {
  it('starts an entry with the agent, a routing reason cut to its limit, and the start time', () => {
    const entry = startedEntry(2, agent, 'r'.repeat(1_000), NOW);
    expect(entry).toEqual({
      attempt: 2,
      agent_id: 'agent-1',
      agent_name: 'cost-a',
      reason: expect.any(String),
      started_at: '2026-06-15T12:00:00.000Z',
    });
    expect(entry.reason).toHaveLength(ATTEMPT_LOG_LIMITS.reasonChars);
    expect(entry.reason.endsWith('…')).toBe(true);
    expect(startedEntry(1, agent, 'least loaded', NOW).reason).toBe('least loaded');
  });

  it('bounds text by marking the cut, and leaves short text as it is', () => {
    expect(bounded('abc', 3)).toBe('abc');
    expect(bounded('abcd', 3)).toBe('ab…');
  });

  it('holds at most max_retries + 1 entries, one per attempt', () => {
    const log = [startedEntry(1, agent, 'x', NOW), startedEntry(2, agent, 'x', NOW)];
    expect(canAppend({ max_retries: 2 }, 1)).toBe(true);
    expect(canAppend({ max_retries: 2, attempts_log: log }, 3)).toBe(true);
    expect(canAppend({ max_retries: 1, attempts_log: log }, 3)).toBe(false);
    expect(canAppend({ max_retries: 5, attempts_log: log }, 2)).toBe(false);
  });

  it('ends the open entry of the attempt by its index, with outcome, latency, status and a bounded error', () => {
    const log = [{ ...startedEntry(1, agent, 'x', NOW), outcome: 'timeout' as const }, startedEntry(2, agent, 'y', NOW + 1_000)];
    const ended = endEntry({ attempts_log: log }, 2, { outcome: 'http_error', httpStatus: 500, error: 'e'.repeat(2_000) }, NOW + 1_250);
    expect(ended?.index).toBe(1);
    expect(ended?.entry).toMatchObject({
      attempt: 2,
      outcome: 'http_error',
      http_status: 500,
      latency_ms: 250,
      ended_at: '2026-06-15T12:00:01.250Z',
    });
    expect(ended?.entry.error).toHaveLength(ATTEMPT_LOG_LIMITS.errorChars);
    // An ended entry is never ended again, and a task stored before the log has none to end.
    expect(endEntry({ attempts_log: log }, 1, { outcome: 'cancelled' }, NOW)).toBeUndefined();
    expect(endEntry({}, 1, { outcome: 'cancelled' }, NOW)).toBeUndefined();
    expect(endEntry({ attempts_log: log }, 2, { outcome: 'completed', error: 'ignored' }, NOW + 1_000)?.entry).not.toHaveProperty('error');
  });

  it('stamps accepted_at on an open entry only', () => {
    const log = [startedEntry(1, agent, 'x', NOW)];
    expect(acceptedEntry({ attempts_log: log }, 1, NOW + 40)?.entry.accepted_at).toBe('2026-06-15T12:00:00.040Z');
    expect(acceptedEntry({ attempts_log: log }, 2, NOW)).toBeUndefined();
    expect(entryOf({ attempts_log: log }, 1)?.index).toBe(0);
  });
});

describe('endedOf: how the dispatcher saw the attempt, as the log names it', () => {
  it.each([
    [{ kind: 'completed', result: 1 } as const, { outcome: 'completed' }],
    [{ kind: 'timed_out', error: 'no answer' } as const, { outcome: 'timeout', error: 'no answer' }],
    [
      { kind: 'failed', error: 'agent reported failure: no', retryable: true, health: 'neutral' } as const,
      { outcome: 'failed', error: 'agent reported failure: no' },
    ],
    [
      {
        kind: 'failed',
        error: 'agent answered HTTP 500',
        retryable: true,
        health: 'failure',
        outcome: 'http_error',
        httpStatus: 500,
      } as const,
      { outcome: 'http_error', httpStatus: 500, error: 'agent answered HTTP 500' },
    ],
    [
      { kind: 'failed', error: 'could not reach', retryable: true, health: 'failure', outcome: 'unreachable' } as const,
      { outcome: 'unreachable', error: 'could not reach' },
    ],
    [
      { kind: 'failed', error: 'silent', retryable: true, health: 'failure', outcome: 'lost' } as const,
      { outcome: 'lost', error: 'silent' },
    ],
  ])('%j → %j', (result, ended) => {
    expect(endedOf(result)).toEqual(ended);
  });
});
