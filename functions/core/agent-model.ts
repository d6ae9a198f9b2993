import type { CircuitView } from './circuit-breaker';
import type { AgentScheme, AgentStatus, AgentView } from '@optiinfra/contract';

/** The stored agent (Agents table). `status` is what was decided; `unhealthy` is derived from heartbeats. */
export interface AgentRecord {
  agent_id: string;
  name: string;
  type: string;
  host: string;
  port: number;
  /** Absent on agents registered before the field existed: "http". */
  scheme?: AgentScheme;
  capabilities: string[];
  status: 'healthy' | 'draining';
  version: string;
  max_concurrency: number;
  metadata: Record<string, unknown>;
  registered_at: string;
  last_heartbeat: string;
  in_flight: number;
  signing_secret: string;
  /** sha256 of the agent's token (the token itself is never stored). */
  token_hash: string;
  /**
   * Whether the agent has shown its token since it registered (false or absent: never, as an agent
   * speaking only the seed protocol). Once it has, heartbeat, drain and unregister always need it.
   */
  token_proven?: boolean;
  /** Seconds since epoch after which a draining agent is forgotten. */
  expires_at?: number;
}

/** Hot facts about an agent kept in the cache; absent when the cache is down or the agent went quiet. */
export interface AgentLiveness {
  lastHeartbeatMs: number;
  reportedInFlight: number;
}

export const MISSED_HEARTBEATS_BEFORE_UNHEALTHY = 3;

export function lastHeartbeatMs(agent: AgentRecord, live?: AgentLiveness): number {
  return Math.max(Date.parse(agent.last_heartbeat), live?.lastHeartbeatMs ?? 0);
}

/**
 * `draining` once unregistered; otherwise `unhealthy` after 3 missed heartbeat intervals.
 * `graceMs` widens the window when the cache (which has the fresh heartbeats) cannot be read.
 */
export function agentStatus(agent: AgentRecord, nowMs: number, intervalSeconds: number, live?: AgentLiveness, graceMs = 0): AgentStatus {
  if (agent.status === 'draining') return 'draining';
  const quietMs = nowMs - lastHeartbeatMs(agent, live);
  return quietMs <= MISSED_HEARTBEATS_BEFORE_UNHEALTHY * intervalSeconds * 1000 + graceMs ? 'healthy' : 'unhealthy';
}

export function isExpired(agent: AgentRecord, nowMs: number): boolean {
  return agent.expires_at !== undefined && agent.expires_at * 1000 <= nowMs;
}

export function toAgentView(
  agent: AgentRecord,
  status: AgentStatus,
  live: AgentLiveness | undefined,
  inFlight: number,
  circuit: CircuitView,
): AgentView {
  return {
    id: agent.agent_id,
    name: agent.name,
    type: agent.type,
    host: agent.host,
    port: agent.port,
    scheme: agent.scheme ?? 'http',
    capabilities: agent.capabilities,
    status,
    version: agent.version,
    registered_at: agent.registered_at,
    last_heartbeat: new Date(lastHeartbeatMs(agent, live)).toISOString(),
    in_flight: inFlight,
    max_concurrency: agent.max_concurrency,
    metadata: agent.metadata,
    circuit,
  };
}
