/**
 * Passive health: a per-agent circuit breaker fed by the outcomes of real dispatches (Convoy's
 * endpoint breaker, applied to agents). No AWS or cache imports: the cache stores the counts and the
 * open record, this module decides.
 *
 *   closed ──(≥ minDispatches in the window and ≥ failureRatio of them failed)──▶ open
 *   open ──(cool-down over)──▶ half_open: one probe task at a time
 *   half_open ──probe succeeds──▶ closed (window cleared) · ──probe fails──▶ open, cool-down doubled (capped)
 */
import type { CircuitState, CircuitView } from '@optiinfra/contract';

export type { CircuitState, CircuitView } from '@optiinfra/contract';

export interface BreakerSettings {
  /** Outcomes older than this are forgotten. */
  windowSeconds: number;
  /** Fewer dispatches than this in the window never open the breaker. */
  minDispatches: number;
  /** Share of failed dispatches in the window (0-1] that opens the breaker. */
  failureRatio: number;
  /** How long an open breaker keeps the agent out of rotation before a probe. */
  cooldownSeconds: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { windowSeconds: 60, minDispatches: 5, failureRatio: 0.5, cooldownSeconds: 30 };

/** Consecutive re-openings double the cool-down up to this many times (30 s → 8 min with the defaults). */
export const MAX_COOLDOWN_DOUBLINGS = 4;

/** What the cache holds while a breaker is open (absent means closed). */
export interface OpenCircuit {
  openedAtMs: number;
  openUntilMs: number;
  /** Times it opened in a row without a successful probe in between (1 the first time). */
  trips: number;
}

export interface CircuitStats {
  dispatches: number;
  failures: number;
  open?: OpenCircuit;
}

export function circuitState(open: OpenCircuit | undefined, nowMs: number): CircuitState {
  if (!open) return 'closed';
  return nowMs < open.openUntilMs ? 'open' : 'half_open';
}

export function toCircuitView(stats: CircuitStats | undefined, nowMs: number, settings: BreakerSettings): CircuitView {
  const view: CircuitView = {
    state: circuitState(stats?.open, nowMs),
    recent_dispatches: stats?.dispatches ?? 0,
    recent_failures: stats?.failures ?? 0,
    window_seconds: settings.windowSeconds,
  };
  if (stats?.open && view.state === 'open') view.open_until = new Date(stats.open.openUntilMs).toISOString();
  return view;
}

/** How a dispatch bears on the agent's health. Neutral outcomes (the task's own fault, back-pressure) are not counted. */
export type HealthSignal = 'success' | 'failure' | 'neutral';

export type BreakerChange = { kind: 'none' } | { kind: 'open'; open: OpenCircuit } | { kind: 'close' };

function openFor(trips: number, nowMs: number, settings: BreakerSettings): OpenCircuit {
  const cooldownMs = settings.cooldownSeconds * 1000 * 2 ** Math.min(trips - 1, MAX_COOLDOWN_DOUBLINGS);
  return { openedAtMs: nowMs, openUntilMs: nowMs + cooldownMs, trips };
}

/**
 * What to do with the breaker after a counted outcome, given the window's counts including it.
 * An outcome that arrives while the breaker is open (a task sent before it opened) changes nothing;
 * the first outcome after the cool-down is the probe's.
 */
export function afterOutcome(
  stats: CircuitStats,
  signal: Exclude<HealthSignal, 'neutral'>,
  nowMs: number,
  settings: BreakerSettings,
): BreakerChange {
  const state = circuitState(stats.open, nowMs);
  if (state === 'open') return { kind: 'none' };
  if (state === 'half_open')
    return signal === 'success' ? { kind: 'close' } : { kind: 'open', open: openFor((stats.open?.trips ?? 0) + 1, nowMs, settings) };
  if (signal === 'failure' && stats.dispatches >= settings.minDispatches && stats.failures >= settings.failureRatio * stats.dispatches) {
    return { kind: 'open', open: openFor(1, nowMs, settings) };
  }
  return { kind: 'none' };
}
