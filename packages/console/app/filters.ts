import type { AgentView, TaskStatus, TaskView } from '@optiinfra/contract';

/** The tasks page's filters: status and type go to the API, agent narrows the rows it answered. */
export interface TaskFilters {
  status: TaskStatus | 'all';
  /** An agent type, as GET /tasks?agent_type= takes it; "" for any. */
  type: string;
  /** Part of an agent's id or name; "" for any. */
  agent: string;
}

export const NO_FILTERS: TaskFilters = { status: 'all', type: '', agent: '' };

/** Rows a list page asks for: the API's largest page. */
export const LIST_LIMIT = 100;

/** GET /tasks with the filters the API applies itself. */
export function tasksPath(filters: TaskFilters): string {
  const query = new URLSearchParams({ limit: String(LIST_LIMIT) });
  if (filters.status !== 'all') query.set('status', filters.status);
  const type = filters.type.trim();
  if (type) query.set('agent_type', type);
  return `/tasks?${query.toString()}`;
}

/**
 * The loaded tasks whose agent matches `text` (case-insensitive, part of its id or of its name as
 * the agents list has it). The API has no agent filter: this narrows the page it answered.
 */
export function filterByAgent(tasks: readonly TaskView[], text: string, agents: readonly Pick<AgentView, 'id' | 'name'>[]): TaskView[] {
  const wanted = text.trim().toLowerCase();
  if (!wanted) return [...tasks];
  const names = new Map(agents.map((a) => [a.id, a.name.toLowerCase()]));
  return tasks.filter((t) => {
    const id = (t.agent_id || t.requested_agent_id || '').toLowerCase();
    return id !== '' && (id.includes(wanted) || (names.get(t.agent_id)?.includes(wanted) ?? false));
  });
}
