/**
 * What the orchestrator did that a person watching it wants to see: a task accepted, dispatched,
 * retried or finished; an agent registered, draining, its circuit opened or closed. The use cases
 * emit these; only the local runtime listens (its terminal feed). On AWS nobody listens, and an
 * event is dropped as soon as it is made: no log line, no call.
 */
import type { TerminalStatus } from './task-model';

export type TaskActivity =
  | { kind: 'task'; event: 'accepted'; task_id: string; task_type: string; agent_type: string; priority: number }
  | { kind: 'task'; event: 'dispatched'; task_id: string; attempt: number; agent_id: string; agent_name: string; reason: string }
  | { kind: 'task'; event: 'retrying'; task_id: string; attempt: number; error: string; delay_seconds: number }
  | { kind: 'task'; event: TerminalStatus; task_id: string; attempts: number; duration_ms: number; error?: string };

export type AgentActivity =
  | { kind: 'agent'; event: 'registered'; agent_id: string; name: string; type: string; capabilities: string[]; url: string }
  | { kind: 'agent'; event: 'draining'; agent_id: string; name: string; type: string }
  | { kind: 'agent'; event: 'circuit_open' | 'circuit_closed'; agent_id: string; name: string; type: string }
  /** Derived (no heartbeat for three intervals), so only a watcher that reads the registry sees these: the local runtime's. */
  | { kind: 'agent'; event: 'unhealthy' | 'healthy' | 'forgotten'; agent_id: string; name: string; type: string };

export type ActivityEvent = TaskActivity | AgentActivity;

/** Where the use cases report activity. */
export interface Activity {
  emit(event: ActivityEvent): void;
}

export const noActivity: Activity = { emit: () => undefined };

/** An error as a feed line shows it: its first line, at most `max` characters. */
export function shortError(error: string, max = 160): string {
  const first = error.split('\n', 1)[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
