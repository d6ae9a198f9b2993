/**
 * One step of a task's state machine execution: find an agent, take the attempt's lease, POST the
 * task, record what happened. Every write is conditional on the status and attempt number the step
 * saw, so a duplicate execution, a retried invocation or a racing cancel cannot dispatch an attempt
 * twice or move a finished task.
 */
import { agentStatus, isExpired } from '../core/agent-model';
import type { AgentTaskRequest } from '../core/contract';
import { afterFailedAttempt, agentPollSeconds, type AttemptResult } from '../core/retry-policy';
import { selectAgent } from '../core/routing';
import { mustHandOver } from '../core/workflow-choice';
import { isTerminal, PRIORITY, type Task, type TaskStatus, toStatusResponse } from '../core/task-model';
import type { Deps } from './deps';
import { inFlightOf } from './agents';
import { taskPool } from './tasks';
import { retentionExpiry } from './task-views';

/** What the state machine's Choice routes on. */
export type StepOutcome = 'retry' | 'wait' | 'done';

export interface StepResult {
  outcome: StepOutcome;
  /** Seconds for the next Wait state (RetryDelay or WaitForAgent). */
  delay_seconds: number;
  status: TaskStatus | 'gone';
  attempts: number;
  /** When this execution started waiting for a free agent (ms since epoch), carried between steps. */
  waiting_since?: number;
  /** Consecutive failures of the orchestrator's own steps. */
  fault_count: number;
  /** Set when this (Express) execution gave the task to a Standard execution and ends here. */
  handed_over?: true;
}

export interface WorkflowState {
  task_id: string;
  state_timeout_seconds: number;
  express_deadline_ms?: number;
  step?: StepResult;
  fault?: { Error?: string; Cause?: string };
}

/** Lease slack beyond the attempt deadline, covering the write of the outcome. */
export const LEASE_GRACE_MS = 5_000;
/** Orchestrator faults tolerated in a row before the task is failed. */
export const MAX_CONSECUTIVE_FAULTS = 3;

type StepDeps = Pick<Deps, 'tasks' | 'agents' | 'cache' | 'agentClient' | 'clock' | 'settings' | 'metrics' | 'queue'>;

function done(task: Task | undefined, prev?: StepResult): StepResult {
  return { outcome: 'done', delay_seconds: 0, status: task?.status ?? 'gone', attempts: task?.attempts ?? prev?.attempts ?? 0, fault_count: 0 };
}

async function finish(deps: StepDeps, task: Task): Promise<void> {
  await deps.cache.putResult(toStatusResponse(task), deps.settings.resultTtlSeconds);
  const metric = { completed: 'TasksCompleted', failed: 'TasksFailed', timeout: 'TasksTimedOut', cancelled: 'TasksCancelled' }[task.status as 'completed'];
  if (metric) deps.metrics.count(metric, task.agent_type);
}

/** Records a failed attempt `attempts` of a task that is `sent`, deciding retry or the end. */
async function recordFailure(deps: StepDeps, task: Task, attempts: number, kind: 'failed' | 'timed_out', error: string, agentId: string | undefined): Promise<StepResult> {
  const now = deps.clock.now();
  const next = afterFailedAttempt(attempts, task.max_retries, deps.settings.retryBaseDelaySeconds, kind);
  const base = { set: { error }, remove: ['lease_until'] as Array<keyof Task>, when: { attempts }, appendFailedAgent: agentId };
  if (next.retry) {
    const updated = await deps.tasks.transition(task.task_id, 'retrying', base);
    if (!updated) return done(await deps.tasks.get(task.task_id));
    deps.metrics.count('TasksRetried', task.agent_type);
    return { outcome: 'retry', delay_seconds: next.delaySeconds, status: 'retrying', attempts, fault_count: 0 };
  }
  const updated = await deps.tasks.transition(task.task_id, next.status, {
    ...base,
    set: { ...base.set, completed_at: new Date(now).toISOString() },
    expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
  });
  if (!updated) return done(await deps.tasks.get(task.task_id));
  await finish(deps, updated);
  return done(updated);
}

async function wait(deps: StepDeps, task: Task, prev: StepResult | undefined, reason: string): Promise<StepResult> {
  const now = deps.clock.now();
  const since = prev?.waiting_since ?? now;
  if (now - since >= deps.settings.queueTimeoutSeconds * 1000) {
    const error = `no agent could take the task within the queue timeout of ${deps.settings.queueTimeoutSeconds} s: ${reason}`;
    const updated = await deps.tasks.transition(task.task_id, 'timeout', {
      set: { error, completed_at: new Date(now).toISOString() },
      when: { attempts: task.attempts },
      expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
    });
    await deps.cache.leaveQueue(taskPool(task), task.task_id);
    if (updated) await finish(deps, updated);
    return done(updated ?? (await deps.tasks.get(task.task_id)));
  }
  return {
    outcome: 'wait',
    delay_seconds: agentPollSeconds(task.priority, deps.settings.agentPollSeconds),
    status: task.status,
    attempts: task.attempts,
    waiting_since: since,
    fault_count: 0,
  };
}

/**
 * An Express execution ends at 5 minutes. Before it sleeps into that limit (long waits for agents,
 * late retries) it puts the task back on the intake queue and ends: the starter starts a Standard
 * execution for a task that is no longer pending, and that carries on from the task's stored state.
 * (The dispatcher cannot start the Standard machine itself: that machine's definition names the
 * dispatcher, so the reference would be circular.)
 */
async function handOverIfNeeded(deps: StepDeps, state: WorkflowState, result: StepResult): Promise<StepResult> {
  if (result.outcome === 'done' || !mustHandOver(state.express_deadline_ms, deps.clock.now(), result.delay_seconds, state.state_timeout_seconds)) return result;
  await deps.queue.enqueue(state.task_id, PRIORITY.normal);
  deps.metrics.count('HandedOverToStandard', 'all');
  return { ...result, outcome: 'done', handed_over: true };
}

export async function dispatchStep(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  return handOverIfNeeded(deps, state, await dispatchOnce(deps, state));
}

async function dispatchOnce(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const prev = state.step;
  const task = await deps.tasks.get(state.task_id);
  if (!task || isTerminal(task.status)) {
    if (task) await deps.cache.leaveQueue(taskPool(task), task.task_id);
    return done(task, prev);
  }
  const now = deps.clock.now();

  if (task.status === 'sent' || task.status === 'running') {
    const leaseLeft = (task.lease_until ?? 0) - now;
    // Another invocation still owns this attempt (a retried invocation or a duplicate execution): look again later.
    if (leaseLeft > 0) return { outcome: 'wait', delay_seconds: Math.max(1, Math.min(deps.settings.agentPollSeconds, Math.ceil(leaseLeft / 1000))), status: task.status, attempts: task.attempts, fault_count: 0 };
    return recordFailure(deps, task, task.attempts, 'failed', `attempt ${task.attempts} got no outcome before its deadline (the orchestrator was interrupted)`, task.agent_id);
  }

  const agents = (await deps.agents.list(task.agent_type)).filter((a) => !isExpired(a, now));
  const ids = agents.map((a) => a.agent_id);
  const [liveness, leases] = await Promise.all([deps.cache.getLiveness(ids), deps.cache.inFlight(ids, now)]);
  const grace = liveness ? 0 : deps.settings.heartbeatPersistSeconds * 1000;
  const selection = selectAgent(
    agents.map((agent) => {
      const live = liveness?.get(agent.agent_id);
      return { agent, status: agentStatus(agent, now, deps.settings.heartbeatIntervalSeconds, live, grace), inFlight: inFlightOf(agent, live, leases) };
    }),
    { agentType: task.agent_type, capability: task.task_type, agentId: task.requested_agent_id, avoid: task.failed_agents },
  );
  const pool = taskPool(task);
  const score = (16 - task.priority) * 1e13 + Date.parse(task.queued_at ?? task.created_at);
  const staleMs = 3 * agentPollSeconds(1, deps.settings.agentPollSeconds) * 1000 + 5_000;
  if (selection.kind !== 'selected') {
    await deps.cache.waitTurn(pool, task.task_id, score, 0, now, staleMs);
    return wait(deps, task, prev, selection.reason);
  }
  if (!(await deps.cache.waitTurn(pool, task.task_id, score, selection.freeSlots, now, staleMs))) {
    return wait(deps, task, prev, 'tasks of higher priority are waiting for the same agents');
  }

  const agent = selection.agent;
  const attempt = task.attempts + 1;
  const deadline = now + task.timeout_seconds * 1000;
  const leased = await deps.tasks.transition(task.task_id, 'sent', {
    set: { attempts: attempt, agent_id: agent.agent_id, lease_until: deadline + LEASE_GRACE_MS, started_at: task.started_at ?? new Date(now).toISOString() },
    when: { attempts: task.attempts },
  });
  if (!leased) {
    // Someone else moved the task (cancel, or another execution took this attempt): look again.
    const latest = await deps.tasks.get(task.task_id);
    return latest && !isTerminal(latest.status) ? { outcome: 'wait', delay_seconds: 1, status: latest.status, attempts: latest.attempts, fault_count: 0 } : done(latest);
  }
  await deps.cache.leaveQueue(pool, task.task_id);
  if (prev?.waiting_since !== undefined) deps.metrics.timing('QueueWait', now - prev.waiting_since, task.agent_type);
  await Promise.all([
    deps.cache.addLease(agent.agent_id, task.task_id, deadline + LEASE_GRACE_MS),
    deps.cache.putActive(task.task_id, { agent_id: agent.agent_id, attempt, deadline: new Date(deadline).toISOString() }, task.timeout_seconds + 60),
  ]);

  const request: AgentTaskRequest = {
    task_id: task.task_id,
    task_type: task.task_type,
    parameters: task.parameters,
    timeout_seconds: task.timeout_seconds,
    priority: task.priority,
    metadata: task.metadata,
  };
  const sentAt = deps.clock.now();
  let result: AttemptResult;
  try {
    result = await deps.agentClient.deliver({ agentId: agent.agent_id, host: agent.host, port: agent.port, signingSecret: agent.signing_secret }, request, attempt, deadline);
  } finally {
    await Promise.all([deps.cache.removeLease(agent.agent_id, task.task_id), deps.cache.clearActive(task.task_id)]);
  }
  deps.metrics.timing('DispatchLatency', deps.clock.now() - sentAt, task.agent_type);

  if (result.kind === 'completed') {
    const finishedAt = deps.clock.now();
    const completed = await deps.tasks.transition(task.task_id, 'completed', {
      set: { result: result.result ?? null, completed_at: new Date(finishedAt).toISOString() },
      remove: ['lease_until', 'error'],
      when: { attempts: attempt },
      expiresAt: retentionExpiry(finishedAt, deps.settings.taskRetentionDays),
    });
    // A cancel that won the race keeps the task cancelled: the late answer is dropped.
    if (!completed) return done(await deps.tasks.get(task.task_id));
    await finish(deps, completed);
    return done(completed);
  }
  return recordFailure(deps, leased, attempt, result.kind, `attempt ${attempt} on agent ${agent.name} (${agent.agent_id}): ${result.error}`, agent.agent_id);
}

/**
 * The state machine's Catch path: a step itself failed (Lambda error, or the Task state's own
 * timeout). An attempt in flight counts as failed; otherwise the step is tried again a few times
 * before the task is failed, so every execution still ends with the task in a terminal state.
 */
export async function faultStep(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  deps.metrics.count('DispatchFaults', 'all');
  return handOverIfNeeded(deps, state, await recordFault(deps, state));
}

async function recordFault(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const task = await deps.tasks.get(state.task_id);
  if (!task || isTerminal(task.status)) return done(task, state.step);
  const errorName = state.fault?.Error ?? 'UnknownError';
  const timedOut = errorName === 'States.Timeout';
  if ((task.status === 'sent' || task.status === 'running') && (task.lease_until ?? 0) > 0) {
    const why = timedOut ? 'the dispatch step exceeded its time limit' : `the dispatch step failed (${errorName})`;
    return recordFailure(deps, task, task.attempts, timedOut ? 'timed_out' : 'failed', `attempt ${task.attempts}: ${why}`, task.agent_id);
  }
  const faults = (state.step?.fault_count ?? 0) + 1;
  if (faults < MAX_CONSECUTIVE_FAULTS) {
    return { outcome: 'retry', delay_seconds: deps.settings.retryBaseDelaySeconds, status: task.status, attempts: task.attempts, waiting_since: state.step?.waiting_since, fault_count: faults };
  }
  const now = deps.clock.now();
  const updated = await deps.tasks.transition(task.task_id, 'failed', {
    set: { error: `the orchestrator could not dispatch the task (${errorName}) ${faults} times in a row`, completed_at: new Date(now).toISOString() },
    when: { attempts: task.attempts },
    expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
  });
  if (updated) await finish(deps, updated);
  return done(updated ?? (await deps.tasks.get(task.task_id)));
}
