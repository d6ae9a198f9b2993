import type { AgentStatus, AgentView, TaskStatus, TaskSubmitInput, TaskView } from '@optiinfra/contract';

/** What `submit` and `run` send: the API's submit fields, defaults left to the server. */
export type SubmitTaskInput = TaskSubmitInput;

/** A task of `GET /tasks`: the status answer plus what was submitted. */
export type TaskListItem = TaskView;

export interface TaskPage {
  tasks: TaskListItem[];
  count: number;
  next_token?: string;
}

export interface AgentPage {
  agents: AgentView[];
  count: number;
  next_token?: string;
}

export interface CancelTaskResponse {
  message: string;
  task_id: string;
  status: TaskStatus;
}

export interface ListTasksOptions {
  status?: TaskStatus;
  agent_type?: string;
  /** Tasks per page, 1-100 (the API's default is 50). */
  limit?: number;
  /** Start from this page instead of the first. */
  next_token?: string;
}

export interface ListAgentsOptions {
  type?: string;
  status?: AgentStatus;
  limit?: number;
  next_token?: string;
}
