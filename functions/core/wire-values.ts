/**
 * The enumerations of the wire contract, in a module that imports nothing: the request schemas
 * (contract.ts), the answer schemas (api-responses.ts) and the models that take their types from
 * those answers all use them, and none of them has to import another to get them.
 */
export const TASK_STATUSES = ['pending', 'queued', 'sent', 'running', 'retrying', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export const AGENT_STATUSES = ['healthy', 'unhealthy', 'draining'] as const;
export const AGENT_SCHEMES = ['http', 'https'] as const;
export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
