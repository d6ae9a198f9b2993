import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CallbackSettlement, CallbackStore, DueCallback } from '../core/callback-port';
import { callbackDueKey, callbackDueOf, TASK_INDEX_SHARDS, TASKS_TABLE_KEYS } from '../core/table-keys';

const INDEX = TASKS_TABLE_KEYS.callbacks;

/** The callback fields of the task state items, written conditionally (callback-port.ts), and the callbacks index. */
export class DynamoCallbackStore implements CallbackStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(taskId: string, attempts: number, nowMs: number, leaseUntil: number): Promise<boolean> {
    return this.update(taskId, {
      UpdateExpression: 'SET callback_attempts = :next, callback_lease_until = :lease, #due = :due',
      ConditionExpression:
        'callback_status = :pending AND callback_attempts = :attempts AND (attribute_not_exists(callback_lease_until) OR callback_lease_until <= :now)',
      ExpressionAttributeNames: { '#due': INDEX.sortKey },
      ExpressionAttributeValues: {
        ':next': attempts + 1,
        ':lease': leaseUntil,
        ':due': callbackDueKey(leaseUntil, taskId),
        ':pending': 'pending',
        ':attempts': attempts,
        ':now': nowMs,
      },
    });
  }

  async settle(taskId: string, attempt: number, outcome: CallbackSettlement): Promise<boolean> {
    const condition = { ConditionExpression: 'callback_status = :pending AND callback_attempts = :attempt' };
    const base = { ':pending': 'pending', ':attempt': attempt };
    // An ended callback leaves the index: the only write it costs there after the terminal write.
    const leave = 'REMOVE callback_lease_until, #shard, #due';
    const names = { '#shard': INDEX.partitionKey, '#due': INDEX.sortKey };
    if (outcome.status === 'sent')
      return this.update(taskId, {
        ...condition,
        UpdateExpression: `SET callback_status = :sent, callback_sent_at = :at ${leave}, callback_error`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...base, ':sent': 'sent', ':at': outcome.at },
      });
    if (outcome.status === 'failed')
      return this.update(taskId, {
        ...condition,
        UpdateExpression: `SET callback_status = :failed, callback_error = :error ${leave}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...base, ':failed': 'failed', ':error': outcome.error },
      });
    return this.update(taskId, {
      ...condition,
      UpdateExpression: 'SET callback_error = :error, callback_lease_until = :lease, #due = :due',
      ExpressionAttributeNames: { '#due': INDEX.sortKey },
      ExpressionAttributeValues: {
        ...base,
        ':error': outcome.error,
        ':lease': outcome.retryAt,
        ':due': callbackDueKey(outcome.retryAt, taskId),
      },
    });
  }

  async listDue(beforeMs: number | undefined, limit: number): Promise<DueCallback[]> {
    const shards = Array.from({ length: TASK_INDEX_SHARDS }, (_, shard) => String(shard));
    const pages = await Promise.all(
      shards.map((shard) =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX.name,
            KeyConditionExpression: beforeMs === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :before',
            ExpressionAttributeNames: { '#pk': INDEX.partitionKey, ...(beforeMs === undefined ? {} : { '#sk': INDEX.sortKey }) },
            ExpressionAttributeValues: { ':pk': shard, ...(beforeMs === undefined ? {} : { ':before': callbackDueKey(beforeMs, '') }) },
            Limit: limit,
          }),
        ),
      ),
    );
    return pages
      .flatMap((page) => page.Items ?? [])
      .map((item): DueCallback => ({ taskId: String(item.task_id), dueAt: callbackDueOf(String(item[INDEX.sortKey])) }))
      .sort((a, b) => a.dueAt - b.dueAt);
  }

  private async update(
    taskId: string,
    input: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { task_id: taskId }, ...input }));
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
