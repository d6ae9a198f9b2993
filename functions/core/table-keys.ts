/**
 * The key schemas of the DynamoDB tables: the adapters read and write by them, and the CDK app
 * (lib/constructs/task-tables.ts) builds the tables from them, so the two cannot disagree.
 */

/**
 * Shards of each task index: a task's entry goes to the shard its id hashes to, so no index
 * partition key takes more than 1/N of the writes. Per task, `open` takes 2 writes (the put at
 * submit, the delete at the terminal write) and `finished` 2 (the put at the terminal write, the
 * delete when TTL removes the task); status changes in between write no index. At 1 000 tasks/s
 * sustained that is 2 000 writes/s per index, 2 000 / 8 = 250 writes/s per shard: a quarter of a
 * partition's 1 000 write units/s, so a burst of 4x, or an uneven hash, still fits. A listing
 * page reads every shard (8 Queries per index), which bounds its work by 8 x the page size.
 */
export const TASK_INDEX_SHARDS = 8;

/** Index names and key attributes of the Tasks table. */
export const TASKS_TABLE_KEYS = {
  partitionKey: 'task_id',
  /**
   * Unfinished tasks (sparse: the terminal write removes `open_shard`). Projects `agent_type`, which
   * never changes, so a status change costs no index write.
   */
  open: { name: 'open', partitionKey: 'open_shard', sortKey: 'created_key', include: ['agent_type'] },
  /** Finished tasks (sparse: the terminal write adds `finished_shard`), with their final status. */
  finished: { name: 'finished', partitionKey: 'finished_shard', sortKey: 'created_key', include: ['agent_type', 'status'] },
  /**
   * Finished tasks whose callback is pending (sparse: the terminal write adds `callback_shard`, the
   * write that records it sent or failed removes it), by when the next attempt is due: what the
   * reconciler reads to resume a callback whose queue message was lost. Keys only.
   */
  callbacks: { name: 'callbacks', partitionKey: 'callback_shard', sortKey: 'callback_due' },
  /**
   * The item holding a task's parameters and metadata, written once at submit, has the key
   * `<task_id>#payload` (task ids are UUIDs, so no task has it).
   */
  payloadSuffix: '#payload',
  ttlAttribute: 'expires_at',
} as const;

export type TaskIndex = (typeof TASKS_TABLE_KEYS)['open' | 'finished'];

/** The sort key of the callbacks index: when the callback is due, then the task id. */
export function callbackDueKey(dueAtMs: number, taskId: string): string {
  return `${new Date(dueAtMs).toISOString()}#${taskId}`;
}

/** When (ms since epoch) the callback of a callbacks index entry is due, from its sort key. */
export function callbackDueOf(dueKey: string): number {
  return Date.parse(dueKey.slice(0, dueKey.indexOf('#')));
}

/** The shard of a task's index entries: FNV-1a of its id, so any id spreads evenly and every store agrees. */
export function taskShard(taskId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    hash ^= taskId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return String(hash % TASK_INDEX_SHARDS);
}

/** The sort key of both task indexes: creation time, then the id, so every entry has its own place and pages continue exactly. */
export function createdKey(createdAt: string, taskId: string): string {
  return `${createdAt}#${taskId}`;
}

/** Index names and key attributes of the Agents table. */
export const AGENTS_TABLE_KEYS = {
  partitionKey: 'agent_id',
  byType: { name: 'by-type', partitionKey: 'type', sortKey: 'agent_id' },
  ttlAttribute: 'expires_at',
} as const;

/** The Idempotency-Key records of POST /tasks (Powertools idempotency's persistence layer). */
export const IDEMPOTENCY_TABLE_KEYS = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;
