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
import { callbackDueKey, TASKS_TABLE_KEYS, taskShard } from '../core/table-keys';
import { allowedFrom, isTerminal, type Task, type TaskPayload, type TaskState, type TaskStatus } from '../core/task-model';
import { isTaskId, type Item, MISSING_PAYLOAD, payloadItemOf, payloadKey, payloadOf, stateItemOf, stateOf } from './task-items';
import { type IndexPage, type IndexQuery, listTasks, listTasksByStatus, type TaskIndexReader } from './task-listing';

export class DynamoTaskStore implements TaskStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Stamps updated_at and decides which finished tasks are past retention. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** The payload first: a state item, once written, always has its payload (a failed create leaves at most a payload, which TTL removes). */
  async create(task: Task, payloadExpiresAt?: number): Promise<void> {
    for (const item of [payloadItemOf(task, payloadExpiresAt), stateItemOf(task)]) {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(task_id)' }));
    }
  }

  async get(taskId: string, options: { consistent?: boolean } = {}): Promise<TaskState | undefined> {
    if (!isTaskId(taskId)) return undefined;
    for (const ConsistentRead of options.consistent === false ? [false, true] : [true]) {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { task_id: taskId }, ConsistentRead }));
      if (out.Item) return stateOf(out.Item);
    }
    return undefined;
  }

  /** An eventually consistent read (half the units), then a consistent one if that missed: the payload is written before the task is queued. */
  async payload(taskId: string): Promise<TaskPayload | undefined> {
    for (const ConsistentRead of [false, true]) {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { task_id: payloadKey(taskId) }, ConsistentRead }));
      if (out.Item) return payloadOf(out.Item);
    }
    return undefined;
  }

  async transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<TaskState | undefined> {
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
    if (change.appendAttempt !== undefined) {
      names['#attempts_log'] = 'attempts_log';
      values[':attempt_entry'] = [change.appendAttempt];
      values[':empty_list'] = [];
      sets.push('#attempts_log = list_append(if_not_exists(#attempts_log, :empty_list), :attempt_entry)');
    }
    if (change.setAttempt !== undefined) {
      // The caller read the entry at this index under the same attempt, and the write's condition holds it there.
      names['#attempts_log'] = 'attempts_log';
      values[':attempt_end'] = change.setAttempt.entry;
      sets.push(`#attempts_log[${Math.trunc(change.setAttempt.index)}] = :attempt_end`);
    }
    const removes: string[] = (change.remove ?? []).map((key, j) => {
      names[`#r${j}`] = key;
      return `#r${j}`;
    });
    if (isTerminal(to)) {
      // The terminal write moves the task from `open` to `finished`: its only index writes after submit.
      names['#open_shard'] = TASKS_TABLE_KEYS.open.partitionKey;
      names['#finished_shard'] = TASKS_TABLE_KEYS.finished.partitionKey;
      values[':shard'] = taskShard(taskId);
      sets.push('#finished_shard = :shard');
      removes.push('#open_shard');
    }
    if (change.callbackDueAt !== undefined) {
      names['#callback_shard'] = TASKS_TABLE_KEYS.callbacks.partitionKey;
      names['#callback_due'] = TASKS_TABLE_KEYS.callbacks.sortKey;
      values[':callback_shard'] = taskShard(taskId);
      values[':callback_due'] = callbackDueKey(change.callbackDueAt, taskId);
      sets.push('#callback_shard = :callback_shard', '#callback_due = :callback_due');
    }
    const from = allowedFrom(to).filter((status) => change.when?.status?.includes(status) ?? true);
    // No status the caller allows may move there: the condition cannot hold (and `IN ()` would not parse).
    if (change.when?.status && from.length === 0) return undefined;
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
      return out.Attributes ? stateOf(out.Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  list(filter: TaskListFilter): Promise<TaskPage> {
    return listTasks(this.reader, filter, this.clock.now());
  }

  listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<TaskState[]> {
    return listTasksByStatus(this.reader, statuses, options);
  }

  private readonly reader: TaskIndexReader = {
    query: (q) => this.query(q),
    fetch: async (ids) => {
      const unique = [...new Set(ids)];
      const items = await this.batchGet(unique.flatMap((id) => [id, payloadKey(id)]));
      return unique.flatMap((id) => {
        const state = items.get(id);
        const payload = items.get(payloadKey(id));
        return state ? [{ ...stateOf(state), ...(payload ? payloadOf(payload) : MISSING_PAYLOAD) }] : [];
      });
    },
    fetchStates: async (ids) => {
      const items = await this.batchGet(ids);
      return [...new Set(ids)].flatMap((id) => {
        const state = items.get(id);
        return state ? [stateOf(state)] : [];
      });
    },
  };

  private async query(q: IndexQuery): Promise<IndexPage> {
    const names: Record<string, string> = { '#pk': q.index.partitionKey };
    const values: Record<string, unknown> = { ':pk': q.shard };
    let condition = '#pk = :pk';
    if (q.below !== undefined) {
      names['#sk'] = q.index.sortKey;
      values[':below'] = q.below;
      condition += ' AND #sk < :below';
    }
    const filters: string[] = [];
    if (q.agentType !== undefined) {
      names['#agent_type'] = 'agent_type';
      values[':agent_type'] = q.agentType;
      filters.push('#agent_type = :agent_type');
    }
    if (q.statuses !== undefined) {
      names['#status'] = 'status';
      q.statuses.forEach((status, i) => (values[`:status${i}`] = status));
      filters.push(`#status IN (${q.statuses.map((_, i) => `:status${i}`).join(', ')})`);
    }
    const out: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: q.index.name,
        KeyConditionExpression: condition,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: q.forward,
        Limit: q.limit,
      }),
    );
    const entries = (out.Items ?? []).map((i) => ({ task_id: String(i.task_id), created_key: String(i.created_key) }));
    const lastKey: unknown = out.LastEvaluatedKey?.[q.index.sortKey];
    return typeof lastKey === 'string' ? { entries, lastKey } : { entries };
  }

  /** Reads items by key (eventually consistent, as the index that listed them), 100 keys a request. */
  private async batchGet(listed: string[]): Promise<Map<string, Item>> {
    // An index may list a task twice (under its old and new shard, for a moment), and BatchGet refuses duplicate keys.
    const keys = [...new Set(listed)];
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      let batch: Array<Record<string, unknown>> | undefined = keys.slice(i, i + 100).map((task_id) => ({ task_id }));
      for (let round = 0; batch && batch.length > 0 && round < 8; round++) {
        const out: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: batch } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.task_id), item);
        batch = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }
}
