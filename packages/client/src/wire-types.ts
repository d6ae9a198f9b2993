import type {
  AgentListResponse,
  AgentStatus,
  TaskCancelResponse,
  TaskListResponse,
  TaskStatus,
  TaskSubmitInput,
  TaskView,
} from '@optiinfra/contract';

/** What `submit` and `run` send: the API's submit fields, defaults left to the server. */
export type SubmitTaskInput = TaskSubmitInput;

/** A task of `GET /tasks`: the status answer plus what was submitted. */
export type TaskListItem = TaskView;

/** A page of `GET /tasks`. */
export type TaskPage = TaskListResponse;

/** A page of `GET /agents`. */
export type AgentPage = AgentListResponse;

/** The answer of `DELETE /tasks/{id}`. */
export type CancelTaskResponse = TaskCancelResponse;

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
