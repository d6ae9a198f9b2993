/** A use case's activity event (functions/core/activity.ts) as a line of the feed. */
import type { ActivityEvent } from '../../functions/core/activity';
import type { LogLevel, LogRecord } from './log-record';

/** 357 ms, 4.5 s, 2 min 5 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

const attemptsOf = (n: number) => (n === 1 ? '1 attempt' : `${n} attempts`);

function describe(e: ActivityEvent): { message: string; level: LogLevel } {
  const info = (message: string) => ({ message, level: 'info' as const });
  const warn = (message: string) => ({ message, level: 'warn' as const });
  switch (e.event) {
    case 'accepted':
      return info(`${e.task_type} for a ${e.agent_type} agent, priority ${e.priority}`);
    case 'dispatched':
      return info(`attempt ${e.attempt} → ${e.agent_name}: ${e.reason}`);
    case 'retrying':
      return warn(`attempt ${e.attempt} failed, next in ${e.delay_seconds} s: ${e.error}`);
    case 'completed':
      return info(`in ${formatDuration(e.duration_ms)} (${attemptsOf(e.attempts)})`);
    case 'failed':
    case 'timeout':
      return warn(`after ${formatDuration(e.duration_ms)} (${attemptsOf(e.attempts)}): ${e.error ?? 'no error recorded'}`);
    case 'cancelled':
      return info(`after ${formatDuration(e.duration_ms)}`);
    case 'registered':
      return info(`type ${e.type} (${e.capabilities.join(', ')}) on ${e.url}`);
    case 'draining':
      return info('unregistered or drained: no new tasks; those sent to it still finish');
    case 'circuit_open':
      return warn('circuit open: too many failed dispatches, out of rotation until a probe succeeds');
    case 'circuit_closed':
      return info('circuit closed: back in rotation');
    case 'unhealthy':
      return warn('no heartbeat for three intervals: no new tasks until it heartbeats again');
    case 'healthy':
      return info('heartbeating again: back in rotation');
    case 'forgotten':
      return info('no longer listed');
  }
}

export function activityRecord(event: ActivityEvent, time: number): LogRecord {
  const { kind, event: name, ...fields } = event;
  const subject = event.kind === 'task' ? event.task_id : event.name;
  return { time, source: kind, event: name, subject, ...describe(event), fields };
}
