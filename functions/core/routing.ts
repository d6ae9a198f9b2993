/**
 * How an agent is chosen. Two halves: `planRouting` (pure, here) decides which agents may take the
 * task and in which preference tier; the cache's `acquireSlot` then picks the least loaded of them
 * and takes its slot in one atomic step, so concurrent dispatchers cannot overfill an agent or pile
 * onto the same one. `pickLeastLoaded` is that same rule in TypeScript (the in-process cache and the
 * cache-down fallback use it; the Redis script mirrors it).
 */
import type { CircuitState } from './circuit-breaker';
import type { AgentStatus } from '@optiinfra/contract';
import type { AgentRecord } from './agent-model';
import type { EligibleSlot } from './cache-port';
import type { LoadSeen, RoutingDecision } from './task-model';

export interface RoutingCandidate {
  agent: AgentRecord;
  status: AgentStatus;
  /** Tasks in flight on the agent as best known (cache slots, or the agent's own report). */
  inFlight: number;
  circuit: CircuitState;
}

export interface RoutingRequest {
  agentType: string;
  capability: string;
  /** Route only to this agent (the task named `agent_id`). */
  agentId?: string;
  /** Agents that failed this task, oldest failure first. */
  avoid?: readonly string[];
}

export interface EligibleAgent extends EligibleSlot {
  candidate: RoutingCandidate;
}

export type RoutingPlan =
  /** No registered agent offers it at all. */
  | { kind: 'none'; reason: string }
  /** Some agent offers it, but none can take it now (unhealthy, draining, circuit open): wait. */
  | { kind: 'wait'; reason: string; candidates: RoutingCandidate[] }
  /** These may take it, in tie-breaking order; the least loaded with a free slot wins. */
  | { kind: 'try'; eligible: EligibleAgent[]; candidates: RoutingCandidate[]; notes: string[] };

export function offers(agent: AgentRecord, req: Pick<RoutingRequest, 'agentType' | 'capability' | 'agentId'>): boolean {
  if (req.agentId !== undefined && agent.agent_id !== req.agentId) return false;
  return agent.type === req.agentType && agent.capabilities.includes(req.capability);
}

export function describeTarget(req: Pick<RoutingRequest, 'agentType' | 'capability' | 'agentId'>): string {
  return req.agentId !== undefined
    ? `agent ${req.agentId} (type "${req.agentType}", capability "${req.capability}")`
    : `agent of type "${req.agentType}" with capability "${req.capability}"`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Which agents may take the task now:
 * - it must offer the type and capability (and be the named agent, if one was named), be healthy
 *   (heartbeating, not draining) and not have an open circuit; a half-open one gets one probe at a time;
 * - agents that failed this task are left out while any other usable agent exists, even a busy one
 *   (the task waits for it rather than going back); when only they remain, the one that failed
 *   longest ago comes first.
 * The eligible list is shuffled so that equally loaded agents share the work.
 */
export function planRouting(candidates: readonly RoutingCandidate[], req: RoutingRequest, random: () => number = Math.random): RoutingPlan {
  const offering = candidates.filter((c) => offers(c.agent, req));
  if (offering.length === 0) return { kind: 'none', reason: `no registered ${describeTarget(req)}` };

  const usable = offering.filter((c) => c.status === 'healthy' && c.circuit !== 'open');
  const unusable = offering.length - usable.length;
  const byStatus = (s: AgentStatus) => offering.filter((c) => c.status === s).length;
  const openCircuits = offering.filter((c) => c.status === 'healthy' && c.circuit === 'open').length;
  const notes: string[] = [];
  if (byStatus('unhealthy')) notes.push(`${plural(byStatus('unhealthy'), 'unhealthy agent')} skipped`);
  if (byStatus('draining')) notes.push(`${plural(byStatus('draining'), 'draining agent')} skipped`);
  if (openCircuits) notes.push(`${plural(openCircuits, 'agent')} with an open circuit skipped`);
  if (usable.length === 0) {
    return {
      kind: 'wait',
      reason: `no ${describeTarget(req)} can take tasks now (${unusable} registered: ${notes.join(', ')})`,
      candidates: offering,
    };
  }

  const avoid = req.avoid ?? [];
  const fresh = usable.filter((c) => !avoid.includes(c.agent.agent_id));
  const capacityOf = (c: RoutingCandidate) => (c.circuit === 'half_open' ? 1 : c.agent.max_concurrency);
  let eligible: EligibleAgent[];
  if (fresh.length > 0) {
    const avoided = usable.length - fresh.length;
    if (avoided) notes.push(`${plural(avoided, 'agent')} that failed this task before left out`);
    eligible = fresh.map((c) => ({ agentId: c.agent.agent_id, capacity: capacityOf(c), tier: 0, candidate: c }));
  } else {
    notes.push('every usable agent failed this task before; the one that failed longest ago is preferred');
    eligible = usable.map((c) => ({
      agentId: c.agent.agent_id,
      capacity: capacityOf(c),
      tier: 1 + avoid.lastIndexOf(c.agent.agent_id),
      candidate: c,
    }));
  }
  const halfOpen = eligible.filter((e) => e.candidate.circuit === 'half_open').length;
  if (halfOpen) notes.push(`${plural(halfOpen, 'agent')} on probation after an open circuit (one task at a time)`);
  return { kind: 'try', eligible: shuffle(eligible, random), candidates: offering, notes };
}

/** True when `a` should be chosen over `b`: lower tier, then lower in-flight/capacity, then more spare slots. */
export function preferable(
  a: { tier: number; capacity: number; load: number },
  b: { tier: number; capacity: number; load: number },
): boolean {
  if (a.tier !== b.tier) return a.tier < b.tier;
  const left = a.load * b.capacity;
  const right = b.load * a.capacity;
  if (left !== right) return left < right;
  return a.capacity - a.load > b.capacity - b.load;
}

/** The rule of `acquireSlot`: the preferable eligible agent with a free slot (first listed wins ties), and the free slots in all. */
export function pickLeastLoaded<T extends EligibleSlot>(
  eligible: readonly T[],
  loadOf: (agentId: string) => number,
): { pick?: T; freeSlots: number } {
  let pick: { slot: T; load: number } | undefined;
  let freeSlots = 0;
  for (const slot of eligible) {
    const load = loadOf(slot.agentId);
    if (load >= slot.capacity) continue;
    freeSlots += slot.capacity - load;
    if (!pick || preferable({ ...slot, load }, { ...pick.slot, load: pick.load })) pick = { slot, load };
  }
  return pick ? { pick: pick.slot, freeSlots } : { freeSlots };
}

export const MAX_LOAD_SEEN = 10;

/** The record of why `chosen` got the task, for the task's status response. */
export function describeDecision(
  plan: Extract<RoutingPlan, { kind: 'try' }>,
  chosenId: string,
  loads: ReadonlyMap<string, number>,
  attempt: number,
  nowMs: number,
  requested: boolean,
): RoutingDecision {
  const loadOf = (c: RoutingCandidate) => loads.get(c.agent.agent_id) ?? c.inFlight;
  const chosen = plan.eligible.find((e) => e.agentId === chosenId)!;
  const seen = (c: RoutingCandidate): LoadSeen => ({
    agent_id: c.agent.agent_id,
    name: c.agent.name,
    in_flight: loadOf(c),
    max_concurrency: c.agent.max_concurrency,
    status: c.status,
    circuit: c.circuit,
  });
  const others = plan.candidates
    .filter((c) => c.agent.agent_id !== chosenId)
    .sort((a, b) => loadOf(a) / a.agent.max_concurrency - loadOf(b) / b.agent.max_concurrency)
    .slice(0, MAX_LOAD_SEEN - 1);
  const load = loadOf(chosen.candidate);
  const rule = requested
    ? `the task names agent ${chosenId}`
    : `least loaded of ${plural(plan.eligible.length, 'eligible agent')} (${load} of ${chosen.capacity} slots in use before this task)`;
  return {
    attempt,
    agent_id: chosenId,
    agent_name: chosen.candidate.agent.name,
    decided_at: new Date(nowMs).toISOString(),
    reason: [rule, ...plan.notes].join('; '),
    candidates: plan.candidates.length,
    eligible: plan.eligible.length,
    load_seen: [seen(chosen.candidate), ...others.map(seen)],
  };
}
