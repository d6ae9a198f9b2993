import { describe, expect, it } from 'vitest';
import {
  afterOutcome,
  type BreakerSettings,
  circuitState,
  type CircuitStats,
  MAX_COOLDOWN_DOUBLINGS,
  type OpenCircuit,
  toCircuitView,
} from '../../functions/core/circuit-breaker';

const S: BreakerSettings = { windowSeconds: 60, minDispatches: 5, failureRatio: 0.5, cooldownSeconds: 30 };
const NOW = 1_700_000_000_000;
const open = (overrides: Partial<OpenCircuit> = {}): OpenCircuit => ({
  openedAtMs: NOW - 10_000,
  openUntilMs: NOW + 20_000,
  trips: 1,
  ...overrides,
});

describe('circuitState', () => {
  it.each([
    ['no open record is closed', undefined, 'closed'],
    ['an open record before its end is open', open(), 'open'],
    ['an open record at its end is half open', open({ openUntilMs: NOW }), 'half_open'],
    ['an open record after its end is half open', open({ openUntilMs: NOW - 1 }), 'half_open'],
  ] as Array<[string, OpenCircuit | undefined, string]>)('%s', (_label, record, expected) => {
    expect(circuitState(record, NOW)).toBe(expected);
  });
});

describe('afterOutcome while closed', () => {
  it.each([
    ['4 failures of 4: below the minimum of 5 dispatches', { dispatches: 4, failures: 4 }, 'none'],
    ['5 failures of 5 opens', { dispatches: 5, failures: 5 }, 'open'],
    ['3 failures of 6 (exactly the ratio) opens', { dispatches: 6, failures: 3 }, 'open'],
    ['2 failures of 5 (below the ratio) stays closed', { dispatches: 5, failures: 2 }, 'none'],
    ['50 failures of 101 (just below) stays closed', { dispatches: 101, failures: 50 }, 'none'],
  ] as Array<[string, CircuitStats, string]>)('%s', (_label, stats, expected) => {
    expect(afterOutcome(stats, 'failure', NOW, S).kind).toBe(expected);
  });

  it('a success never opens it, whatever the counts', () => {
    expect(afterOutcome({ dispatches: 10, failures: 9 }, 'success', NOW, S)).toEqual({ kind: 'none' });
  });

  it('opens for the cool-down, as the first trip', () => {
    expect(afterOutcome({ dispatches: 5, failures: 5 }, 'failure', NOW, S)).toEqual({
      kind: 'open',
      open: { openedAtMs: NOW, openUntilMs: NOW + 30_000, trips: 1 },
    });
  });

  it('honours other settings', () => {
    const strict: BreakerSettings = { windowSeconds: 10, minDispatches: 2, failureRatio: 1, cooldownSeconds: 3 };
    expect(afterOutcome({ dispatches: 2, failures: 1 }, 'failure', NOW, strict).kind).toBe('none');
    expect(afterOutcome({ dispatches: 2, failures: 2 }, 'failure', NOW, strict)).toEqual({
      kind: 'open',
      open: { openedAtMs: NOW, openUntilMs: NOW + 3_000, trips: 1 },
    });
  });
});

describe('afterOutcome while open or half open', () => {
  it.each([['success' as const], ['failure' as const]])(
    'a %s that arrives while open (a task sent before it opened) changes nothing',
    (signal) => {
      expect(afterOutcome({ dispatches: 9, failures: 9, open: open() }, signal, NOW, S)).toEqual({ kind: 'none' });
    },
  );

  it('after the cool-down a successful probe closes it', () => {
    expect(afterOutcome({ dispatches: 9, failures: 8, open: open({ openUntilMs: NOW - 1 }) }, 'success', NOW, S)).toEqual({
      kind: 'close',
    });
  });

  it.each([
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [MAX_COOLDOWN_DOUBLINGS, 30_000 * 2 ** MAX_COOLDOWN_DOUBLINGS],
    [MAX_COOLDOWN_DOUBLINGS + 5, 30_000 * 2 ** MAX_COOLDOWN_DOUBLINGS],
  ])('a failed probe after trip %i re-opens it for %i ms (doubling, capped)', (trips, cooldownMs) => {
    expect(afterOutcome({ dispatches: 1, failures: 1, open: open({ openUntilMs: NOW - 1, trips }) }, 'failure', NOW, S)).toEqual({
      kind: 'open',
      open: { openedAtMs: NOW, openUntilMs: NOW + cooldownMs, trips: trips + 1 },
    });
  });
});

describe('toCircuitView', () => {
  it('a closed circuit with no counts', () => {
    expect(toCircuitView(undefined, NOW, S)).toEqual({ state: 'closed', recent_dispatches: 0, recent_failures: 0, window_seconds: 60 });
  });

  it('an open circuit says until when', () => {
    expect(toCircuitView({ dispatches: 6, failures: 5, open: open() }, NOW, S)).toEqual({
      state: 'open',
      recent_dispatches: 6,
      recent_failures: 5,
      window_seconds: 60,
      open_until: new Date(NOW + 20_000).toISOString(),
    });
  });

  it('a half-open circuit has no open_until', () => {
    expect(toCircuitView({ dispatches: 6, failures: 5, open: open({ openUntilMs: NOW }) }, NOW, S)).toEqual({
      state: 'half_open',
      recent_dispatches: 6,
      recent_failures: 5,
      window_seconds: 60,
    });
  });
});
