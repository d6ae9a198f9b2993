import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentRecord } from '../core/agent-model';
import type { AgentStore, HeartbeatReport, TypeOffers } from '../core/ports';
import { DynamoTypeOffers, SUMMARY_MARK } from './dynamo-type-offers';
import { AGENTS_TABLE_KEYS } from '../core/table-keys';

export class DynamoAgentStore implements AgentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.offers = new DynamoTypeOffers(doc, tableName);
  }

  private readonly offers: DynamoTypeOffers;

  async offeredBy(type: string): Promise<TypeOffers | undefined> {
    return this.offers.read(type);
  }

  refreshOffers(type: string, nowMs: number, leaving?: AgentRecord): Promise<void> {
    return this.offers.refresh(type, nowMs, () => this.list(type), leaving);
  }

  /**
   * Creates or refreshes the agent; the first registration time is kept, everything else (token hash,
   * secret) replaced. Conditional on the token hash read before (`replaces`), so of two racing
   * registrations of one id only one is written.
   */
  async register(agent: Omit<AgentRecord, 'registered_at'>, nowIso: string, replaces: string | null): Promise<AgentRecord | undefined> {
    const { agent_id, ...fields } = agent;
    if (agent.capabilities.length > 0) await this.offers.add(agent.type, agent_id, agent.capabilities, nowIso);
    const names: Record<string, string> = { '#registered_at': 'registered_at', '#expires_at': 'expires_at' };
    const values: Record<string, unknown> = { ':now': nowIso };
    let condition = 'attribute_not_exists(agent_id)';
    if (replaces !== null) {
      names['#token_hash'] = 'token_hash';
      values[':replaces'] = replaces;
      condition = '#token_hash = :replaces';
    }
    const sets = ['#registered_at = if_not_exists(#registered_at, :now)'];
    Object.entries(fields).forEach(([key, value], i) => {
      names[`#f${i}`] = key;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { agent_id },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE #expires_at`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as AgentRecord;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async get(agentId: string): Promise<AgentRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { agent_id: agentId }, ConsistentRead: true }));
    return out.Item && !(SUMMARY_MARK in out.Item) ? (out.Item as AgentRecord) : undefined;
  }

  async list(type?: string): Promise<AgentRecord[]> {
    const items: AgentRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = type
        ? await this.doc.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: AGENTS_TABLE_KEYS.byType.name,
              KeyConditionExpression: '#type = :type',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: { ':type': type },
              ExclusiveStartKey: startKey,
            }),
          )
        : await this.doc.send(
            new ScanCommand({
              TableName: this.tableName,
              ExclusiveStartKey: startKey,
              FilterExpression: 'attribute_not_exists(#mark)',
              ExpressionAttributeNames: { '#mark': SUMMARY_MARK },
            }),
          );
      items.push(...((out.Items ?? []) as AgentRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async heartbeat(agentId: string, nowIso: string, { inFlight, metadata, proves }: HeartbeatReport): Promise<AgentRecord | undefined> {
    const names: Record<string, string> = { '#last_heartbeat': 'last_heartbeat' };
    const values: Record<string, unknown> = { ':now': nowIso };
    const sets = ['#last_heartbeat = :now'];
    if (inFlight !== undefined) {
      names['#in_flight'] = 'in_flight';
      values[':in_flight'] = inFlight;
      sets.push('#in_flight = :in_flight');
    }
    if (metadata !== undefined) {
      names['#metadata'] = 'metadata';
      values[':metadata'] = metadata;
      sets.push('#metadata = :metadata');
    }
    if (proves !== undefined) {
      names['#token_proven'] = 'token_proven';
      names['#token_hash'] = 'token_hash';
      values[':proven'] = true;
      values[':proves'] = proves;
      sets.push('#token_proven = :proven');
      return this.update(agentId, `SET ${sets.join(', ')}`, names, values, '#token_hash = :proves');
    }
    return this.update(agentId, `SET ${sets.join(', ')}`, names, values);
  }

  async markDraining(agentId: string, expiresAt: number | undefined): Promise<AgentRecord | undefined> {
    if (expiresAt === undefined)
      return this.update(agentId, 'SET #status = :draining', { '#status': 'status' }, { ':draining': 'draining' });
    return this.update(
      agentId,
      'SET #status = :draining, #expires_at = :expires_at',
      { '#status': 'status', '#expires_at': 'expires_at' },
      { ':draining': 'draining', ':expires_at': expiresAt },
    );
  }

  private async update(
    agentId: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    also?: string,
  ): Promise<AgentRecord | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { agent_id: agentId },
          UpdateExpression: expression,
          ConditionExpression: also ? `attribute_exists(agent_id) AND ${also}` : 'attribute_exists(agent_id)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as AgentRecord | undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }
}
