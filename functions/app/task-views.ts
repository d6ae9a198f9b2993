import type { TaskView } from '@optiinfra/contract';
import { type Task, toStatusResponse } from '../core/task-model';

/** A task as listed by GET /tasks (its type is the contract's): the status response plus what was submitted. */
export type { TaskView } from '@optiinfra/contract';

export function toTaskView(task: Task): TaskView {
  // attempts_log is GET /tasks/{id}'s alone: a page of 50 tasks with up to 11 attempts each would be large.
  const { attempts_log: _log, ...status } = toStatusResponse(task);
  const view: TaskView = {
    ...status,
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
