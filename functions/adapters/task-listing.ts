/**
 * What the task stores share about listing: the page token (opaque to callers, so both stores
 * refuse a foreign one with the same error), month buckets, and hiding tasks past retention.
 */
import { ValidationError } from '../core/errors';
import type { TaskListFilter, TaskPage } from '../core/ports';
import { TASKS_TABLE_KEYS } from '../core/table-keys';
import type { Task, TaskStatus } from '../core/task-model';

/** How far back an unfiltered listing walks month buckets. */
export const MAX_MONTHS_BACK = 24;

export interface PageToken {
  /** Month bucket being read (unfiltered listing only). */
  m?: string;
  /** The index key to continue after; absent to start the month from its newest task. */
  k?: Record<string, unknown>;
}

export function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

const bad = () =>
  new ValidationError(
    'invalid next_token: it is not one this API issued; pass the next_token of the previous page unchanged, with the same filters',
    [{ field: 'next_token', message: 'not issued by this API' }],
  );

export function decodePageToken(raw: string): PageToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad();
  const { m, k } = parsed as Record<string, unknown>;
  if (
    (k !== undefined && (typeof k !== 'object' || k === null)) ||
    (m !== undefined && (typeof m !== 'string' || !/^\d{4}-\d{2}$/.test(m)))
  )
    throw bad();
  for (const v of Object.values(k ?? {})) if (typeof v !== 'string') throw bad();
  return { m: m, k: k as Record<string, unknown> | undefined };
}

/**
 * Where a page of `index` in the partition `value` starts: the token's key, checked as DynamoDB
 * checks an ExclusiveStartKey (exactly the table key and the index's keys, non-empty strings, in
 * this partition), so a token of another listing, or an edited one, is the caller's 400 and not
 * the store's ValidationException.
 */
function startKeyOf(token: PageToken | undefined, index: IndexQuery['index'], value: string): Record<string, unknown> | undefined {
  const k = token?.k;
  if (k === undefined) return undefined;
  const names = [TASKS_TABLE_KEYS.partitionKey, index.partitionKey, index.sortKey];
  const exact = Object.keys(k).length === names.length && names.every((n) => typeof k[n] === 'string' && k[n] !== '');
  if (!exact || k[index.partitionKey] !== value) throw bad();
  return k;
}

/** The key of an index entry: the table key plus the index's keys, as ExclusiveStartKey wants it. */
export function indexKey(item: Record<string, unknown>, partitionKey: string): Record<string, unknown> {
  return { task_id: item.task_id, [partitionKey]: item[partitionKey], created_at: item.created_at };
}

export function monthOf(iso: string): string {
  return iso.slice(0, 7);
}

export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** DynamoDB TTL deletes late (and emulators never do): finished tasks past retention are hidden on read. */
export function pastRetention(task: Task & { expires_at?: number }, nowMs: number): boolean {
  return task.expires_at !== undefined && task.expires_at * 1000 <= nowMs;
}

/** One Query of a keys-only index of the Tasks table. */
export interface IndexQuery {
  index: (typeof TASKS_TABLE_KEYS)['byStatus' | 'byAgentType' | 'byMonth'];
  value: string;
  /** Oldest first when true (ScanIndexForward), else newest first. */
  forward: boolean;
  limit: number;
  startKey?: Record<string, unknown>;
  /** Only entries created at or before this time. */
  createdBefore?: string;
}

/** A Query's answer: at most `limit` index entries, and where to go on when there may be more. */
export interface IndexPage {
  items: Array<Record<string, unknown>>;
  lastKey?: Record<string, unknown>;
}

/** How a task store reads: its indexes (keys only) one Query at a time, and the items by id. */
export interface TaskIndexReader {
  query(q: IndexQuery): Promise<IndexPage>;
  /** The tasks with these ids, each once, in the order first listed; ids no longer stored are left out. */
  fetch(ids: string[]): Promise<Task[]>;
}

/**
 * GET /tasks over either store: by status or agent type from that index, else newest first across
 * month buckets. One extra entry is read to know whether another page exists, so the last page
 * carries no next_token; the index only lists keys, so the page's items are then read by id.
 */
export async function listTasks(reader: TaskIndexReader, filter: TaskListFilter, nowMs: number): Promise<TaskPage> {
  const token = filter.nextToken ? decodePageToken(filter.nextToken) : undefined;
  if (filter.status !== undefined || filter.agentType !== undefined) {
    const byStatus = filter.status !== undefined;
    const index = byStatus ? TASKS_TABLE_KEYS.byStatus : TASKS_TABLE_KEYS.byAgentType;
    const value = (byStatus ? filter.status : filter.agentType)!;
    // A month is only in the tokens of the unfiltered listing.
    if (token?.m !== undefined) throw bad();
    const startKey = startKeyOf(token, index, value);
    const out = await reader.query({ index, value, forward: false, limit: filter.limit + 1, startKey });
    const kept = out.items.slice(0, filter.limit);
    const last = kept[kept.length - 1];
    // The index is only eventually consistent: the item read decides.
    const tasks = (await reader.fetch(kept.map((i) => String(i.task_id)))).filter(
      (t) =>
        (filter.status === undefined || t.status === filter.status) &&
        (filter.agentType === undefined || t.agent_type === filter.agentType) &&
        !pastRetention(t, nowMs),
    );
    const more = out.items.length > filter.limit;
    return more && last ? { tasks, nextToken: encodePageToken({ k: indexKey(last, index.partitionKey) }) } : { tasks };
  }
  const index = TASKS_TABLE_KEYS.byMonth;
  let month = token?.m ?? monthOf(new Date(nowMs).toISOString());
  let startKey = startKeyOf(token, index, month);
  const found: Array<Record<string, unknown>> = [];
  for (let walked = 0; walked < MAX_MONTHS_BACK && found.length <= filter.limit; walked++) {
    const out = await reader.query({ index, value: month, forward: false, limit: filter.limit + 1 - found.length, startKey });
    found.push(...out.items);
    if (out.lastKey) {
      startKey = out.lastKey;
      continue;
    }
    month = previousMonth(month);
    startKey = undefined;
  }
  const kept = found.slice(0, filter.limit);
  const last = kept[kept.length - 1];
  const tasks = (await reader.fetch(kept.map((i) => String(i.task_id)))).filter((t) => !pastRetention(t, nowMs));
  if (found.length > filter.limit && last) {
    return { tasks, nextToken: encodePageToken({ m: String(last.created_month), k: indexKey(last, index.partitionKey) }) };
  }
  return { tasks };
}

/** TaskStore.listByStatus over either store: up to `limit` of each status (so a crowd in one hides none of another), oldest first. */
export async function listTasksByStatus(
  reader: TaskIndexReader,
  statuses: readonly TaskStatus[],
  options: { limit: number; createdBefore?: string },
): Promise<Task[]> {
  const ids: string[] = [];
  for (const value of statuses) {
    let found = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await reader.query({
        index: TASKS_TABLE_KEYS.byStatus,
        value,
        forward: true,
        limit: options.limit - found,
        startKey,
        createdBefore: options.createdBefore,
      });
      ids.push(...out.items.map((i) => String(i.task_id)));
      found += out.items.length;
      startKey = out.lastKey;
    } while (startKey && found < options.limit);
  }
  // The index is only eventually consistent: the item read decides the status.
  return (await reader.fetch(ids)).filter((t) => statuses.includes(t.status)).sort((a, b) => a.created_at.localeCompare(b.created_at));
}
