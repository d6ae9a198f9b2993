import { unstorablePlace } from '../core/json-limits';
import { type Clock, systemClock, type TaskChange, type TaskListFilter, type TaskPage, type TaskStore } from '../core/ports';
import { TASKS_TABLE_KEYS } from '../core/table-keys';
import { allowedFrom, type Task, type TaskStatus } from '../core/task-model';
import { overlapError, overlappingPath, storedCopy, storeError } from './memory-items';
import { type IndexPage, type IndexQuery, indexKey, listTasks, listTasksByStatus, monthOf, type TaskIndexReader } from './task-listing';

/** A stored task with the attributes only the table has (created_month). */
type Item = Record<string, unknown>;

/**
 * In-process TaskStore with DynamoTaskStore's semantics, for fast use-case tests: conditional
 * transitions, the same listings over the same indexes (status, agent type, month; newest first,
 * pages continuing after an index key), the same page token, and finished tasks past retention
 * hidden from listings. Requests DynamoDB refuses (an update naming an attribute twice, a move
 * that no status allows, a value it cannot keep) fail with an error of DynamoDB's name. Entries with the same created_at
 * come in task_id order here; DynamoDB orders them by a hash of the key.
 */
export class MemoryTaskStore implements TaskStore {
  private readonly items = new Map<string, Item>();

  constructor(private readonly clock: Clock = systemClock) {}

  async create(task: Task): Promise<void> {
    refuseUnstorable(task);
    if (this.items.has(task.task_id)) throw storeError('ConditionalCheckFailedException', 'The conditional request failed');
    this.items.set(task.task_id, storedCopy({ ...task, created_month: monthOf(task.created_at) }));
  }

  async get(taskId: string): Promise<Task | undefined> {
    const item = this.items.get(taskId);
    return item ? strip(item) : undefined;
  }

  async transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<Task | undefined> {
    const from = allowedFrom(to);
    // DynamoTaskStore's condition would be `#status IN ()`, which DynamoDB refuses as a syntax error.
    if (from.length === 0) throw storeError('ValidationException', `Invalid ConditionExpression: no status may move to "${to}"`);
    const sets = Object.entries(change.set ?? {}).filter(([, value]) => value !== undefined);
    const paths = [
      'status',
      'updated_at',
      ...sets.map(([key]) => key),
      ...(change.expiresAt !== undefined ? [TASKS_TABLE_KEYS.ttlAttribute] : []),
      ...(change.appendFailedAgent !== undefined ? ['failed_agents'] : []),
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

    const item = this.items.get(taskId);
    if (!item || !from.includes(item.status as TaskStatus)) return undefined;
    if (change.when?.attempts !== undefined && item.attempts !== change.when.attempts) return undefined;

    const next: Item = { ...item, status: to, updated_at: new Date(this.clock.now()).toISOString() };
    for (const [key, value] of sets) next[key] = storedCopy(value);
    if (change.expiresAt !== undefined) next[TASKS_TABLE_KEYS.ttlAttribute] = change.expiresAt;
    if (change.appendFailedAgent !== undefined)
      next.failed_agents = [...((item.failed_agents as string[] | undefined) ?? []), change.appendFailedAgent];
    for (const key of change.remove ?? []) delete next[key];
    this.items.set(taskId, next);
    return strip(next);
  }

  list(filter: TaskListFilter): Promise<TaskPage> {
    return listTasks(this.reader, filter, this.clock.now());
  }

  listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<Task[]> {
    return listTasksByStatus(this.reader, statuses, options);
  }

  private readonly reader: TaskIndexReader = {
    query: async (q) => this.query(q),
    fetch: async (ids) => this.fetch(ids),
  };

  /**
   * A Query of one of the table's indexes (keys only): entries ordered by created_at, then task_id;
   * a start key must name an entry of this partition, as DynamoDB requires of ExclusiveStartKey.
   */
  private query(q: IndexQuery): IndexPage {
    if (q.limit < 1)
      throw storeError(
        'ValidationException',
        `1 validation error detected: Value '${q.limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    const { sortKey } = q.index;
    const key = (i: Item) => [String(i[sortKey]), String(i.task_id)] as const;
    const before = (a: readonly [string, string], b: readonly [string, string]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    const entries = [...this.items.values()]
      .filter(
        (i) =>
          i[q.index.partitionKey] === q.value &&
          typeof i[sortKey] === 'string' &&
          (q.createdBefore === undefined || i[sortKey] <= q.createdBefore),
      )
      .sort((a, b) => (before(key(a), key(b)) ? -1 : before(key(b), key(a)) ? 1 : 0));
    if (!q.forward) entries.reverse();
    let start = 0;
    if (q.startKey) {
      const names = [TASKS_TABLE_KEYS.partitionKey, q.index.partitionKey, sortKey];
      const k = q.startKey;
      if (Object.keys(k).length !== names.length || names.some((n) => typeof k[n] !== 'string' || k[n] === ''))
        throw storeError('ValidationException', 'The provided starting key is invalid');
      if (k[q.index.partitionKey] !== q.value)
        throw storeError('ValidationException', 'The provided starting key is outside query boundaries based on provided conditions');
      const at = [String(k[sortKey]), String(k.task_id)] as const;
      const after = entries.findIndex((i) => (q.forward ? before(at, key(i)) : before(key(i), at)));
      start = after === -1 ? entries.length : after;
    }
    const items = entries.slice(start, start + q.limit);
    const last = items[items.length - 1];
    return items.length >= q.limit && last ? { items, lastKey: indexKey(last, q.index.partitionKey) } : { items };
  }

  /** Copies of the tasks by id, each once, in the order first listed (an id no longer stored is left out). */
  private fetch(ids: string[]): Task[] {
    return [...new Set(ids)].flatMap((id) => {
      const item = this.items.get(id);
      return item ? [strip(item)] : [];
    });
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

function strip(item: Item): Task {
  const { created_month: _month, ...task } = storedCopy(item);
  return task as unknown as Task;
}
