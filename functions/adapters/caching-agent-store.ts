import type { AgentRecord } from '../core/agent-model';
import type { AgentListing, AgentStore, CachedAgentStore, Clock, TypeOffers } from '../core/ports';
import { systemClock } from '../core/ports';

/**
 * Keeps each read of an agent type's registry for `ttlSeconds` (REGISTRY_CACHE_SECONDS) and answers
 * `listOfType` from it: at 10 000 agents reading the registry costs more than everything else in a
 * choice. Everything else goes to the wrapped store. The dispatcher re-reads the agent it chooses
 * (strongly consistent) before using it, so a stale listing never sends a task to a drained agent.
 */
export class CachingAgentStore implements CachedAgentStore {
  private readonly reads = new Map<string, { atMs: number; agents: AgentRecord[] }>();

  constructor(
    private readonly store: AgentStore,
    private readonly ttlSeconds: number,
    private readonly clock: Clock = systemClock,
  ) {}

  async listOfType(type: string, fresh: boolean): Promise<AgentListing> {
    const nowMs = this.clock.now();
    const hit = this.reads.get(type);
    if (!fresh && this.ttlSeconds > 0 && hit && nowMs - hit.atMs < this.ttlSeconds * 1000) return { agents: hit.agents, cached: true };
    const agents = await this.store.list(type);
    this.reads.set(type, { atMs: nowMs, agents });
    return { agents, cached: false };
  }

  register(...args: Parameters<AgentStore['register']>): ReturnType<AgentStore['register']> {
    return this.store.register(...args);
  }
  get(agentId: string): Promise<AgentRecord | undefined> {
    return this.store.get(agentId);
  }
  list(type?: string): Promise<AgentRecord[]> {
    return this.store.list(type);
  }
  heartbeat(...args: Parameters<AgentStore['heartbeat']>): ReturnType<AgentStore['heartbeat']> {
    return this.store.heartbeat(...args);
  }
  markDraining(agentId: string, expiresAt: number | undefined): Promise<AgentRecord | undefined> {
    return this.store.markDraining(agentId, expiresAt);
  }
  offeredBy(type: string): Promise<TypeOffers | undefined> {
    return this.store.offeredBy(type);
  }
  refreshOffers(type: string, nowMs: number, leaving?: AgentRecord): Promise<void> {
    return this.store.refreshOffers(type, nowMs, leaving);
  }
}
