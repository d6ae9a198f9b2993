/**
 * A task's per-attempt history (`attempts_log`): one entry per attempt, appended by the attempt's
 * lease write and completed by the write that ends it, so it costs no DynamoDB request of its own.
 * Entries are bounded in number (max_retries + 1, one per attempt) and in size (error and reason cut).
 */
import { ATTEMPT_LOG_LIMITS, type AttemptLogEntry, type AttemptOutcome } from '@optiinfra/contract';
import type { AttemptResult } from './retry-policy';
import type { TaskState } from './task-model';

export type { AttemptLogEntry, AttemptOutcome } from '@optiinfra/contract';

/** Cuts `text` to `max` characters, marking the cut, so that one chatty agent cannot grow the item. */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The entry the lease write appends: the agent, why it was chosen, and when the attempt started. */
export function startedEntry(
  attempt: number,
  agent: { agent_id: string; name: string },
  reason: string,
  startedMs: number,
): AttemptLogEntry {
  return {
    attempt,
    agent_id: agent.agent_id,
    agent_name: agent.name,
    reason: bounded(reason, ATTEMPT_LOG_LIMITS.reasonChars),
    started_at: new Date(startedMs).toISOString(),
  };
}

/** Whether the task's log has room for attempt `attempt` (false for a log that would pass max_retries + 1 entries). */
export function canAppend(task: Pick<TaskState, 'attempts_log' | 'max_retries'>, attempt: number): boolean {
  const log = task.attempts_log ?? [];
  return log.length < task.max_retries + 1 && !log.some((entry) => entry.attempt === attempt);
}

/** What the log says of a finished attempt: its outcome, and the HTTP status when the agent answered non-200. */
export interface EndedAttempt {
  outcome: AttemptOutcome;
  httpStatus?: number;
  error?: string;
}

/** The log's reading of how the dispatcher saw the attempt end. */
export function endedOf(result: AttemptResult): EndedAttempt {
  if (result.kind === 'completed') return { outcome: 'completed' };
  if (result.kind === 'timed_out') return { outcome: 'timeout', error: result.error };
  const ended: EndedAttempt = { outcome: result.outcome ?? 'failed', error: result.error };
  if (result.httpStatus !== undefined) ended.httpStatus = result.httpStatus;
  return ended;
}

/** Where attempt `attempt`'s entry is in the read log, with that entry; undefined for a task stored before the log existed. */
export function entryOf(task: Pick<TaskState, 'attempts_log'>, attempt: number): { index: number; entry: AttemptLogEntry } | undefined {
  const index = (task.attempts_log ?? []).findIndex((entry) => entry.attempt === attempt);
  const entry = task.attempts_log?.[index];
  return entry ? { index, entry } : undefined;
}

/**
 * The write that ends attempt `attempt` replaces its entry (by index) with the ended one; undefined
 * when the read task has no entry for it (stored before the log existed) or it has already ended.
 */
export function endEntry(
  task: Pick<TaskState, 'attempts_log'>,
  attempt: number,
  ended: EndedAttempt,
  endedMs: number,
): { index: number; entry: AttemptLogEntry } | undefined {
  const found = entryOf(task, attempt);
  if (!found || found.entry.outcome !== undefined) return undefined;
  const entry: AttemptLogEntry = {
    ...found.entry,
    ended_at: new Date(endedMs).toISOString(),
    outcome: ended.outcome,
    latency_ms: Math.max(0, endedMs - Date.parse(found.entry.started_at)),
  };
  if (ended.httpStatus !== undefined) entry.http_status = ended.httpStatus;
  if (ended.error !== undefined && ended.outcome !== 'completed') entry.error = bounded(ended.error, ATTEMPT_LOG_LIMITS.errorChars);
  return { index: found.index, entry };
}

/** The entry once its agent accepted the attempt (202): stamped `accepted_at`. */
export function acceptedEntry(
  task: Pick<TaskState, 'attempts_log'>,
  attempt: number,
  acceptedMs: number,
): { index: number; entry: AttemptLogEntry } | undefined {
  const found = entryOf(task, attempt);
  if (!found || found.entry.outcome !== undefined) return undefined;
  return { index: found.index, entry: { ...found.entry, accepted_at: new Date(acceptedMs).toISOString() } };
}

/** The part of a TaskChange that ends attempt `attempt` in the log (nothing when the read task has no open entry for it). */
export function endingChange(
  task: Pick<TaskState, 'attempts_log'>,
  attempt: number,
  ended: EndedAttempt,
  endedMs: number,
): { setAttempt?: { index: number; entry: AttemptLogEntry } } {
  const setAttempt = endEntry(task, attempt, ended, endedMs);
  return setAttempt ? { setAttempt } : {};
}
