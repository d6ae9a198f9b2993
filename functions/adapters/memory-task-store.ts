import { unstorablePlace } from '@optiinfra/contract';
import type { AttemptLogEntry } from '../core/attempt-log';
import type { CallbackSettlement, CallbackStore, DueCallback } from '../core/callback-port';
import { type Clock, systemClock, type TaskChange, type TaskListFilter, type TaskPage, type TaskStore } from '../core/ports';
import { callbackDueKey, callbackDueOf, TASKS_TABLE_KEYS, taskShard } from '../core/table-keys';
import { allowedFrom, isTerminal, type Task, type TaskPayload, type TaskState, type TaskStatus } from '../core/task-model';
import { overlapError, overlappingPath, storedCopy, storeError } from './memory-items';
import { isTaskId, type Item, MISSING_PAYLOAD, payloadItemOf, payloadKey, payloadOf, stateItemOf, stateOf } from './task-items';
import { type IndexPage, type IndexQuery, listTasks, listTasksByStatus, type TaskIndexReader } from './task-listing';

const CALLBACK_INDEX_KEYS = { partitionKey: TASKS_TABLE_KEYS.callbacks.partitionKey, sortKey: TASKS_TABLE_KEYS.callbacks.sortKey };

/** Sees each item write: the item before and after it (undefined when absent), as the table stores it. */
export type ItemWriteObserver = (before: Item | undefined, after: Item | undefined) => void;

/**
 * In-process TaskStore with DynamoTaskStore's semantics, for fast use-case tests: conditional
 * transitions, the same items (task-items.ts), the same listings over the same sharded indexes, the
 * same page token, and finished tasks past retention hidden from listings. Requests DynamoDB refuses (an update naming an attribute twice, a move
 * that no status allows, a value it cannot keep) fail with an error of DynamoDB's name.
 */
export class MemoryTaskStore implements TaskStore, CallbackStore {
  private readonly items = new Map<string, Item>();

  constructor(
    private readonly clock: Clock = systemClock,
    /** For tests of what the table's indexes take: every item write, as DynamoTaskStore makes it. */
    private readonly observe?: ItemWriteObserver,
  ) {}

  private put(key: string, item: Item): void {
    this.observe?.(this.items.get(key), item);
    this.items.set(key, item);
  }

  async create(task: Task, payloadExpiresAt?: number): Promise<void> {
    refuseUnstorable(task);
    for (const item of [payloadItemOf(task, payloadExpiresAt), stateItemOf(task)]) {
      const key = String(item.task_id);
      if (this.items.has(key)) throw storeError('ConditionalCheckFailedException', 'The conditional request failed');
      this.put(key, storedCopy(item));
    }
  }

  /** Always consistent here: a read a moment old is DynamoDB's, and changes nothing a caller may rely on. */
  async get(taskId: string, _options?: { consistent?: boolean }): Promise<TaskState | undefined> {
    const item = isTaskId(taskId) ? this.items.get(taskId) : undefined;
    return item ? stateOf(storedCopy(item)) : undefined;
  }

  async payload(taskId: string): Promise<TaskPayload | undefined> {
    const item = this.items.get(payloadKey(taskId));
    return item ? payloadOf(storedCopy(item)) : undefined;
  }

  async transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<TaskState | undefined> {
    const from = allowedFrom(to).filter((status) => change.when?.status?.includes(status) ?? true);
    if (change.when?.status && from.length === 0) return undefined;
    // DynamoTaskStore's condition would be `#status IN ()`, which DynamoDB refuses as a syntax error.
    if (from.length === 0) throw storeError('ValidationException', `Invalid ConditionExpression: no status may move to "${to}"`);
    const sets = Object.entries(change.set ?? {}).filter(([, value]) => value !== undefined);
    const paths = [
      'status',
      'updated_at',
      ...sets.map(([key]) => key),
      ...(change.expiresAt !== undefined ? [TASKS_TABLE_KEYS.ttlAttribute] : []),
      ...(change.appendFailedAgent !== undefined ? ['failed_agents'] : []),
      ...(change.appendAttempt !== undefined ? ['attempts_log'] : []),
      ...(change.setAttempt !== undefined ? [`attempts_log[${change.setAttempt.index}]`] : []),
      ...(change.remove ?? []),
    ];
    refuseUnstorable(Object.fromEntries(sets));
    const overlap = overlappingPath(paths);
    if (overlap !== undefined) throw overlapError(overlap);
    if (paths.includes(TASKS_TABLE_KEYS.partitionKey))
      throw storeError(
        'ValidationException',
        'One or more parameter values were invalid: Cannot update attribute task_id. This attribute is part of the key',
      );

    const item = isTaskId(taskId) ? this.items.get(taskId) : undefined;
    if (!item || !from.includes(item.status as TaskStatus)) return undefined;
    if (change.when?.attempts !== undefined && item.attempts !== change.when.attempts) return undefined;

    const next: Item = { ...item, status: to, updated_at: new Date(this.clock.now()).toISOString() };
    for (const [key, value] of sets) next[key] = storedCopy(value);
    if (change.expiresAt !== undefined) next[TASKS_TABLE_KEYS.ttlAttribute] = change.expiresAt;
    if (change.appendFailedAgent !== undefined)
      next.failed_agents = [...((item.failed_agents as string[] | undefined) ?? []), change.appendFailedAgent];
    const log = (item.attempts_log as AttemptLogEntry[] | undefined) ?? [];
    if (change.appendAttempt !== undefined) next.attempts_log = [...log, storedCopy(change.appendAttempt)];
    if (change.setAttempt !== undefined) {
      // DynamoDB refuses a path into a list the item does not have.
      if (item.attempts_log === undefined)
        throw storeError('ValidationException', 'The document path provided in the update expression is invalid for update');
      const replaced = [...log];
      replaced[Math.min(change.setAttempt.index, replaced.length)] = storedCopy(change.setAttempt.entry);
      next.attempts_log = replaced;
    }
    for (const key of change.remove ?? []) delete next[key];
    if (isTerminal(to)) {
      delete next[TASKS_TABLE_KEYS.open.partitionKey];
      next[TASKS_TABLE_KEYS.finished.partitionKey] = taskShard(taskId);
    }
    if (change.callbackDueAt !== undefined) {
      next[TASKS_TABLE_KEYS.callbacks.partitionKey] = taskShard(taskId);
      next[TASKS_TABLE_KEYS.callbacks.sortKey] = callbackDueKey(change.callbackDueAt, taskId);
    }
    this.put(taskId, next);
    return stateOf(storedCopy(next));
  }

  async claim(taskId: string, attempts: number, nowMs: number, leaseUntil: number): Promise<boolean> {
    const item = this.items.get(taskId);
    const lease = item?.callback_lease_until as number | undefined;
    if (item?.callback_status !== 'pending' || item.callback_attempts !== attempts || (lease !== undefined && lease > nowMs)) return false;
    const due = callbackDueKey(leaseUntil, taskId);
    this.put(taskId, {
      ...item,
      callback_attempts: attempts + 1,
      callback_lease_until: leaseUntil,
      [TASKS_TABLE_KEYS.callbacks.sortKey]: due,
    });
    return true;
  }

  async settle(taskId: string, attempt: number, outcome: CallbackSettlement): Promise<boolean> {
    const item = this.items.get(taskId);
    if (item?.callback_status !== 'pending' || item.callback_attempts !== attempt) return false;
    const next: Item = { ...item };
    if (outcome.status === 'pending') {
      Object.assign(next, { callback_error: outcome.error, callback_lease_until: outcome.retryAt });
      next[TASKS_TABLE_KEYS.callbacks.sortKey] = callbackDueKey(outcome.retryAt, taskId);
    } else {
      for (const key of ['callback_lease_until', 'callback_error', ...Object.values(CALLBACK_INDEX_KEYS)]) delete next[key];
      next.callback_status = outcome.status;
      if (outcome.status === 'sent') next.callback_sent_at = outcome.at;
      else next.callback_error = outcome.error;
    }
    this.put(taskId, next);
    return true;
  }

  async listDue(beforeMs: number | undefined, limit: number): Promise<DueCallback[]> {
    const before = beforeMs === undefined ? undefined : callbackDueKey(beforeMs, '');
    const shards = new Map<string, Item[]>();
    for (const item of this.items.values()) {
      const shard = item[CALLBACK_INDEX_KEYS.partitionKey];
      const due = item[CALLBACK_INDEX_KEYS.sortKey];
      if (typeof shard !== 'string' || typeof due !== 'string' || (before !== undefined && due >= before)) continue;
      shards.set(shard, [...(shards.get(shard) ?? []), item]);
    }
    const byDue = (a: Item, b: Item) => (String(a[CALLBACK_INDEX_KEYS.sortKey]) < String(b[CALLBACK_INDEX_KEYS.sortKey]) ? -1 : 1);
    return [...shards.values()]
      .flatMap((items) => items.sort(byDue).slice(0, limit))
      .map((item): DueCallback => ({ taskId: String(item.task_id), dueAt: callbackDueOf(String(item[CALLBACK_INDEX_KEYS.sortKey])) }))
      .sort((a, b) => a.dueAt - b.dueAt);
  }

  list(filter: TaskListFilter): Promise<TaskPage> {
    return listTasks(this.reader, filter, this.clock.now());
  }

  listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<TaskState[]> {
    return listTasksByStatus(this.reader, statuses, options);
  }

  private readonly reader: TaskIndexReader = {
    query: async (q) => this.query(q),
    fetch: async (ids) =>
      [...new Set(ids)].flatMap((id) => {
        const state = this.items.get(id);
        const payload = this.items.get(payloadKey(id));
        return state ? [{ ...stateOf(storedCopy(state)), ...(payload ? payloadOf(storedCopy(payload)) : MISSING_PAYLOAD) }] : [];
      }),
    fetchStates: async (ids) =>
      [...new Set(ids)].flatMap((id) => {
        const state = this.items.get(id);
        return state ? [stateOf(storedCopy(state))] : [];
      }),
  };

  /**
   * A Query of one shard of an index, as DynamoDB runs it: entries in sort key order, at most
   * `limit` evaluated, then the filters; the last evaluated key when the limit stopped it.
   */
  private query(q: IndexQuery): IndexPage {
    if (q.limit < 1)
      throw storeError(
        'ValidationException',
        `1 validation error detected: Value '${q.limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    const { partitionKey, sortKey } = q.index;
    const entries = [...this.items.values()]
      .filter(
        (i) => i[partitionKey] === q.shard && typeof i[sortKey] === 'string' && (q.below === undefined || String(i[sortKey]) < q.below),
      )
      .sort((a, b) => (String(a[sortKey]) < String(b[sortKey]) ? -1 : 1));
    if (!q.forward) entries.reverse();
    const evaluated = entries.slice(0, q.limit);
    const passed = evaluated.filter(
      (i) =>
        (q.agentType === undefined || i.agent_type === q.agentType) &&
        (q.statuses === undefined || q.statuses.includes(i.status as TaskStatus)),
    );
    const page: IndexPage = { entries: passed.map((i) => ({ task_id: String(i.task_id), created_key: String(i[sortKey]) })) };
    const last = evaluated[evaluated.length - 1];
    if (evaluated.length >= q.limit && last) page.lastKey = String(last[sortKey]);
    return page;
  }
}

/**
 * Values DynamoTaskStore cannot write fail here too: numbers the document client refuses to
 * marshal (an Error) or DynamoDB refuses (a ValidationException), and `__proto__` keys (the
 * marshaller makes them the prototype of its map, and DynamoDB refuses the empty value).
 */
function refuseUnstorable(values: unknown): void {
  const place = unstorablePlace(values);
  if (place) throw storeError('ValidationException', `One or more parameter values were invalid: ${place.path.join('.')} ${place.problem}`);
}
