import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Clock, systemClock, type TaskChange, type TaskListFilter, type TaskPage, type TaskStore } from '../core/ports';
import { TASKS_TABLE_KEYS } from '../core/table-keys';
import { allowedFrom, type Task, type TaskStatus } from '../core/task-model';
import { decodePageToken, encodePageToken, indexKey, MAX_MONTHS_BACK, monthOf, pastRetention, previousMonth } from './task-listing';

export class DynamoTaskStore implements TaskStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Stamps updated_at and decides which finished tasks are past retention. */
    private readonly clock: Clock = systemClock,
  ) {}

  async create(task: Task): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...task, created_month: monthOf(task.created_at) },
        ConditionExpression: 'attribute_not_exists(task_id)',
      }),
    );
  }

  async get(taskId: string): Promise<Task | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { task_id: taskId }, ConsistentRead: true }));
    return out.Item ? strip(out.Item) : undefined;
  }

  async transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<Task | undefined> {
    const names: Record<string, string> = { '#status': 'status', '#updated_at': 'updated_at' };
    const values: Record<string, unknown> = { ':to': to, ':now': new Date(this.clock.now()).toISOString() };
    const sets = ['#status = :to', '#updated_at = :now'];
    let i = 0;
    for (const [key, value] of Object.entries(change.set ?? {})) {
      if (value === undefined) continue;
      names[`#f${i}`] = key;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
      i++;
    }
    if (change.expiresAt !== undefined) {
      names['#expires_at'] = TASKS_TABLE_KEYS.ttlAttribute;
      values[':expires_at'] = change.expiresAt;
      sets.push('#expires_at = :expires_at');
    }
    if (change.appendFailedAgent !== undefined) {
      names['#failed_agents'] = 'failed_agents';
      values[':failed_agent'] = [change.appendFailedAgent];
      values[':empty_list'] = [];
      sets.push('#failed_agents = list_append(if_not_exists(#failed_agents, :empty_list), :failed_agent)');
    }
    const removes = (change.remove ?? []).map((key, j) => {
      names[`#r${j}`] = key;
      return `#r${j}`;
    });
    const from = allowedFrom(to);
    const conditions = [`#status IN (${from.map((_, j) => `:from${j}`).join(', ')})`];
    from.forEach((status, j) => (values[`:from${j}`] = status));
    if (change.when?.attempts !== undefined) {
      names['#attempts'] = 'attempts';
      values[':when_attempts'] = change.when.attempts;
      conditions.push('#attempts = :when_attempts');
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { task_id: taskId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: `attribute_exists(task_id) AND ${conditions.join(' AND ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? strip(out.Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async list(filter: TaskListFilter): Promise<TaskPage> {
    const token = filter.nextToken ? decodePageToken(filter.nextToken) : undefined;
    const nowMs = this.clock.now();
    if (filter.status !== undefined || filter.agentType !== undefined) {
      const byStatus = filter.status !== undefined;
      const index = byStatus ? TASKS_TABLE_KEYS.byStatus : TASKS_TABLE_KEYS.byAgentType;
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey },
          ExpressionAttributeValues: { ':pk': byStatus ? filter.status : filter.agentType },
          ScanIndexForward: false,
          Limit: filter.limit + 1,
          ExclusiveStartKey: token?.k,
        }),
      );
      // One extra item tells whether another page exists, so the last page carries no next_token.
      const items = out.Items ?? [];
      const more = items.length > filter.limit;
      const kept = items.slice(0, filter.limit);
      const last = kept[kept.length - 1];
      const tasks = (await this.fetch(kept.map((i) => String(i.task_id)))).filter(
        (t) =>
          (filter.status === undefined || t.status === filter.status) &&
          (filter.agentType === undefined || t.agent_type === filter.agentType) &&
          !pastRetention(t, nowMs),
      );
      return more && last ? { tasks, nextToken: encodePageToken({ k: indexKey(last, index.partitionKey) }) } : { tasks };
    }
    let month = token?.m ?? monthOf(new Date(nowMs).toISOString());
    let startKey = token?.k;
    const found: Array<Record<string, unknown>> = [];
    for (let walked = 0; walked < MAX_MONTHS_BACK && found.length <= filter.limit; walked++) {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TASKS_TABLE_KEYS.byMonth.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TASKS_TABLE_KEYS.byMonth.partitionKey },
          ExpressionAttributeValues: { ':pk': month },
          ScanIndexForward: false,
          Limit: filter.limit + 1 - found.length,
          ExclusiveStartKey: startKey,
        }),
      );
      found.push(...(out.Items ?? []));
      if (out.LastEvaluatedKey) {
        startKey = out.LastEvaluatedKey;
        continue;
      }
      month = previousMonth(month);
      startKey = undefined;
    }
    const kept = found.slice(0, filter.limit);
    const last = kept[kept.length - 1];
    const tasks = (await this.fetch(kept.map((i) => String(i.task_id)))).filter((t) => !pastRetention(t, nowMs));
    if (found.length > filter.limit && last) {
      return {
        tasks,
        nextToken: encodePageToken({ m: String(last.created_month), k: indexKey(last, TASKS_TABLE_KEYS.byMonth.partitionKey) }),
      };
    }
    return { tasks };
  }

  async listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<Task[]> {
    const ids: string[] = [];
    const { partitionKey, sortKey } = TASKS_TABLE_KEYS.byStatus;
    const bounded = options.createdBefore !== undefined;
    // Each status has its own budget, so a crowd in one (say, thousands queued) hides none of another.
    for (const status of statuses) {
      let found = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out: QueryCommandOutput = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: TASKS_TABLE_KEYS.byStatus.name,
            KeyConditionExpression: bounded ? '#pk = :pk AND #sk <= :before' : '#pk = :pk',
            ExpressionAttributeNames: bounded ? { '#pk': partitionKey, '#sk': sortKey } : { '#pk': partitionKey },
            ExpressionAttributeValues: bounded ? { ':pk': status, ':before': options.createdBefore } : { ':pk': status },
            ExclusiveStartKey: startKey,
            Limit: options.limit - found,
          }),
        );
        const page = (out.Items ?? []).map((i) => String(i.task_id));
        ids.push(...page);
        found += page.length;
        startKey = out.LastEvaluatedKey;
      } while (startKey && found < options.limit);
    }
    // The index is only eventually consistent: the item read decides the status.
    return (await this.fetch(ids)).filter((t) => statuses.includes(t.status)).sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** Reads items by id (the list indexes project keys only, so listing does not multiply write cost). */
  private async fetch(listed: string[]): Promise<Task[]> {
    // An index may list a task twice (under its old and new status, for a moment), and BatchGet refuses duplicate keys.
    const ids = [...new Set(listed)];
    const found = new Map<string, Task>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Array<Record<string, unknown>> | undefined = ids.slice(i, i + 100).map((task_id) => ({ task_id }));
      for (let round = 0; keys && keys.length > 0 && round < 8; round++) {
        const out: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.task_id), strip(item));
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return ids.map((id) => found.get(id)).filter((t): t is Task => t !== undefined);
  }
}

function strip(item: Record<string, unknown>): Task {
  const { created_month: _month, ...task } = item;
  return task as unknown as Task;
}
