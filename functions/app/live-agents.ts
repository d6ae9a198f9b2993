/**
 * The agents' live state, as the API shows it and the dispatcher routes by it: the table's record
 * merged with the cache's fresh heartbeats, slots in flight and circuit records.
 */
import { type AgentLiveness, type AgentRecord, agentStatus } from '../core/agent-model';
import type { CircuitStats } from '../core/circuit-breaker';
import type { AgentStatus } from '@optiinfra/contract';
import type { Deps } from './deps';

export interface LiveAgent {
  agent: AgentRecord;
  /** The cache's fresh heartbeat; absent when the cache is down or the agent went quiet. */
  live?: AgentLiveness;
  status: AgentStatus;
  /** Tasks in flight as best known: the cache's slots, or the agent's own report. */
  inFlight: number;
  /** The agent's circuit record; undefined when the cache cannot be read. */
  circuit?: CircuitStats;
}

/**
 * Reads the live state of `agents` in one round of cache calls. Without the cache, agents are judged
 * by the heartbeats stored in the table, which are written at most every HEARTBEAT_PERSIST_SECONDS,
 * so that much more quiet is allowed before an agent counts as unhealthy.
 * `withCounts` also reads each circuit's window counts (for display; routing needs only the state).
 */
export async function readLiveAgents(
  deps: Pick<Deps, 'cache' | 'settings'>,
  agents: readonly AgentRecord[],
  nowMs: number,
  withCounts: boolean,
): Promise<LiveAgent[]> {
  const keys = agents.map((a) => ({ agentId: a.agent_id, type: a.type }));
  const [liveness, leases, circuits] = await Promise.all([
    deps.cache.getLiveness(keys.map((k) => k.agentId)),
    deps.cache.inFlight(keys, nowMs),
    deps.cache.circuits(keys, nowMs, deps.settings.breaker.windowSeconds * 1000, withCounts),
  ]);
  const grace = liveness ? 0 : deps.settings.heartbeatPersistSeconds * 1000;
  return agents.map((agent) => {
    const live = liveness?.get(agent.agent_id);
    const view: LiveAgent = {
      agent,
      status: agentStatus(agent, nowMs, deps.settings.heartbeatIntervalSeconds, live, grace),
      inFlight: inFlightOf(agent, live, leases),
      circuit: circuits?.get(agent.agent_id),
    };
    if (live) view.live = live;
    return view;
  });
}

/** The larger of the cache's slot count and the agent's own report; the stored report when the cache is down. */
export function inFlightOf(agent: AgentRecord, live: AgentLiveness | undefined, leases: Map<string, number> | undefined): number {
  return Math.max(leases?.get(agent.agent_id) ?? 0, live?.reportedInFlight ?? (leases ? 0 : agent.in_flight));
}
