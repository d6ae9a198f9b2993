import type { AgentStatus, AttemptOutcome, TaskStatus, TerminalStatus } from '@optiinfra/contract';

/**
 * The contract's lists, restated: importing its values would bundle the contract's schemas (zod)
 * into the page. `satisfies` keeps them to the contract's own names.
 */
export const TASK_STATUSES = [
  'pending',
  'queued',
  'sent',
  'running',
  'retrying',
  'completed',
  'failed',
  'timeout',
  'cancelled',
] as const satisfies readonly TaskStatus[];

const TERMINAL = ['completed', 'failed', 'timeout', 'cancelled'] as const satisfies readonly TerminalStatus[];

export const isTerminal = (status: string): boolean => (TERMINAL as readonly string[]).includes(status);

/** The colour class of a task's or an agent's status or an attempt's outcome: good, bad, under way, neither. */
export type Tone = 'ok' | 'bad' | 'active' | 'muted';

const TONES: Partial<Record<TaskStatus | AttemptOutcome | AgentStatus, Tone>> = {
  completed: 'ok',
  healthy: 'ok',
  unhealthy: 'bad',
  draining: 'muted',
  failed: 'bad',
  timeout: 'bad',
  http_error: 'bad',
  unreachable: 'bad',
  lost: 'bad',
  interrupted: 'bad',
  cancelled: 'muted',
};

export const toneOf = (status: string): Tone => TONES[status as TaskStatus] ?? 'active';
