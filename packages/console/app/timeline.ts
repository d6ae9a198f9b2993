import type { AttemptLogEntry, AttemptOutcome } from '@optiinfra/contract';
import { durationBetween, formatClock, formatDuration } from './format';
import { type Tone, toneOf } from './statuses';

/** One attempt as the task page shows it. */
export interface TimelineRow {
  attempt: number;
  /** The attempt's outcome, or `in_flight` while it has none. */
  outcome: AttemptOutcome | 'in_flight';
  /** The outcome in words: "HTTP 503", "timed out", "running for 2.1 s". */
  outcomeText: string;
  tone: Tone;
  agentName: string;
  agentId: string;
  reason: string;
  started: string;
  ended?: string;
  /** From the delivery to the end (the log's latency_ms), or the time so far while in flight. */
  latency?: string;
  /** The pause before this attempt since the last one ended: the retry's backoff. */
  waitedBefore?: string;
  error?: string;
}

const OUTCOME_TEXT: Record<AttemptOutcome, string> = {
  completed: 'completed',
  failed: 'failed (the agent reported a failure)',
  http_error: 'HTTP error',
  timeout: 'timed out',
  unreachable: 'unreachable (connection refused or broken)',
  lost: 'lost (the agent stopped reporting)',
  cancelled: 'cancelled',
  interrupted: 'interrupted (the orchestrator lost the attempt)',
};

function outcomeText(entry: AttemptLogEntry, nowMs: number): string {
  if (entry.outcome === undefined) {
    const so = formatDuration(durationBetween(entry.started_at, undefined, nowMs) ?? 0);
    return entry.accepted_at ? `accepted at ${formatClock(entry.accepted_at)}, running for ${so}` : `in flight for ${so}`;
  }
  if (entry.outcome === 'http_error' && entry.http_status !== undefined) return `HTTP ${entry.http_status}`;
  return OUTCOME_TEXT[entry.outcome];
}

/** The timeline of a task's attempts_log, oldest attempt first. */
export function timelineOf(log: readonly AttemptLogEntry[] | undefined, nowMs: number): TimelineRow[] {
  const entries = [...(log ?? [])].sort((a, b) => a.attempt - b.attempt);
  return entries.map((entry, i) => {
    const previous = i > 0 ? entries[i - 1] : undefined;
    const waited = previous?.ended_at ? durationBetween(previous.ended_at, entry.started_at, nowMs) : undefined;
    const latencyMs = entry.latency_ms ?? (entry.outcome === undefined ? durationBetween(entry.started_at, undefined, nowMs) : undefined);
    return {
      attempt: entry.attempt,
      outcome: entry.outcome ?? 'in_flight',
      outcomeText: outcomeText(entry, nowMs),
      tone: entry.outcome === undefined ? 'active' : toneOf(entry.outcome),
      agentName: entry.agent_name,
      agentId: entry.agent_id,
      reason: entry.reason,
      started: formatClock(entry.started_at),
      ...(entry.ended_at ? { ended: formatClock(entry.ended_at) } : {}),
      ...(latencyMs !== undefined ? { latency: formatDuration(latencyMs) } : {}),
      ...(waited !== undefined ? { waitedBefore: formatDuration(waited) } : {}),
      ...(entry.error ? { error: entry.error } : {}),
    };
  });
}
