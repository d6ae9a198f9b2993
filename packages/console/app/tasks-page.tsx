import type { AgentListResponse, TaskListResponse, TaskView } from '@optiinfra/contract';
import { useState } from 'preact/hooks';
import { call } from './api';
import { filterByAgent, LIST_LIMIT, NO_FILTERS, type TaskFilters, tasksPath } from './filters';
import { durationBetween, formatAgo, formatDuration, shortId } from './format';
import { REFRESH_MS, useNow, usePoll } from './hooks';
import { ErrorText, Field, Status } from './parts';
import { hrefOf } from './route';
import { TASK_STATUSES } from './statuses';
import { SubmitForm } from './submit-form';

function TaskRow({ task, agentName, now }: { task: TaskView; agentName?: string; now: number }) {
  const href = hrefOf({ page: 'task', id: task.task_id });
  const ran = durationBetween(task.started_at, task.completed_at, now);
  return (
    <tr data-testid="task-row" data-task-id={task.task_id}>
      <td>
        <a href={href} class="mono" title={task.task_id}>
          {shortId(task.task_id)}
        </a>
      </td>
      <td>
        <Status value={task.status} testId="task-status" />
      </td>
      <td>
        {task.agent_type} / {task.task_type}
      </td>
      <td title={task.agent_id}>{agentName ?? (task.agent_id ? shortId(task.agent_id) : '–')}</td>
      <td class="num">{task.attempts}</td>
      <td class="num">{task.priority}</td>
      <td title={task.created_at}>{formatAgo(task.created_at, now)}</td>
      <td class="num">{ran === undefined ? '–' : formatDuration(ran)}</td>
      <td class="clip" title={task.error}>
        {task.error ?? ''}
      </td>
    </tr>
  );
}

export function TasksPage() {
  const [filters, setFilters] = useState<TaskFilters>(NO_FILTERS);
  const now = useNow();
  const path = tasksPath(filters);
  const tasks = usePoll((signal) => call<TaskListResponse>(path, { signal }), REFRESH_MS, path);
  // For the agent filter and the agent column: tasks carry only an agent's id.
  const agents = usePoll((signal) => call<AgentListResponse>(`/agents?limit=${LIST_LIMIT}`, { signal }), REFRESH_MS, 'agents');
  const known = agents.data?.agents ?? [];
  const names = new Map(known.map((a) => [a.id, a.name]));
  const rows = filterByAgent(tasks.data?.tasks ?? [], filters.agent, known);
  const set = (change: Partial<TaskFilters>) => setFilters({ ...filters, ...change });
  return (
    <section data-testid="tasks-page" class="with-side">
      <div>
        <h1>Tasks</h1>
        <div class="filters">
          <Field label="Status">
            <select
              data-testid="filter-status"
              value={filters.status}
              onChange={(e) => set({ status: e.currentTarget.value as TaskFilters['status'] })}
            >
              <option value="all">all</option>
              {TASK_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Agent type">
            <input data-testid="filter-type" placeholder="any" value={filters.type} onInput={(e) => set({ type: e.currentTarget.value })} />
          </Field>
          <Field label="Agent (id or name), among the rows shown">
            <input
              data-testid="filter-agent"
              placeholder="any"
              list="agent-names"
              value={filters.agent}
              onInput={(e) => set({ agent: e.currentTarget.value })}
            />
            <datalist id="agent-names">
              {known.map((a) => (
                <option key={a.id} value={a.name} />
              ))}
            </datalist>
          </Field>
        </div>
        <ErrorText text={tasks.error} testId="tasks-error" />
        <p class="hint">
          Newest {LIST_LIMIT} first{tasks.data?.next_token ? ' (more exist: narrow the filters)' : ''}; read again every {REFRESH_MS / 1000}{' '}
          s.
        </p>
        <table>
          <thead>
            <tr>
              <th>Task</th>
              <th>Status</th>
              <th>Type / action</th>
              <th>Agent</th>
              <th class="num">Attempts</th>
              <th class="num">Priority</th>
              <th>Created</th>
              <th class="num">Ran</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <TaskRow key={t.task_id} task={t} agentName={names.get(t.agent_id)} now={now} />
            ))}
          </tbody>
        </table>
        {tasks.data && rows.length === 0 && <p class="hint">No tasks match.</p>}
      </div>
      <aside>
        <SubmitForm />
      </aside>
    </section>
  );
}
