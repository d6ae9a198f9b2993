/**
 * What the task stores share about listing: the page token (opaque to callers, so both stores
 * refuse a foreign one with the same error), merging the shards of the sparse indexes, and hiding
 * tasks past retention.
 */
import { ValidationError } from '@optiinfra/contract';
import type { TaskListFilter, TaskPage } from '../core/ports';
import { createdKey, TASK_INDEX_SHARDS, TASKS_TABLE_KEYS, type TaskIndex } from '../core/table-keys';
import { isTerminal, type Task, type TaskState, type TaskStatus } from '../core/task-model';

/**
 * Where the next page starts: the sort key of the last entry handled, as the task id and creation
 * time, with the listing's filter (`status` or `agent_type`) so that a token of another listing is refused.
 */
export interface PageToken {
  k: Record<string, string>;
}

export function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

const bad = () =>
  new ValidationError(
    'invalid next_token: it is not one this API issued; pass the next_token of the previous page unchanged, with the same filters',
    [{ field: 'next_token', message: 'not issued by this API' }],
  );

/** The listing a token belongs to: the attribute it is filtered on (none for the unfiltered one) and its value. */
interface Listing {
  attribute?: 'status' | 'agent_type';
  value?: string;
}

function listingOf(filter: TaskListFilter): Listing {
  if (filter.status !== undefined) return { attribute: 'status', value: filter.status };
  if (filter.agentType !== undefined) return { attribute: 'agent_type', value: filter.agentType };
  return {};
}

/** The sort key a page of `listing` continues below: exactly the attributes its tokens have, non-empty strings, of this listing. */
export function decodePageToken(raw: string, listing: Listing): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad();
  const { k, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof k !== 'object' || k === null || Array.isArray(k)) throw bad();
  const key = k as Record<string, unknown>;
  const names = ['task_id', 'created_at', ...(listing.attribute ? [listing.attribute] : [])];
  const exact = Object.keys(key).length === names.length && names.every((n) => typeof key[n] === 'string' && key[n] !== '');
  if (!exact || (listing.attribute && key[listing.attribute] !== listing.value)) throw bad();
  return createdKey(String(key.created_at), String(key.task_id));
}

function tokenOf(sortKey: string, listing: Listing): string {
  const at = sortKey.indexOf('#');
  const k: Record<string, string> = { task_id: sortKey.slice(at + 1), created_at: sortKey.slice(0, at) };
  if (listing.attribute) k[listing.attribute] = listing.value!;
  return encodePageToken({ k });
}

/** DynamoDB TTL deletes late (and emulators never do): finished tasks past retention are hidden on read. */
export function pastRetention(task: TaskState & { expires_at?: number }, nowMs: number): boolean {
  return task.expires_at !== undefined && task.expires_at * 1000 <= nowMs;
}

/** One Query of one shard of a task index (entries carry the keys and the projected attributes). */
export interface IndexQuery {
  index: TaskIndex;
  shard: string;
  /** Oldest first when true (ScanIndexForward), else newest first. */
  forward: boolean;
  /** Entries evaluated, as DynamoDB's Limit: the filters below apply after it. */
  limit: number;
  /** Only entries whose sort key is below this one. */
  below?: string;
  /** Only entries of this agent type (the projected agent_type). */
  agentType?: string;
  /** Only entries in one of these statuses (`finished` projects the status). */
  statuses?: readonly TaskStatus[];
}

export interface IndexEntry {
  task_id: string;
  created_key: string;
}

/** A Query's answer: the entries that passed its filters, and the sort key of the last one evaluated when the limit stopped it. */
export interface IndexPage {
  entries: IndexEntry[];
  lastKey?: string;
}

/** How a task store reads: one shard of an index at a time, and items by id. */
export interface TaskIndexReader {
  query(q: IndexQuery): Promise<IndexPage>;
  /** The tasks with these ids, each once, in the order first listed; ids no longer stored are left out. */
  fetch(ids: string[]): Promise<Task[]>;
  /** The same without their payload. */
  fetchStates(ids: string[]): Promise<TaskState[]>;
}

type ShardQuery = Omit<IndexQuery, 'shard'>;

const SHARDS = Array.from({ length: TASK_INDEX_SHARDS }, (_, i) => String(i));

/**
 * Reads every shard of each source with the same limit and merges them in sort key order. Only the
 * entries up to the nearest place where some shard stopped (`frontier`) are known to be in order, so
 * those are all it answers; without a frontier every shard was read to its end.
 */
async function readShards(reader: TaskIndexReader, sources: ShardQuery[]): Promise<{ entries: IndexEntry[]; frontier?: string }> {
  const forward = sources[0]!.forward;
  const pages = await Promise.all(sources.flatMap((q) => SHARDS.map((shard) => reader.query({ ...q, shard }))));
  const frontiers = pages.flatMap((p) => (p.lastKey === undefined ? [] : [p.lastKey]));
  // The nearest place where a shard stopped: past it, another entry of that shard may come first.
  const frontier = frontiers.length === 0 ? undefined : frontiers.reduce((a, b) => ((forward ? b < a : b > a) ? b : a));
  const inOrder = (e: IndexEntry) => frontier === undefined || (forward ? e.created_key <= frontier : e.created_key >= frontier);
  const entries = pages
    .flatMap((p) => p.entries)
    .filter(inOrder)
    .sort((a, b) => (a.created_key < b.created_key ? -1 : a.created_key > b.created_key ? 1 : 0));
  if (!forward) entries.reverse();
  return frontier === undefined ? { entries } : { entries, frontier };
}

/**
 * GET /tasks over either store, newest first: unfinished statuses from `open`, terminal ones from
 * `finished`, an agent type or no filter from both. Every shard is read for `limit + 1` entries (so
 * a page's work is bounded by the shards times its size) and merged; the items are then read by id,
 * and the item decides (the indexes are only eventually consistent). A page may be short when a
 * filter leaves entries out, and then still carries a next_token.
 */
export async function listTasks(reader: TaskIndexReader, filter: TaskListFilter, nowMs: number): Promise<TaskPage> {
  const listing = listingOf(filter);
  const below = filter.nextToken ? decodePageToken(filter.nextToken, listing) : undefined;
  const base = { forward: false, limit: filter.limit + 1, below, agentType: filter.agentType };
  const { open, finished } = TASKS_TABLE_KEYS;
  const sources: ShardQuery[] =
    filter.status === undefined
      ? [
          { ...base, index: open },
          { ...base, index: finished },
        ]
      : isTerminal(filter.status)
        ? [{ ...base, index: finished, statuses: [filter.status] }]
        : [{ ...base, index: open }];
  const { entries, frontier } = await readShards(reader, sources);
  const kept = entries.slice(0, filter.limit);
  const tasks = (await reader.fetch(kept.map((e) => e.task_id))).filter(
    (t) =>
      (filter.status === undefined || t.status === filter.status) &&
      (filter.agentType === undefined || t.agent_type === filter.agentType) &&
      !pastRetention(t, nowMs),
  );
  const next = entries.length > filter.limit ? kept[kept.length - 1]!.created_key : frontier;
  return next === undefined ? { tasks } : { tasks, nextToken: tokenOf(next, listing) };
}

/**
 * TaskStore.listByStatus over either store, oldest first: the unfinished statuses asked for from
 * `open`, reading up to `limit` entries per status asked for (they share the index, which does not
 * project the status), and the terminal ones from `finished` likewise; then at most `limit` of each
 * status. The item read decides the status.
 */
export async function listTasksByStatus(
  reader: TaskIndexReader,
  statuses: readonly TaskStatus[],
  options: { limit: number; createdBefore?: string },
): Promise<TaskState[]> {
  // A sort key starts with the creation time, then '#': below `${time}$` are the entries created at or before it.
  const below = options.createdBefore === undefined ? undefined : `${options.createdBefore}$`;
  const terminal = statuses.filter(isTerminal);
  const unfinished = statuses.filter((s) => !isTerminal(s));
  const ids: string[] = [];
  for (const [index, some] of [
    [TASKS_TABLE_KEYS.open, unfinished],
    [TASKS_TABLE_KEYS.finished, terminal],
  ] as const) {
    if (some.length === 0) continue;
    const limit = options.limit * some.length;
    const q: ShardQuery = { index, forward: true, limit, below, ...(index === TASKS_TABLE_KEYS.finished ? { statuses: some } : {}) };
    const { entries } = await readShards(reader, [q]);
    ids.push(...entries.slice(0, limit).map((e) => e.task_id));
  }
  const kept = new Map<TaskStatus, number>();
  return (await reader.fetchStates(ids))
    .filter((t) => statuses.includes(t.status))
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.task_id.localeCompare(b.task_id))
    .filter((t) => {
      // At most `limit` of each status, the oldest: as many as the listing read for each.
      const n = (kept.get(t.status) ?? 0) + 1;
      kept.set(t.status, n);
      return n <= options.limit;
    });
}
