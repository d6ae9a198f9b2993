/**
 * What the task stores share about listing: the page token (opaque to callers, so both stores
 * refuse a foreign one with the same error), month buckets, and hiding tasks past retention.
 */
import { ValidationError } from '../core/errors';
import type { Task } from '../core/task-model';

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

export function decodePageToken(raw: string): PageToken {
  const bad = () =>
    new ValidationError(
      'invalid next_token: it is not one this API issued; pass the next_token of the previous page unchanged, with the same filters',
      [{ field: 'next_token', message: 'not issued by this API' }],
    );
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
