/**
 * Chooses the agent for a task's next attempt: the registry (possibly a recent read), the agents'
 * live state, the plan (functions/core/routing.ts), then the cache picks the least loaded and takes
 * its slot in one atomic step.
 */
import { type AgentRecord, isExpired } from '../core/agent-model';
import { circuitState } from '../core/circuit-breaker';
import type { CachedAgentStore } from '../core/ports';
import type { Waiter } from '../core/cache-port';
import { describeDecision, describeTarget, offers, pickLeastLoaded, planRouting } from '../core/routing';
import type { RoutingDecision, TaskState } from '../core/task-model';
import { taskPool, waitingScore } from '../core/waiting-queue';
import type { Deps } from './deps';
import { readLiveAgents } from './live-agents';

export type Choice =
  /**
   * `slot` names the slot taken (empty when the cache is down), for releaseSlot. `failedBefore`: only
   * agents that failed this task were usable, and this is one of them.
   */
  (
    | { kind: 'chosen'; agent: AgentRecord; routing: RoutingDecision; slot: string; failedBefore?: boolean; woken?: Waiter[] }
    /**
     * `noneUsable`: no agent could take the task at all (as opposed to all of them being busy).
     * `parked`: the task waits in the cache's queue until a wake-up (absent when the cache is down).
     */
    | { kind: 'wait'; reason: string; noneUsable?: boolean; parked?: { deadlineMs: number }; woken?: Waiter[] }
  ) & {
    /** The tasks of its type parked in the cache, as the call that parked it or took its slot after parking saw them. */
    waiting?: number;
  };

/** Above this many agents offering a task, the choice is made among a random sample of this size (power of d choices). */
export const ROUTING_SAMPLE_SIZE = 64;

export type ChooseDeps = Pick<Deps, 'cache' | 'settings'> & { agents: CachedAgentStore };

function sample<T>(items: readonly T[], size: number, random: () => number = Math.random): T[] {
  const pool = [...items];
  for (let i = 0; i < size && i < pool.length - 1; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, size);
}

/**
 * Chooses the agent for the task's next attempt and takes one of its slots until `leaseUntilMs`
 * (the caller releases it). With more than ROUTING_SAMPLE_SIZE agents offering the task, a random
 * sample of them is tried first, and all of them if the sample has no free slot. A listing from a
 * recent read is checked against the table before it decides anything a new agent could change,
 * and the chosen agent is always re-read, so a drained agent is never used from a stale read.
 */
export async function chooseAgent(deps: ChooseDeps, task: TaskState, now: number, leaseUntilMs: number): Promise<Choice> {
  // Waiters handed a free slot by any of the cache calls below: the caller starts them.
  const ctx: Choosing = { task, now, leaseUntilMs, woken: [] };
  const choice = await choose(deps, ctx);
  const withWoken = ctx.woken.length > 0 ? { ...choice, woken: ctx.woken } : choice;
  return ctx.waiting === undefined ? withWoken : { ...withWoken, waiting: ctx.waiting };
}

async function choose(deps: ChooseDeps, ctx: Choosing): Promise<Choice> {
  const { task, now } = ctx;
  const target = { agentType: task.agent_type, capability: task.task_type, agentId: task.requested_agent_id };
  const release = (choice: { agent: AgentRecord; slot: string }) =>
    deps.cache.releaseSlot({ agentId: choice.agent.agent_id, type: task.agent_type }, choice.slot);
  let registry = await deps.agents.listOfType(task.agent_type, false);
  for (;;) {
    const offering = registry.agents.filter((a) => !isExpired(a, now) && offers(a, target));
    let choice: Choice | undefined;
    if (offering.length > ROUTING_SAMPLE_SIZE) {
      const active = offering.filter((a) => a.status !== 'draining');
      const picked = sample(active, ROUTING_SAMPLE_SIZE);
      const sampled = await chooseAmong(deps, ctx, picked, `sampled ${picked.length} of ${offering.length} agents`);
      if (sampled.kind === 'chosen') choice = sampled;
    }
    choice ??= await chooseAmong(deps, ctx, offering, undefined);
    if (choice.kind === 'wait' && choice.noneUsable && registry.cached) {
      // No agent in the recent read can take it: one may have registered since; look at the table itself.
      // (When they are merely busy, a new agent shows up with the next read.)
      registry = await deps.agents.listOfType(task.agent_type, true);
      continue;
    }
    if (choice.kind === 'chosen' && choice.failedBefore && registry.cached) {
      // Before going back to an agent that failed this task, make sure no other agent registered since.
      await release(choice);
      registry = await deps.agents.listOfType(task.agent_type, true);
      continue;
    }
    if (choice.kind === 'wait') return choice;
    const current = await deps.agents.get(choice.agent.agent_id);
    if (current && !isExpired(current, now) && current.status !== 'draining' && offers(current, target)) {
      return { kind: 'chosen', agent: current, routing: choice.routing, slot: choice.slot };
    }
    await release(choice);
    if (!registry.cached) return { kind: 'wait', reason: `agent ${choice.agent.agent_id} changed while it was being chosen` };
    registry = await deps.agents.listOfType(task.agent_type, true);
  }
}

interface Choosing {
  task: TaskState;
  now: number;
  leaseUntilMs: number;
  /** Waiters handed a free slot by any of the cache calls: the caller starts them. */
  woken: Waiter[];
  /** What the last cache call that parked the task (or took a slot for it after it had parked) counted waiting. */
  waiting?: number;
}

async function chooseAmong(deps: ChooseDeps, ctx: Choosing, agents: AgentRecord[], sampling: string | undefined): Promise<Choice> {
  const { task, now, leaseUntilMs } = ctx;
  const target = { agentType: task.agent_type, capability: task.task_type, agentId: task.requested_agent_id };
  const live = await readLiveAgents(deps, agents, now, false);
  const plan = planRouting(
    live.map(({ agent, status, inFlight, circuit }) => ({ agent, status, inFlight, circuit: circuitState(circuit?.open, now) })),
    { ...target, avoid: task.failed_agents },
  );
  const slot = {
    agentType: task.agent_type,
    pool: taskPool(task),
    taskId: task.task_id,
    score: waitingScore(task.priority, Date.parse(task.queued_at ?? task.created_at)),
    nowMs: now,
    leaseUntilMs,
    queueDeadlineMs: now + (task.queue_timeout_seconds ?? deps.settings.queueTimeoutSeconds) * 1000,
    token: crypto.randomUUID().slice(0, 13),
  };
  if (plan.kind !== 'try') {
    // Park anyway, so this task keeps its place and is woken when an agent comes back.
    const parked = sampling ? undefined : await deps.cache.acquireSlot({ ...slot, eligible: [] });
    if (parked && parked.kind !== 'acquired') ctx.woken.push(...parked.woken);
    if (parked?.waiting !== undefined) ctx.waiting = parked.waiting;
    const wait: Choice = { kind: 'wait', reason: plan.reason, noneUsable: true };
    return parked && parked.kind !== 'acquired' ? { ...wait, parked: { deadlineMs: parked.deadlineMs } } : wait;
  }
  const answer = await deps.cache.acquireSlot({
    ...slot,
    eligible: plan.eligible.map(({ agentId, capacity, tier }) => ({ agentId, capacity, tier })),
  });
  if (answer && answer.kind !== 'acquired') ctx.woken.push(...answer.woken);
  if (answer?.waiting !== undefined) ctx.waiting = answer.waiting;
  const full = `every eligible ${describeTarget(target)} is at its max_concurrency`;
  let chosenId: string;
  let loads: Map<string, number>;
  let taken = '';
  if (answer === undefined) {
    // Cache down: the same rule on the loads known from heartbeats, without the cross-instance guarantee.
    loads = new Map(plan.eligible.map((e) => [e.agentId, e.candidate.inFlight]));
    const { pick } = pickLeastLoaded(plan.eligible, (id) => loads.get(id) ?? 0);
    if (!pick) return { kind: 'wait', reason: full };
    chosenId = pick.agentId;
  } else if (answer.kind === 'busy') {
    return { kind: 'wait', reason: full, parked: { deadlineMs: answer.deadlineMs } };
  } else if (answer.kind === 'behind') {
    return {
      kind: 'wait',
      reason: `${answer.position} task(s) of higher priority or older are waiting for the same agents, which have ${answer.freeSlots} free slot(s)`,
      parked: { deadlineMs: answer.deadlineMs },
    };
  } else {
    chosenId = answer.agentId;
    loads = answer.loads;
    taken = answer.slot;
  }
  const pick = plan.eligible.find((e) => e.agentId === chosenId)!;
  const agent = pick.candidate.agent;
  const routing = describeDecision(plan, agent.agent_id, loads, task.attempts + 1, now, task.requested_agent_id !== undefined);
  if (sampling) routing.reason = `${routing.reason}; ${sampling}`;
  const chosen: Choice = { kind: 'chosen', agent, routing, slot: taken };
  return pick.tier > 0 ? { ...chosen, failedBefore: true } : chosen;
}
