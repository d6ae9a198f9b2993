/** Use cases behind /tasks: submit, read, list, cancel. */
import { isExpired } from '../core/agent-model';
import type { TaskSubmitRequest, TaskSubmitResponse } from '@optiinfra/contract';
import { ConflictError, NoCapableAgentError, NotFoundError, TASK_METRIC, ValidationError } from '@optiinfra/contract';
import { endingChange } from '../core/attempt-log';
import { newTaskId } from '../core/ids';
import type { ListTasksQuery } from '@optiinfra/contract';
import { describeTarget, offers } from '../core/routing';
import { callbackTargetOf, newCallbackSecret } from '../core/task-callback';
import { isTerminal, type Task, type TaskStatusResponse, toStatusResponse } from '../core/task-model';
import type { Deps } from './deps';
import { cancelAccepted } from './accepted-attempts';
import { finishTask } from './finish-task';
import { checkOutboundTarget } from './outbound-target';
import { firstStartOf } from './start-task';
import { type TaskView, toTaskView } from './task-views';
import { leaveQueue } from './wake-waiters';

/** Refuses at once (503) work that no registered agent could ever take; busy or quiet agents are fine. */
async function assertSomeAgentOffers(deps: Pick<Deps, 'agents' | 'clock'>, req: TaskSubmitRequest): Promise<void> {
  const target = { agentType: req.agent_type, capability: req.task_type, agentId: req.agent_id };
  const now = deps.clock.now();
  if (req.agent_id !== undefined) {
    const agent = await deps.agents.get(req.agent_id);
    if (!agent || isExpired(agent, now)) {
      throw new NotFoundError(
        `agent_id ${req.agent_id} is not a registered agent; GET /agents lists them, or leave agent_id out to let the orchestrator choose`,
        'agent_not_found',
      );
    }
    if (agent.status === 'draining')
      throw new NoCapableAgentError(
        `agent ${req.agent_id} was unregistered and takes no new tasks; leave agent_id out or pick another agent`,
      );
    if (!offers(agent, target)) {
      throw new NoCapableAgentError(
        `agent ${req.agent_id} is of type "${agent.type}" and offers ${someOf(agent.capabilities)}; it cannot run "${req.task_type}" as a "${req.agent_type}" agent`,
      );
    }
    return;
  }
  // One small read of the type's capability summary, however many agents the type has. It lists a
  // capability from the moment its agent's registration is answered, and may list one whose last agent
  // left (until the summary is refreshed on the next unregister or drain): that task waits, then
  // fails with queue_timeout, as a task for an agent that went quiet does.
  const summary = await deps.agents.offeredBy(req.agent_type);
  const listed = summary && !('overflow' in summary) ? summary.capabilities : undefined;
  if (listed?.includes(req.task_type)) return;
  // Not listed (or too many to list): the registry decides before any refusal, so a summary that lost a
  // capability (a leave seen through a lagging index) never refuses a task a live agent offers, and is
  // rebuilt when it did. Only a submit that would otherwise be refused pays for this read.
  const offered = await registeredOffers(deps, req.agent_type, now);
  if (offered.includes(req.task_type)) {
    if (listed) await deps.agents.refreshOffers(req.agent_type, now);
    return;
  }
  if (offered.length === 0)
    throw new NoCapableAgentError(
      `no agent of type "${req.agent_type}" is registered, so no ${describeTarget(target)} can run this task; register one with POST /agents/register`,
    );
  throw new NoCapableAgentError(`no registered "${req.agent_type}" agent offers "${req.task_type}"; they offer ${someOf(offered)}`);
}

/** What the type's live agents offer, read from all of them: only before a refusal, or for a type whose capabilities overflow one summary item. */
async function registeredOffers(deps: Pick<Deps, 'agents'>, type: string, now: number): Promise<string[]> {
  const registered = (await deps.agents.list(type)).filter((a) => !isExpired(a, now) && a.status !== 'draining');
  return [...new Set(registered.flatMap((a) => a.capabilities))].sort();
}

/** Capabilities named in an error: the first few and how many more, so the answer stays small however many are registered. */
export const CAPABILITIES_SHOWN = 10;
function someOf(capabilities: readonly string[]): string {
  const shown = capabilities.slice(0, CAPABILITIES_SHOWN).join(', ');
  const more = capabilities.length - CAPABILITIES_SHOWN;
  return more > 0 ? `${shown} and ${more} more (GET /agents?type=... lists them)` : shown;
}

/**
 * Longer than a task can stay unfinished (up to 11 attempts, each of which may wait up to the
 * 24 h queue timeout): the payload, written once at submit, outlives the task's retention after
 * its end, which its terminal write sets on the task alone.
 */
export const PAYLOAD_MARGIN_DAYS = 30;

/** When TTL may delete the payload of a task submitted at `nowMs` (seconds since epoch). */
export function payloadExpiry(nowMs: number, retentionDays: number): number {
  return Math.floor(nowMs / 1000) + (retentionDays + PAYLOAD_MARGIN_DAYS) * 86_400;
}

/** A callback URL the outbound guard would refuse is a 400 now, not a callback that fails after the task. */
async function assertCallbackAllowed(deps: Pick<Deps, 'settings' | 'resolveHost'>, url: string): Promise<void> {
  const { host, port } = callbackTargetOf(url);
  const verdict = await checkOutboundTarget(deps, host, port);
  if (verdict.ok) return;
  const why = verdict.unresolved ? `its host "${host}" does not resolve` : `the orchestrator may not call it: ${verdict.reason}`;
  throw new ValidationError(`invalid callback_url: ${why}; send a URL the orchestrator can reach, or leave callback_url out`, [
    { field: 'callback_url', message: verdict.unresolved ? 'does not resolve' : verdict.reason },
  ]);
}

export async function submitTask(
  deps: Pick<Deps, 'agents' | 'tasks' | 'queue' | 'clock' | 'metrics' | 'settings' | 'resolveHost' | 'activity'>,
  req: TaskSubmitRequest,
  onEnqueueError: (err: unknown) => void,
): Promise<TaskSubmitResponse> {
  if (req.callback_url !== undefined) await assertCallbackAllowed(deps, req.callback_url);
  await assertSomeAgentOffers(deps, req);
  const nowIso = new Date(deps.clock.now()).toISOString();
  const task: Task = {
    task_id: newTaskId(),
    task_type: req.task_type,
    agent_type: req.agent_type,
    priority: req.priority,
    parameters: req.parameters,
    metadata: req.metadata,
    timeout_seconds: req.timeout_seconds,
    max_retries: req.max_retries,
    retry_delay_seconds: req.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds,
    queue_timeout_seconds: req.queue_timeout_seconds || deps.settings.queueTimeoutSeconds,
    status: 'pending',
    created_at: nowIso,
    updated_at: nowIso,
    attempts: 0,
  };
  if (req.heartbeat_timeout_seconds !== undefined) task.heartbeat_timeout_seconds = req.heartbeat_timeout_seconds;
  if (req.agent_id !== undefined) {
    task.requested_agent_id = req.agent_id;
    task.agent_id = req.agent_id;
  }
  if (req.callback_url !== undefined) {
    task.callback_url = req.callback_url;
    task.callback_secret = newCallbackSecret();
  }
  await deps.tasks.create(task, payloadExpiry(deps.clock.now(), deps.settings.taskRetentionDays));
  deps.metrics.count(TASK_METRIC.submitted, task.agent_type);
  const { task_id, task_type, agent_type, priority } = task;
  deps.activity.emit({ kind: 'task', event: 'accepted', task_id, task_type, agent_type, priority });
  // The task is stored, so it is accepted even if the queue is briefly unreachable: the
  // reconciler drives pending tasks that never started.
  try {
    await deps.queue.enqueue(task.task_id, task.priority, firstStartOf(task, deps.settings));
  } catch (err) {
    onEnqueueError(err);
  }
  return {
    task_id: task.task_id,
    status: task.status,
    agent_id: task.agent_id ?? '',
    created_at: task.created_at,
    status_url: `/tasks/${task.task_id}`,
    ...(task.callback_secret === undefined ? {} : { callback_secret: task.callback_secret }),
  };
}

export async function getTask(deps: Pick<Deps, 'tasks' | 'cache'>, taskId: string): Promise<TaskStatusResponse> {
  const hot = await deps.cache.getResult(taskId);
  if (hot) return hot;
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`task ${taskId} does not exist (or has passed its retention period)`, 'task_not_found');
  return toStatusResponse(task);
}

export async function listTasks(
  deps: Pick<Deps, 'tasks'>,
  query: ListTasksQuery,
): Promise<{ tasks: TaskView[]; count: number; next_token?: string }> {
  const page = await deps.tasks.list({
    status: query.status,
    agentType: query.agent_type,
    limit: query.limit ?? 50,
    nextToken: query.next_token,
  });
  const tasks = page.tasks.map(toTaskView);
  return page.nextToken ? { tasks, count: tasks.length, next_token: page.nextToken } : { tasks, count: tasks.length };
}

export async function cancelTask(
  deps: Pick<Deps, 'tasks' | 'cache' | 'workflow' | 'clock' | 'settings' | 'metrics' | 'agents' | 'queue' | 'agentClient' | 'activity'>,
  taskId: string,
): Promise<{ message: string; task_id: string; status: 'cancelled' }> {
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFoundError(`task ${taskId} does not exist (or has passed its retention period)`, 'task_not_found');
  const finished = (status: string) =>
    new ConflictError(`task ${taskId} already finished as "${status}"; only unfinished tasks can be cancelled`, 'task_already_finished');
  if (isTerminal(task.status)) throw finished(task.status);
  // An attempt in flight ends as cancelled in the log, on the cancel's own write.
  const inFlight = task.status === 'sent' || task.status === 'running';
  const logged = inFlight
    ? endingChange(task, task.attempts, { outcome: 'cancelled', error: 'cancelled by request' }, deps.clock.now())
    : {};
  const change = { set: { error: 'cancelled by request' }, remove: ['lease_until' as const] };
  // Conditional on the attempt read, so a newer attempt's entry is never overwritten; if one began meanwhile, the plain cancel.
  const cancelled =
    (logged.setAttempt && (await finishTask(deps, task, 'cancelled', { ...change, ...logged, when: { attempts: task.attempts } }))) ||
    (await finishTask(deps, task, 'cancelled', change));
  if (!cancelled) throw finished((await deps.tasks.get(taskId))?.status ?? 'unknown');
  await leaveQueue(deps, task);
  // An accepted attempt has no execution to notice: its slot is freed and its agent told now.
  if (task.status === 'running' && task.heartbeat_until !== undefined && cancelled.attempts === task.attempts)
    await cancelAccepted(deps, cancelled);
  // The execution would notice on its next step anyway; stopping it early saves its waits.
  await deps.workflow.stop(taskId, 'cancelled by request');
  return { message: `task ${taskId} cancelled`, task_id: taskId, status: 'cancelled' };
}
