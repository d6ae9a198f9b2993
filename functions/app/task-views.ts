import { type Task, type TaskStatusResponse, toStatusResponse } from '../core/task-model';

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

export function toTaskView(task: Task): TaskView {
  const view: TaskView = {
    ...toStatusResponse(task),
    parameters: task.parameters,
    metadata: task.metadata,
    timeout_seconds: task.timeout_seconds,
    max_retries: task.max_retries,
    updated_at: task.updated_at,
  };
  if (task.requested_agent_id !== undefined) view.requested_agent_id = task.requested_agent_id;
  if (task.retry_delay_seconds !== undefined) view.retry_delay_seconds = task.retry_delay_seconds;
  if (task.queue_timeout_seconds !== undefined) view.queue_timeout_seconds = task.queue_timeout_seconds;
  return view;
}
