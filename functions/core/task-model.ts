/** The task model: its statuses, priorities and defaults are the contract's (@optiinfra/contract). No AWS imports here. */
import {
  type AttemptLogEntry,
  type RoutingDecision,
  TASK_DEFAULTS,
  TASK_STATUSES,
  type TaskStatus,
  type TaskStatusResponse,
} from '@optiinfra/contract';
import type { CallbackStatus } from './task-callback';

// The answer's types are inferred from its schema in the contract (api-responses.ts).
export type { LoadSeen, RoutingDecision, TaskStatusResponse } from '@optiinfra/contract';

export {
  TASK_STATUSES,
  type TaskStatus,
  TERMINAL_STATUSES,
  type TerminalStatus,
  isTerminal,
  PRIORITY,
  MIN_PRIORITY,
  MAX_PRIORITY,
  TASK_DEFAULTS,
} from '@optiinfra/contract';

/**
 * Allowed status transitions. A terminal status has no way out, so a late agent answer,
 * a duplicate delivery or a racing cancel can never move a finished task.
 */
const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ['queued', 'sent', 'cancelled', 'failed', 'timeout'],
  queued: ['sent', 'cancelled', 'failed', 'timeout'],
  sent: ['running', 'completed', 'failed', 'retrying', 'timeout', 'cancelled'],
  // running → running: an agent's progress, rewritten on the state item with the status it had.
  running: ['running', 'completed', 'failed', 'retrying', 'timeout', 'cancelled'],
  retrying: ['sent', 'cancelled', 'failed', 'timeout'],
  completed: [],
  failed: [],
  timeout: [],
  cancelled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a task may be in for a move to `to` to be allowed: used to build conditional writes. */
export function allowedFrom(to: TaskStatus): TaskStatus[] {
  return TASK_STATUSES.filter((from) => canTransition(from, to));
}

export type JsonObject = Record<string, unknown>;

/** The stored task, field names as on the wire. */
export interface Task {
  task_id: string;
  task_type: string;
  agent_type: string;
  /** The agent asked for at submit time, if any. */
  requested_agent_id?: string;
  /** The agent the last attempt went to (or the requested one before the first attempt). */
  agent_id?: string;
  priority: number;
  parameters: JsonObject;
  metadata: JsonObject;
  timeout_seconds: number;
  max_retries: number;
  status: TaskStatus;
  result?: unknown;
  error?: string;
  created_at: string;
  /** Set by earlier versions when the execution started (a task now stays `pending` until its first attempt is `sent`). */
  queued_at?: string;
  started_at?: string;
  completed_at?: string;
  updated_at: string;
  /** Attempts started so far. */
  attempts: number;
  /** While `sent`: the time (ms since epoch) after which the attempt is known to be over. */
  lease_until?: number;
  /** Agents that failed an attempt of this task, most recent last (for anti-affinity). */
  failed_agents?: string[];
  /** Which state machine first drove the task (set by earlier versions only). */
  workflow?: 'express' | 'standard';
  /** Longest wait for a free agent before the task fails (seconds); set at submit. */
  queue_timeout_seconds?: number;
  /** Base of the exponential retry backoff (seconds); set at submit. */
  retry_delay_seconds?: number;
  /** Why the last attempt went to its agent. */
  routing?: RoutingDecision;
  /** Every attempt so far, oldest first (attempt-log.ts): at most max_retries + 1 entries. */
  attempts_log?: AttemptLogEntry[];
  /** The cache slot the current attempt holds on its agent (released by whoever ends an accepted attempt). */
  slot?: string;
  /** How long an agent that accepted the task may stay silent before it loses the attempt; set at submit. */
  heartbeat_timeout_seconds?: number;
  /** While `running` (accepted): when (ms since epoch) the agent loses the attempt unless it reports progress. */
  heartbeat_until?: number;
  /** The agent's last reported progress (0-100) and message, and when it last reported any. */
  progress?: number;
  progress_message?: string;
  last_progress_at?: string;
  /** The attempt whose report (POST /tasks/{id}/result) was applied: a repeat of it is answered 200 and changes nothing. */
  reported?: number;
  /** Where the finished task is POSTed (set at submit), the secret that signs it, and how that stands (task-callback.ts). */
  callback_url?: string;
  callback_secret?: string;
  callback_status?: CallbackStatus;
  /** Callback attempts claimed so far. */
  callback_attempts?: number;
  /** Until when (ms since epoch) no one may claim the next attempt: the current one's send, or the backoff before the next. */
  callback_lease_until?: number;
  /** Why the last attempt failed. */
  callback_error?: string;
  callback_sent_at?: string;
}

/** What a task was submitted with for its agent: stored once, apart from its status, and never rewritten. */
export type TaskPayload = Pick<Task, 'parameters' | 'metadata'>;

/** A task without its payload: what status reads and changes handle. */
export type TaskState = Omit<Task, keyof TaskPayload>;

export function retryCount(task: Pick<Task, 'attempts'>): number {
  return Math.max(0, task.attempts - 1);
}

/** The longest the dispatcher waits for the agent's HTTP answer to one attempt. */
export function syncWaitSeconds(task: Pick<Task, 'timeout_seconds'>): number {
  return Math.min(task.timeout_seconds, TASK_DEFAULTS.maxSyncWaitSeconds);
}

export function toStatusResponse(task: TaskState): TaskStatusResponse {
  const out: TaskStatusResponse = {
    task_id: task.task_id,
    status: task.status,
    agent_id: task.agent_id ?? '',
    task_type: task.task_type,
    agent_type: task.agent_type,
    priority: task.priority,
    created_at: task.created_at,
    retry_count: retryCount(task),
    attempts: task.attempts,
    progress: task.progress ?? null,
    progress_message: task.progress_message ?? null,
    last_progress_at: task.last_progress_at ?? null,
  };
  if (task.result !== undefined) out.result = task.result;
  if (task.error !== undefined) out.error = task.error;
  if (task.started_at !== undefined) out.started_at = task.started_at;
  if (task.completed_at !== undefined) out.completed_at = task.completed_at;
  if (task.routing !== undefined) out.routing = task.routing;
  if (task.attempts_log !== undefined) out.attempts_log = task.attempts_log;
  return out;
}
