/**
 * The enumerations of an agent on the wire, in a module that imports nothing: the request schemas
 * (index.ts) and the answer schemas (api-responses.ts) both use them, and neither has to load the
 * other to get them.
 */
export const AGENT_STATUSES = ['healthy', 'unhealthy', 'draining'] as const;
export const AGENT_SCHEMES = ['http', 'https'] as const;
export type AgentScheme = (typeof AGENT_SCHEMES)[number];
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** How the API shows an agent's circuit breaker (functions/core/circuit-breaker.ts decides its state). */
export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];
