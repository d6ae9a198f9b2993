/** How the API shows an agent's circuit breaker (functions/core/circuit-breaker.ts decides its state). */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitView {
  state: CircuitState;
  /** Dispatches and failed dispatches in the window. */
  recent_dispatches: number;
  recent_failures: number;
  window_seconds: number;
  /** While open: when the agent gets its probe task. */
  open_until?: string;
}
