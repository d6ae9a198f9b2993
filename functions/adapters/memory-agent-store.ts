import { type AgentRecord, isExpired } from '../core/agent-model';
import type { AgentStore, HeartbeatReport, TypeOffers } from '../core/ports';
import { AGENTS_TABLE_KEYS } from '../core/table-keys';
import { overlapError, storedCopy, storeError } from './memory-items';

/**
 * In-process AgentStore with DynamoAgentStore's semantics, for fast use-case tests. Like the table
 * it keeps expired agents (DynamoDB's TTL deletes late, the stand-in never): callers filter them.
 * A listing by type is in agent_id order, as the table's by-type index gives it. No clock: every
 * time it stores is handed to it.
 */
export class MemoryAgentStore implements AgentStore {
  private readonly agents = new Map<string, Record<string, unknown>>();
  /** Per type: the capabilities offered (DynamoAgentStore's summary item), and a count of the registrations that added to it. */
  private readonly offers = new Map<string, { capabilities: Set<string>; version: number }>();

  async register(agent: Omit<AgentRecord, 'registered_at'>, nowIso: string, replaces: string | null): Promise<AgentRecord | undefined> {
    const { agent_id, ...fields } = agent;
    // DynamoAgentStore sets every field given, keeps registered_at and removes expires_at in one
    // update expression: DynamoDB refuses one that names either of those again, or a value left undefined.
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'registered_at' || key === AGENTS_TABLE_KEYS.ttlAttribute) throw overlapError(key);
      if (value === undefined)
        throw storeError(
          'ValidationException',
          `Invalid UpdateExpression: An expression attribute value used in expression is not defined (${key})`,
        );
    }
    // As DynamoAgentStore: the type's summary first, so it never lacks what a stored agent offers.
    const summary = this.offers.get(agent.type) ?? { capabilities: new Set<string>(), version: 0 };
    this.offers.set(agent.type, { capabilities: new Set([...summary.capabilities, ...agent.capabilities]), version: summary.version + 1 });
    const old = this.agents.get(agent_id);
    // As DynamoAgentStore's condition: a registration decided on a read that is no longer current loses.
    if ((old?.token_hash ?? null) !== replaces) return undefined;
    const next: Record<string, unknown> = { ...old, agent_id, registered_at: old?.registered_at ?? nowIso, ...storedCopy(fields) };
    delete next[AGENTS_TABLE_KEYS.ttlAttribute];
    this.agents.set(agent_id, next);
    return storedCopy(next) as unknown as AgentRecord;
  }

  async get(agentId: string): Promise<AgentRecord | undefined> {
    const item = this.agents.get(agentId);
    return item ? (storedCopy(item) as unknown as AgentRecord) : undefined;
  }

  async list(type?: string): Promise<AgentRecord[]> {
    const all = [...this.agents.values()].filter((a) => !type || a[AGENTS_TABLE_KEYS.byType.partitionKey] === type);
    return all
      .sort((a, b) => (String(a.agent_id) < String(b.agent_id) ? -1 : String(a.agent_id) > String(b.agent_id) ? 1 : 0))
      .map((a) => storedCopy(a) as unknown as AgentRecord);
  }

  async heartbeat(agentId: string, nowIso: string, { inFlight, metadata, proves }: HeartbeatReport): Promise<AgentRecord | undefined> {
    const change: Record<string, unknown> = { last_heartbeat: nowIso };
    if (inFlight !== undefined) change.in_flight = inFlight;
    if (metadata !== undefined) change.metadata = metadata;
    if (proves !== undefined) {
      if (this.agents.get(agentId)?.token_hash !== proves) return undefined;
      change.token_proven = true;
    }
    return this.update(agentId, change);
  }

  async markDraining(agentId: string, expiresAt: number | undefined): Promise<AgentRecord | undefined> {
    return this.update(agentId, expiresAt === undefined ? { status: 'draining' } : { status: 'draining', expires_at: expiresAt });
  }

  async offeredBy(type: string): Promise<TypeOffers | undefined> {
    const summary = this.offers.get(type);
    if (!summary) return undefined;
    return fitsOneItem(summary.capabilities) ? { capabilities: [...summary.capabilities].sort() } : { overflow: true };
  }

  async refreshOffers(type: string, nowMs: number, leaving?: AgentRecord): Promise<void> {
    const read = this.offers.get(type);
    if (!read) return;
    const live = (await this.list(type)).filter((a) => a.agent_id !== leaving?.agent_id && a.status !== 'draining' && !isExpired(a, nowMs));
    // As DynamoAgentStore's condition: a registration since the read wins, and the summary stays.
    if (this.offers.get(type)?.version !== read.version) return;
    const capabilities = new Set(live.flatMap((a) => a.capabilities));
    if (capabilities.size === 0) this.offers.delete(type);
    else this.offers.set(type, { capabilities, version: read.version });
  }

  /** Sets `change` on a known agent; undefined when there is none (nothing is created). */
  private update(agentId: string, change: Record<string, unknown>): AgentRecord | undefined {
    const item = this.agents.get(agentId);
    if (!item) return undefined;
    const next = { ...item, ...storedCopy(change) };
    this.agents.set(agentId, next);
    return storedCopy(next) as unknown as AgentRecord;
  }
}

/** As DynamoDB's 400 KB item limit, which the Dynamo store's summary item must fit (with room for its other attributes). */
function fitsOneItem(capabilities: ReadonlySet<string>): boolean {
  let bytes = 0;
  for (const c of capabilities) bytes += Buffer.byteLength(c);
  return bytes < 399 * 1024;
}
