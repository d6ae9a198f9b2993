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
  async add(type: string, capabilities: readonly string[], nowIso: string): Promise<void> {
    const common = {
      TableName: this.tableName,
      Key: this.key(type),
      ExpressionAttributeNames: { '#mark': SUMMARY_MARK },
    };
    const values = { ':one': 1, ':type': type, ':now': Date.parse(nowIso) };
    try {
      await this.doc.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: 'ADD capabilities :capabilities, version :one SET #mark = :type, changed_at_ms = :now',
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
          UpdateExpression: 'SET #mark = :type, changed_at_ms = :now, overflow = :true ADD version :one REMOVE capabilities',
          ExpressionAttributeValues: { ...values, ':true': true },
        }),
      );
    }
  }

  /** Rebuilds the summary from `list` (the type's agents), unless a registration changed it since, or very recently. */
  async refresh(type: string, nowMs: number, list: () => Promise<AgentRecord[]>): Promise<void> {
    const read = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(type), ConsistentRead: true }));
    if (!read.Item || nowMs - Number(read.Item.changed_at_ms) < INDEX_LAG_MS) return;
    const live = (await list()).filter((a) => a.status !== 'draining' && !isExpired(a, nowMs));
    const capabilities = new Set(live.flatMap((a) => a.capabilities));
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
