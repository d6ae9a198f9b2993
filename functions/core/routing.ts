import type { AgentStatus } from './contract';
import type { AgentRecord } from './agent-model';

export interface RoutingCandidate {
  agent: AgentRecord;
  status: AgentStatus;
  /** Tasks in flight on the agent as best known (cache leases, or the agent's own report). */
  inFlight: number;
}

export interface RoutingRequest {
  agentType: string;
  capability: string;
  /** Route only to this agent (the task named `agent_id`). */
  agentId?: string;
  /** Agents that failed this task before: used only if no other agent can take it. */
  avoid?: readonly string[];
}

export type Selection =
  | { kind: 'selected'; agent: AgentRecord; freeSlots: number }
  /** Some agent offers it, but none can take it now (busy, unhealthy or draining): wait. */
  | { kind: 'wait'; reason: string }
  /** No registered agent offers it at all. */
  | { kind: 'none'; reason: string };

export function offers(agent: AgentRecord, req: Pick<RoutingRequest, 'agentType' | 'capability' | 'agentId'>): boolean {
  if (req.agentId !== undefined && agent.agent_id !== req.agentId) return false;
  return agent.type === req.agentType && agent.capabilities.includes(req.capability);
}

export function describeTarget(req: Pick<RoutingRequest, 'agentType' | 'capability' | 'agentId'>): string {
  return req.agentId !== undefined
    ? `agent ${req.agentId} (type "${req.agentType}", capability "${req.capability}")`
    : `agent of type "${req.agentType}" with capability "${req.capability}"`;
}

/**
 * Picks the healthy agent with the fewest tasks in flight that offers the capability and has a free
 * slot. Agents that already failed this task are used only when nothing else can take it.
 * Ties go to the agent with the most spare capacity, then to a random one so load spreads.
 */
export function selectAgent(candidates: readonly RoutingCandidate[], req: RoutingRequest, random: () => number = Math.random): Selection {
  const offering = candidates.filter((c) => offers(c.agent, req));
  if (offering.length === 0) return { kind: 'none', reason: `no registered ${describeTarget(req)}` };

  const ready = offering.filter((c) => c.status === 'healthy' && c.inFlight < c.agent.max_concurrency);
  if (ready.length === 0) {
    const healthy = offering.filter((c) => c.status === 'healthy');
    const reason =
      healthy.length > 0
        ? `every healthy ${describeTarget(req)} is at its max_concurrency`
        : `no healthy ${describeTarget(req)} (registered ones are ${[...new Set(offering.map((c) => c.status))].join(' or ')})`;
    return { kind: 'wait', reason };
  }

  const avoid = new Set(req.avoid ?? []);
  const fresh = ready.filter((c) => !avoid.has(c.agent.agent_id));
  const pool = fresh.length > 0 ? fresh : ready;
  const minLoad = Math.min(...pool.map((c) => c.inFlight));
  const least = pool.filter((c) => c.inFlight === minLoad);
  const maxSpare = Math.max(...least.map((c) => c.agent.max_concurrency - c.inFlight));
  const best = least.filter((c) => c.agent.max_concurrency - c.inFlight === maxSpare);
  const pick = best[Math.floor(random() * best.length)] ?? best[0]!;
  const freeSlots = ready.reduce((sum, c) => sum + (c.agent.max_concurrency - c.inFlight), 0);
  return { kind: 'selected', agent: pick.agent, freeSlots };
}
