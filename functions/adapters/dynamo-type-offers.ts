import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AgentRecord, isExpired } from '../core/agent-model';
import type { TypeOffers } from '../core/ports';

/**
 * Each agent type's capability summary is an item of the agents table keyed `offers#<type>` (agent
 * ids are UUIDs, so none can collide): a string set of the capabilities, the number of registrations
 * that added to it (`version`), and when the last did. It has no `type` attribute, so the by-type
 * index leaves it out; `summary_of` tells it from an agent. A set too large for one item (400 KB) is
 * replaced by `overflow`, and submit then reads the type's agents as it used to.
 */
const OFFERS_PREFIX = 'offers#';
export const SUMMARY_MARK = 'summary_of';
/** The by-type index may not show a registration for a moment: a summary changed this recently is not shrunk. */
export const INDEX_LAG_MS = 10_000;

const tooLarge = (err: unknown) => err instanceof Error && err.name === 'ValidationException' && /maximum allowed size/.test(err.message);

export class DynamoTypeOffers {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(type: string) {
    return { agent_id: OFFERS_PREFIX + type };
  }

  async read(type: string): Promise<TypeOffers | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(type),
        ConsistentRead: true,
        ProjectionExpression: 'capabilities, overflow',
      }),
    );
    if (!out.Item) return undefined;
    if (out.Item.overflow === true) return { overflow: true };
    const capabilities = out.Item.capabilities as Set<string> | undefined;
    return capabilities ? { capabilities: [...capabilities].sort() } : undefined;
  }

  /** Adds what an agent offers: called before the agent is written, so the summary never lacks it. */
  async add(type: string, agentId: string, capabilities: readonly string[], nowIso: string): Promise<void> {
    const common = {
      TableName: this.tableName,
      Key: this.key(type),
      ExpressionAttributeNames: { '#mark': SUMMARY_MARK },
    };
    const values = { ':one': 1, ':type': type, ':now': Date.parse(nowIso), ':agent': agentId };
    try {
      await this.doc.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: 'ADD capabilities :capabilities, version :one SET #mark = :type, changed_at_ms = :now, last_agent = :agent',
          ConditionExpression: 'attribute_not_exists(overflow)',
          ExpressionAttributeValues: { ...values, ':capabilities': new Set(capabilities) },
        }),
      );
    } catch (err) {
      // Already overflowing, or now too large: the summary says so, counting this registration.
      if (!(err instanceof ConditionalCheckFailedException) && !tooLarge(err)) throw err;
      await this.doc.send(
        new UpdateCommand({
          ...common,
          UpdateExpression:
            'SET #mark = :type, changed_at_ms = :now, last_agent = :agent, overflow = :true ADD version :one REMOVE capabilities',
          ExpressionAttributeValues: { ...values, ':true': true },
        }),
      );
    }
  }

  /**
   * Rebuilds the summary from `list` (the type's agents, by the eventually consistent index), unless
   * a registration changed it since the read. Within INDEX_LAG_MS of the type's last registration
   * the index may miss that agent: then only when `leaving` was that last registration, and only
   * what `leaving` offered and no listed agent does is dropped; otherwise nothing.
   */
  async refresh(type: string, nowMs: number, list: () => Promise<AgentRecord[]>, leaving?: AgentRecord): Promise<void> {
    const read = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(type), ConsistentRead: true }));
    if (!read.Item) return;
    const recent = nowMs - Number(read.Item.changed_at_ms) < INDEX_LAG_MS;
    if (recent && (leaving === undefined || read.Item.last_agent !== leaving.agent_id)) return;
    // The index may also still show `leaving` as it was: it is gone, whatever the index says.
    const live = (await list()).filter((a) => a.agent_id !== leaving?.agent_id && a.status !== 'draining' && !isExpired(a, nowMs));
    const offered = new Set(live.flatMap((a) => a.capabilities));
    let capabilities = offered;
    if (recent) {
      const current = read.Item.capabilities as Set<string> | undefined;
      if (!current) return;
      capabilities = new Set([...current].filter((c) => offered.has(c) || !leaving!.capabilities.includes(c)));
    }
    const unchanged = {
      TableName: this.tableName,
      Key: this.key(type),
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': read.Item.version as number },
    };
    const set = (expression: string, values: Record<string, unknown>) =>
      this.doc.send(
        new UpdateCommand({
          ...unchanged,
          UpdateExpression: expression,
          ExpressionAttributeValues: { ...unchanged.ExpressionAttributeValues, ...values },
        }),
      );
    try {
      if (capabilities.size === 0) await this.doc.send(new DeleteCommand(unchanged));
      else
        await set('SET capabilities = :capabilities REMOVE overflow', { ':capabilities': capabilities }).catch(async (err: unknown) => {
          if (!tooLarge(err)) throw err;
          await set('SET overflow = :true REMOVE capabilities', { ':true': true });
        });
    } catch (err) {
      // A registration since the read: it added its capabilities, and the summary stays as it is.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
