/**
 * What an agent that accepted a task (202) sends afterwards: its report (POST /tasks/{id}/result)
 * and its progress (POST /tasks/{id}/progress). Only the agent holding the task's current attempt
 * may send them (its own X-Agent-Token); an attempt that is over gets 409 and changes nothing.
 */
import type { AgentRecord } from '../core/agent-model';
import type { AgentProgress, AgentReport } from '@optiinfra/contract';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '@optiinfra/contract';
import { matchesTokenHash } from '../core/ids';
import { JSON_LIMITS, jsonDepth, unstorablePlace } from '@optiinfra/contract';
import type { AttemptResult } from '../core/retry-policy';
import type { TaskState, TaskStatus } from '../core/task-model';
import { type AcceptedDeps, endAcceptedAttempt, heartbeatTimeoutOf, IN_FLIGHT, trackAccepted } from './accepted-attempts';

/** An agent's own error text is kept up to this many characters (as from a synchronous answer). */
const MAX_REPORTED_ERROR_CHARS = 2_000;

function attemptEnded(task: TaskState, attempt: number): ConflictError {
  const now =
    attempt !== task.attempts
      ? `attempt ${task.attempts} is the current one`
      : `the task is "${task.status}"${task.error ? ` (${task.error.slice(0, 200)})` : ''}`;
  return new ConflictError(
    `attempt ${attempt} of task ${task.task_id} is over: ${now}; stop working on it, this answer changes nothing`,
    'attempt_ended',
  );
}

const holds = (agent: AgentRecord | undefined, token: string) =>
  agent !== undefined && Boolean(agent.token_hash) && matchesTokenHash(token, agent.token_hash);

/**
 * The task and the attempt reported on, once the caller is the agent holding the current attempt.
 * An agent that held an earlier attempt of the task gets 409 (its attempt is over), anyone else 403.
 */
async function reportingAttempt(
  deps: AcceptedDeps,
  taskId: string,
  token: string | undefined,
  asked: number | undefined,
): Promise<{ task: TaskState; attempt: number }> {
  if (!token)
    throw new UnauthorizedError(
      'send the agent_token returned at registration in the X-Agent-Token header: only the agent holding the attempt may report on it',
      'agent_token_required',
    );
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`task ${taskId} does not exist (or has passed its retention period)`, 'task_not_found');
  const holder = task.attempts > 0 && task.agent_id ? await deps.agents.get(task.agent_id) : undefined;
  if (!holds(holder, token)) {
    // Only on this path: at most max_retries + 1 reads, of the agents that failed the task before.
    const earlier = await Promise.all((task.failed_agents ?? []).map((id) => deps.agents.get(id)));
    if (earlier.some((agent) => holds(agent, token))) throw attemptEnded(task, asked ?? task.attempts - 1);
    throw new ForbiddenError(
      `the X-Agent-Token is not the token of the agent holding the current attempt of task ${taskId}; only that agent may report on it`,
      'not_your_attempt',
    );
  }
  return { task, attempt: asked ?? task.attempts };
}

const isOpen = (task: TaskState, attempt: number) => attempt === task.attempts && IN_FLIGHT.includes(task.status);

/** A repeat of the report that was applied to `attempt`: completed then and now, or failed then and now. */
function isRepeat(task: TaskState, attempt: number, report: AgentReport): boolean {
  if (task.reported !== attempt) return false;
  const completed: TaskStatus[] = ['completed'];
  return report.status === 'completed' ? completed.includes(task.status) && attempt === task.attempts : task.status !== 'completed';
}

/** The report as a synchronous answer's outcome, under the same limits. */
function outcomeOf(report: AgentReport, onAgent: string): AttemptResult {
  if (report.status === 'failed') {
    const retryable = report.retryable !== false;
    const said = (report.error ?? 'no error given').slice(0, MAX_REPORTED_ERROR_CHARS);
    return {
      kind: 'failed',
      error: `${onAgent}: agent reported failure${retryable ? '' : ' (marked not retryable)'}: ${said}`,
      retryable,
      health: 'neutral',
    };
  }
  const result = report.result ?? null;
  if (jsonDepth(result, JSON_LIMITS.maxDepth + 1) > JSON_LIMITS.maxDepth)
    return {
      kind: 'failed',
      error: `${onAgent}: the agent's result nests more than ${JSON_LIMITS.maxDepth} levels of objects and arrays, more than the task store keeps (not retried)`,
      retryable: false,
      health: 'neutral',
    };
  const unstorable = unstorablePlace(result);
  if (unstorable) {
    const where = ['result', ...unstorable.path].join('.');
    const error = `${onAgent}: the agent's result cannot be stored: ${where} ${unstorable.problem} (not retried)`;
    return { kind: 'failed', error, retryable: false, health: 'neutral' };
  }
  return { kind: 'completed', result, executionTimeMs: report.execution_time_ms };
}

/** POST /tasks/{id}/result: the outcome of an accepted attempt. */
export async function reportResult(
  deps: AcceptedDeps,
  taskId: string,
  token: string | undefined,
  report: AgentReport,
): Promise<{ task_id: string; status: TaskStatus }> {
  const { task, attempt } = await reportingAttempt(deps, taskId, token, report.attempt);
  if (!isOpen(task, attempt)) {
    if (isRepeat(task, attempt, report)) return { task_id: taskId, status: task.status };
    throw attemptEnded(task, attempt);
  }
  const outcome = outcomeOf(report, `attempt ${attempt} on agent ${task.agent_id ?? '?'}`);
  const ended = await endAcceptedAttempt(deps, task, attempt, outcome, true);
  if (ended) return { task_id: taskId, status: ended.status };
  // Something else ended the attempt first (the reconciler, a cancel, the same report sent twice at once).
  const latest = (await deps.tasks.get(taskId)) ?? task;
  if (isRepeat(latest, attempt, report)) return { task_id: taskId, status: latest.status };
  throw attemptEnded(latest, attempt);
}

/** POST /tasks/{id}/progress: what the agent did so far; it moves the attempt's heartbeat deadline. */
export async function reportProgress(
  deps: AcceptedDeps,
  taskId: string,
  token: string | undefined,
  progress: AgentProgress,
): Promise<{ task_id: string; status: 'running'; heartbeat_deadline: string }> {
  const { task, attempt } = await reportingAttempt(deps, taskId, token, progress.attempt);
  if (!isOpen(task, attempt)) throw attemptEnded(task, attempt);
  const now = deps.clock.now();
  const heartbeatUntil = now + heartbeatTimeoutOf(task) * 1000;
  const keepAlive = progress.progress === undefined && progress.message === undefined;
  // A keep-alive (nothing to show) moves the deadline in the cache alone: no table write, when the cache takes it.
  if (keepAlive && task.status === 'running' && (await trackAccepted(deps, { ...task, heartbeat_until: heartbeatUntil })))
    return { task_id: taskId, status: 'running', heartbeat_deadline: new Date(heartbeatUntil).toISOString() };
  const set: Partial<TaskState> = { heartbeat_until: heartbeatUntil, last_progress_at: new Date(now).toISOString() };
  if (progress.progress !== undefined) set.progress = progress.progress;
  if (progress.message !== undefined) set.progress_message = progress.message;
  // One small conditional write: the attempt must still be this one, and in flight.
  const updated = await deps.tasks.transition(taskId, 'running', { set, when: { attempts: attempt, status: IN_FLIGHT } });
  if (!updated) throw attemptEnded((await deps.tasks.get(taskId)) ?? task, attempt);
  await trackAccepted(deps, updated);
  return { task_id: taskId, status: 'running', heartbeat_deadline: new Date(heartbeatUntil).toISOString() };
}
