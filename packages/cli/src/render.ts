import type { AgentView, AttemptLogEntry, TaskStatusResponse } from '@optiinfra/contract';

/** Columns padded to their widest cell; the last column is not padded, so lines carry no trailing blanks. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** "4s ago", "3m ago", "2h ago": how long ago an ISO time was, as of `nowMs`. */
export function ago(iso: string | undefined | null, nowMs: number): string {
  if (!iso) return '-';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return '-';
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** The agent a task went to: its name when the routing decision names it, else the start of its id. */
export function agentOf(task: Pick<TaskStatusResponse, 'agent_id' | 'routing'>): string {
  if (task.routing?.agent_name) return task.routing.agent_name;
  return task.agent_id ? task.agent_id.slice(0, 8) : '-';
}

export function tasksTable(tasks: TaskStatusResponse[], nowMs: number): string {
  const rows = tasks.map((t) => [t.task_id, t.status, t.task_type, t.agent_type, agentOf(t), String(t.attempts), ago(t.created_at, nowMs)]);
  return table(['TASK ID', 'STATUS', 'CAPABILITY', 'TYPE', 'AGENT', 'ATTEMPTS', 'CREATED'], rows);
}

export function agentsTable(agents: AgentView[], nowMs: number): string {
  const rows = agents.map((a) => [
    a.name,
    a.type,
    a.status,
    `${a.in_flight}/${a.max_concurrency}`,
    a.circuit.state,
    ago(a.last_heartbeat, nowMs),
    a.id,
  ]);
  return table(['NAME', 'TYPE', 'STATUS', 'IN FLIGHT', 'CIRCUIT', 'LAST HEARTBEAT', 'ID'], rows);
}

function duration(fromIso: string | undefined, toIso: string | undefined): string {
  if (!fromIso || !toIso) return '';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  return Number.isNaN(ms) ? '' : ms < 10_000 ? ` (${ms} ms)` : ` (${(ms / 1000).toFixed(1)} s)`;
}

/** `optiinfra task <id>`: the task, then why its agent was chosen (the routing decision), then its result. */
export function taskDetails(task: TaskStatusResponse): string {
  const lines = [
    `task      ${task.task_id}`,
    `status    ${task.status} after ${task.attempts} attempt(s)`,
    `what      ${task.task_type} for a ${task.agent_type} agent, priority ${task.priority}`,
    `agent     ${task.agent_id ? `${agentOf(task)} (${task.agent_id})` : 'not chosen yet'}`,
    `created   ${task.created_at}`,
  ];
  if (task.started_at) lines.push(`started   ${task.started_at}`);
  if (task.completed_at) lines.push(`ended     ${task.completed_at}${duration(task.created_at, task.completed_at)}`);
  if (task.progress !== null) lines.push(`progress  ${task.progress}%${task.progress_message ? ` ${task.progress_message}` : ''}`);
  if (task.error) lines.push(`error     ${task.error}`);
  const routing = task.routing;
  if (routing) {
    lines.push(
      '',
      `routing   attempt ${routing.attempt} went to ${routing.agent_name} at ${routing.decided_at}`,
      `why       ${routing.reason}`,
      `          ${routing.candidates} candidate(s), ${routing.eligible} eligible; the load each had:`,
      table(
        ['  AGENT', 'IN FLIGHT', 'STATUS', 'CIRCUIT'],
        routing.load_seen.map((l) => [`  ${l.name}`, `${l.in_flight}/${l.max_concurrency}`, l.status, l.circuit]),
      ),
    );
  }
  if (task.attempts_log?.length) lines.push('', 'attempts', attemptsTable(task.attempts_log));
  if (task.result !== undefined) lines.push('', 'result', JSON.stringify(task.result, null, 2));
  return lines.join('\n');
}

/** Longest error a row of the attempts table shows: one line of a terminal, not the stored 300 characters. */
const ERROR_COLUMN_CHARS = 60;

/** The task's attempts_log as rows: one attempt each, its outcome (with the HTTP status), latency and error. */
export function attemptsTable(log: readonly AttemptLogEntry[]): string {
  const rows = log.map((e) => {
    const outcome = e.outcome === undefined ? 'in flight' : e.http_status !== undefined ? `${e.outcome} ${e.http_status}` : e.outcome;
    const error = e.error ?? '';
    return [
      `  ${e.attempt}`,
      e.agent_name,
      outcome,
      e.latency_ms === undefined ? '-' : `${e.latency_ms} ms`,
      error.length > ERROR_COLUMN_CHARS ? `${error.slice(0, ERROR_COLUMN_CHARS - 1)}…` : error,
    ];
  });
  return table(['  ATTEMPT', 'AGENT', 'OUTCOME', 'LATENCY', 'ERROR'], rows);
}

/** The line `run --wait` keeps on stderr while it waits. */
export function progressLine(task: TaskStatusResponse | undefined, elapsedMs: number): string {
  const elapsed = `${(elapsedMs / 1000).toFixed(1)}s`;
  if (!task) return `waiting: submitted, ${elapsed}`;
  const progress = task.progress === null ? '' : `, ${task.progress}%${task.progress_message ? ` ${task.progress_message}` : ''}`;
  return `waiting: ${task.status}, agent ${agentOf(task)}, attempt ${task.attempts}${progress}, ${elapsed}`;
}
