/**
 * Unhealthy is derived (no heartbeat for three intervals), never written, so no use case can say
 * when an agent turns unhealthy. The local runtime looks itself: every couple of seconds it lists
 * the agents and reports each change of derived status (unhealthy, healthy again, forgotten).
 * Registered and draining come from the use cases; the first listing is the baseline.
 */
import type { AgentActivity } from '../../functions/core/activity';

export interface WatchedAgent {
  id: string;
  name: string;
  type: string;
  status: string;
}

export interface AgentWatchOptions {
  /** Every listed agent (all pages). */
  list(): Promise<WatchedAgent[]>;
  emit(event: AgentActivity): void;
  intervalMs?: number;
  /** A listing that failed (the runtime stopping, a store hiccup): the next one tries again. */
  onError?(err: unknown): void;
}

/** The events between two listings of the same registry. */
export function agentChanges(before: ReadonlyMap<string, WatchedAgent>, now: readonly WatchedAgent[]): AgentActivity[] {
  const events: AgentActivity[] = [];
  const seen = new Set<string>();
  for (const agent of now) {
    seen.add(agent.id);
    const was = before.get(agent.id)?.status;
    const about = { agent_id: agent.id, name: agent.name, type: agent.type };
    if (agent.status === 'unhealthy' && was !== 'unhealthy') events.push({ kind: 'agent', event: 'unhealthy', ...about });
    if (agent.status === 'healthy' && was === 'unhealthy') events.push({ kind: 'agent', event: 'healthy', ...about });
  }
  for (const [id, agent] of before)
    if (!seen.has(id)) events.push({ kind: 'agent', event: 'forgotten', agent_id: id, name: agent.name, type: agent.type });
  return events;
}

export function watchAgents(options: AgentWatchOptions): { stop(): Promise<void> } {
  let known: Map<string, WatchedAgent> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = async () => {
    try {
      const agents = await options.list();
      if (known) for (const event of agentChanges(known, agents)) options.emit(event);
      known = new Map(agents.map((a) => [a.id, a]));
    } catch (err) {
      if (!stopped) options.onError?.(err);
    }
    // The next look after this one ends: a slow listing never overlaps the next.
    if (!stopped) timer = setTimeout(() => void (running = look()), options.intervalMs ?? 2000);
  };
  let running = look();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
