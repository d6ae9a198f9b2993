/**
 * Attempts an agent accepted (202): recorded as `running` with no compute waiting for them, and
 * ended by the agent's report, by the reconciler's sweep of their deadlines, or by a cancel. Every
 * write is conditional on the status and the attempt, so whichever comes first decides and the
 * others change nothing. A retry is re-driven through the intake queue after its backoff (a delayed
 * message), as no execution waits for an accepted attempt.
 */
import { TASK_METRIC } from '@optiinfra/contract';
import type { AgentRecord } from '../core/agent-model';
import { shortError } from '../core/activity';
import { type AttemptLogEntry, acceptedEntry, endedOf, endingChange } from '../core/attempt-log';
import type { AgentKey, TrackedAttempt } from '../core/cache-port';
import { deliveryTargetOf } from '../core/ports';
import { type AttemptResult, afterFailedAttempt } from '../core/retry-policy';
import { TASK_DEFAULTS, type TaskState, type TaskStatus } from '../core/task-model';
import type { Deps } from './deps';
import { finishTask } from './finish-task';
import { startWoken, wakeRequest } from './wake-waiters';
import { LEASE_GRACE_MS } from './workflow-step';

export type AcceptedDeps = Pick<Deps, 'tasks' | 'cache' | 'queue' | 'clock' | 'settings' | 'metrics' | 'activity'> & {
  agents: Pick<Deps['agents'], 'get'>;
};

/** The statuses an attempt in flight can have: `sent` until the dispatcher records the 202 (a fast agent may report first). */
export const IN_FLIGHT: readonly TaskStatus[] = ['sent', 'running'];

/**
 * An accepted attempt's slot outlives its due time by this much, so that it is the reconciler (at
 * most one period late: 60 s on AWS) that ends the attempt and frees the slot, not the slot's expiry;
 * the expiry only frees a slot whose release was lost.
 */
export const ACCEPTED_SLOT_SLACK_MS = 120_000;

export function heartbeatTimeoutOf(task: Pick<TaskState, 'heartbeat_timeout_seconds'>): number {
  return task.heartbeat_timeout_seconds ?? TASK_DEFAULTS.heartbeatTimeoutSeconds;
}

/** When the accepted attempt is due: the earlier of its heartbeat deadline and its overall deadline. */
export function dueOf(task: Pick<TaskState, 'heartbeat_until' | 'lease_until'>): number {
  return Math.min(task.heartbeat_until ?? Number.POSITIVE_INFINITY, (task.lease_until ?? Number.POSITIVE_INFINITY) - LEASE_GRACE_MS);
}

const trackedAttemptOf = (task: Pick<TaskState, 'agent_type' | 'task_id'>, attempt: number): TrackedAttempt => ({
  agentType: task.agent_type,
  taskId: task.task_id,
  attempt,
});

/** Keeps the attempt's slot held and its deadline in the cache's sweep, from `task`'s deadlines; false when the cache did not take it. */
export async function trackAccepted(deps: Pick<Deps, 'cache'>, task: TaskState): Promise<boolean> {
  if (!task.slot || !task.agent_id) return false;
  const due = dueOf(task);
  const agent: AgentKey = { agentId: task.agent_id, type: task.agent_type };
  return deps.cache.trackAttempt(agent, task.slot, trackedAttemptOf(task, task.attempts), due, due + ACCEPTED_SLOT_SLACK_MS);
}

/**
 * The agent answered 202: the task moves sent → running (conditional on the attempt), with the
 * attempt's overall deadline as its lease, a heartbeat deadline and the slot it holds (stored only
 * now: a synchronous attempt's item stays as small as before). Undefined when the attempt had
 * already ended (a fast report, a cancel): the slot is then freed here.
 */
export async function acceptAttempt(
  deps: AcceptedDeps & Pick<Deps, 'agentClient'>,
  task: TaskState,
  agent: AgentRecord,
  { attempt, slot, deadlineMs }: { attempt: number; slot: string; deadlineMs: number },
): Promise<TaskState | undefined> {
  const now = deps.clock.now();
  const running = await deps.tasks.transition(task.task_id, 'running', {
    set: { slot, heartbeat_until: now + heartbeatTimeoutOf(task) * 1000, lease_until: deadlineMs + LEASE_GRACE_MS },
    when: { attempts: attempt, status: IN_FLIGHT },
    ...acceptedChange(task, attempt, now),
  });
  if (!running) {
    await releaseAttempt(deps, { ...task, slot }, attempt, agent);
    const latest = await deps.tasks.get(task.task_id);
    // Cancelled while the delivery was on its way: the agent, which just took it, is told at once.
    if (latest?.status === 'cancelled' && latest.attempts === attempt) await noticeCancel(deps, latest, agent);
    return latest;
  }
  deps.metrics.count('AttemptsAccepted', task.agent_type);
  await trackAccepted(deps, running);
  return running;
}

/** The 202 stamps the attempt's log entry `accepted_at`, on the same write that records it. */
function acceptedChange(task: TaskState, attempt: number, nowMs: number): { setAttempt?: { index: number; entry: AttemptLogEntry } } {
  const setAttempt = acceptedEntry(task, attempt, nowMs);
  return setAttempt ? { setAttempt } : {};
}

/** Why an accepted attempt is over by `nowMs`, if it is: its overall deadline, or its agent's silence. */
export function overdueFailure(task: TaskState, nowMs: number): Exclude<AttemptResult, { kind: 'completed' }> | undefined {
  if (task.status !== 'running' || task.heartbeat_until === undefined) return undefined;
  const onAgent = `attempt ${task.attempts} on agent ${task.agent_id ?? '?'}`;
  if (nowMs >= (task.lease_until ?? Number.POSITIVE_INFINITY) - LEASE_GRACE_MS)
    return { kind: 'timed_out', error: `${onAgent}: accepted, but no report within timeout_seconds (${task.timeout_seconds} s)` };
  if (nowMs >= task.heartbeat_until) {
    const error = `${onAgent}: accepted, then no progress for heartbeat_timeout_seconds (${heartbeatTimeoutOf(task)} s): the agent is taken as lost`;
    return { kind: 'failed', error, retryable: true, health: 'failure', outcome: 'lost' };
  }
  return undefined;
}

/**
 * Ends attempt `attempt` of `task` (the state read while it was in flight) with `outcome`: completed,
 * or failed/timed out (retried on another agent after the backoff, while attempts remain). With
 * `reported`, the report is recorded so that its repeat is recognised. Frees the slot and wakes
 * waiters. Undefined when the attempt had already ended: then nothing changed.
 */
export async function endAcceptedAttempt(
  deps: AcceptedDeps,
  task: TaskState,
  attempt: number,
  outcome: AttemptResult,
  reported: boolean,
): Promise<TaskState | undefined> {
  const when = { attempts: attempt, status: IN_FLIGHT };
  const mark = reported ? { reported: attempt } : {};
  const remove: Array<keyof TaskState> = ['lease_until', 'heartbeat_until'];
  const logged = endingChange(task, attempt, endedOf(outcome), deps.clock.now());
  let ended: TaskState | undefined;
  if (outcome.kind === 'completed') {
    ended = await finishTask(deps, task, 'completed', {
      set: { result: outcome.result ?? null, ...mark },
      remove: [...remove, 'error'],
      when,
      ...logged,
    });
  } else {
    const baseDelay = task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds;
    const next = afterFailedAttempt(attempt, task.max_retries, baseDelay, outcome);
    const change = { set: { error: outcome.error, ...mark }, remove, when, appendFailedAgent: task.agent_id, ...logged };
    if (!next.retry) ended = await finishTask(deps, task, next.status, change);
    else {
      ended = await deps.tasks.transition(task.task_id, 'retrying', change);
      if (ended) {
        deps.metrics.count(TASK_METRIC.retried, task.agent_type);
        const retrying = { task_id: task.task_id, attempt, error: shortError(outcome.error), delay_seconds: next.delaySeconds };
        deps.activity.emit({ kind: 'task', event: 'retrying', ...retrying });
        // A lost message leaves the task `retrying`: the reconciler drives it once it is stale.
        await deps.queue.enqueue(task.task_id, task.priority, undefined, next.delaySeconds).catch(() => {
          deps.metrics.count('RetriesNotEnqueued', task.agent_type);
        });
      }
    }
  }
  if (ended) await releaseAttempt(deps, task, attempt);
  return ended;
}

/** Frees the attempt's slot (waking the agent's waiters) and drops it from the cache's sweep. */
export async function releaseAttempt(deps: AcceptedDeps, task: TaskState, attempt: number, known?: AgentRecord): Promise<void> {
  const untrack = deps.cache.untrackAttempt(trackedAttemptOf(task, attempt));
  if (task.slot && task.agent_id) {
    const agent = known ?? (await deps.agents.get(task.agent_id));
    const key: AgentKey = { agentId: task.agent_id, type: agent?.type ?? task.agent_type };
    const wake = agent ? wakeRequest(agent, deps.clock.now()) : undefined;
    await startWoken(deps, await deps.cache.releaseSlot(key, task.slot, wake));
  }
  await untrack;
}

/**
 * A cancel ended an accepted attempt: its slot is freed, and its agent told with a signed POST
 * /task/{id}/cancel, best effort, within about a second. Answers how the notice went (for the log).
 */
export async function cancelAccepted(deps: AcceptedDeps & Pick<Deps, 'agentClient'>, task: TaskState): Promise<string> {
  const agent = task.agent_id ? await deps.agents.get(task.agent_id) : undefined;
  const [notice] = await Promise.all([noticeCancel(deps, task, agent), releaseAttempt(deps, task, task.attempts, agent)]);
  return notice;
}

/** The signed POST /task/{id}/cancel to the attempt's agent; never throws, never retried. */
async function noticeCancel(deps: Pick<Deps, 'agentClient' | 'metrics'>, task: TaskState, agent: AgentRecord | undefined): Promise<string> {
  if (!agent) return 'the agent is no longer registered';
  const target = deliveryTargetOf(agent);
  const notice = await deps.agentClient.notifyCancel(target, task.task_id, task.attempts, CANCEL_NOTICE_TIMEOUT_MS);
  if (!notice.ok) deps.metrics.count('CancelNoticesFailed', task.agent_type);
  return notice.detail;
}

/** How long a cancel waits for its notice to reach the agent. */
export const CANCEL_NOTICE_TIMEOUT_MS = 1_000;

/**
 * The reconciler's part: accepted attempts past their due time, from the cache's sorted sets (O(log n
 * + k) per agent type), and from `listed` (the open tasks the table's sweep read). Each is checked
 * against the stored task before it is ended: only when its stored deadline has passed too (one whose
 * stored deadline moved, a progress whose cache update was lost, is tracked again). A keep-alive may
 * move the heartbeat deadline in the cache alone, so the table's stored heartbeat deadline ends an
 * attempt only while the cache is down; its overall deadline, always.
 */
export async function endOverdueAttempts(deps: AcceptedDeps, listed: readonly TaskState[], limit: number): Promise<string[]> {
  const now = deps.clock.now();
  const ended: string[] = [];
  const seen = new Set<string>();
  const end = async (task: TaskState | undefined, attempt: number, tracked?: TrackedAttempt) => {
    if (!task || seen.has(`${task.task_id}:${attempt}`)) return;
    seen.add(`${task.task_id}:${attempt}`);
    if (task.status !== 'running' || task.attempts !== attempt) {
      if (tracked) await deps.cache.untrackAttempt(tracked);
      return;
    }
    const failure = overdueFailure(task, now);
    if (!failure) {
      if (tracked) await trackAccepted(deps, task);
      return;
    }
    if (await endAcceptedAttempt(deps, task, attempt, failure, false)) ended.push(task.task_id);
  };
  const due = await deps.cache.sweepAttempts(now, limit);
  for (const tracked of due ?? []) await end((await deps.tasks.get(tracked.taskId)) ?? goneTask(tracked), tracked.attempt, tracked);
  for (const task of listed) {
    const failure = overdueFailure(task, now);
    if (failure && (due === undefined || failure.kind === 'timed_out')) await end(task, task.attempts);
  }
  return ended;
}

/** A tracked attempt of a task no longer stored: only untracked. */
function goneTask(tracked: TrackedAttempt): TaskState {
  return {
    task_id: tracked.taskId,
    agent_type: tracked.agentType,
    task_type: '',
    priority: 0,
    timeout_seconds: 0,
    max_retries: 0,
    status: 'cancelled',
    created_at: '',
    updated_at: '',
    attempts: tracked.attempt,
  };
}
