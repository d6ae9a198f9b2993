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
import { type IndexPage, type IndexQuery, listTasks, listTasksByStatus, monthOf, type TaskIndexReader } from './task-listing';

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

  list(filter: TaskListFilter): Promise<TaskPage> {
    return listTasks(this.reader, filter, this.clock.now());
  }

  listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<Task[]> {
    return listTasksByStatus(this.reader, statuses, options);
  }

  private readonly reader: TaskIndexReader = {
    query: (q) => this.query(q),
    fetch: (ids) => this.fetch(ids),
  };

  private async query(q: IndexQuery): Promise<IndexPage> {
    const bounded = q.createdBefore !== undefined;
    const out: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: q.index.name,
        KeyConditionExpression: bounded ? '#pk = :pk AND #sk <= :before' : '#pk = :pk',
        ExpressionAttributeNames: bounded ? { '#pk': q.index.partitionKey, '#sk': q.index.sortKey } : { '#pk': q.index.partitionKey },
        ExpressionAttributeValues: bounded ? { ':pk': q.value, ':before': q.createdBefore } : { ':pk': q.value },
        ScanIndexForward: q.forward,
        Limit: q.limit,
        ExclusiveStartKey: q.startKey,
      }),
    );
    return out.LastEvaluatedKey ? { items: out.Items ?? [], lastKey: out.LastEvaluatedKey } : { items: out.Items ?? [] };
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
