/** The task as the API shows it (GET /tasks/{id}, GET /tasks): what the server builds and clients read. */
import type { TaskStatus } from './task-statuses.js';

/** One agent as the dispatcher saw it when it chose. */
export interface LoadSeen {
  agent_id: string;
  name: string;
  in_flight: number;
  max_concurrency: number;
  status: string;
  circuit: string;
}

/** The record of a routing choice, shown in the task's status response. */
export interface RoutingDecision {
  attempt: number;
  agent_id: string;
  agent_name: string;
  decided_at: string;
  /** In words: the rule that picked the agent and what was left out. */
  reason: string;
  /** Registered, unexpired agents that offer the task's type and capability. */
  candidates: number;
  /** Of those, the ones that could take it at that moment. */
  eligible: number;
  /** The chosen agent and the least-loaded others (at most 10), as seen at the choice. */
  load_seen: LoadSeen[];
}

/** The seed's TaskStatusResponse, plus `attempts`, `task_type`, `agent_type` and `priority`. */
export interface TaskStatusResponse {
  task_id: string;
  status: TaskStatus;
  agent_id: string;
  task_type: string;
  agent_type: string;
  priority: number;
  result?: unknown;
  error?: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  retry_count: number;
  attempts: number;
  routing?: RoutingDecision;
  /** What the agent last reported with POST /tasks/{id}/progress; null when it never did. */
  progress: number | null;
  progress_message: string | null;
  last_progress_at: string | null;
}

/** A task as listed by GET /tasks: the status response plus what was submitted. */
export interface TaskView extends TaskStatusResponse {
  parameters: Record<string, unknown>;
  metadata: Record<string, unknown>;
  timeout_seconds: number;
  max_retries: number;
  retry_delay_seconds?: number;
  queue_timeout_seconds?: number;
  requested_agent_id?: string;
  updated_at: string;
}
