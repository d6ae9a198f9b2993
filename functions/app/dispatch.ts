/**
 * One step of a task's state machine execution: find an agent, take the attempt's lease, POST the
 * task, record what happened. Every write is conditional on the status and attempt number the step
 * saw, so a duplicate execution, a retried invocation or a racing cancel cannot dispatch an attempt
 * twice or move a finished task.
 */
import type { AgentRecord } from '../core/agent-model';
import { afterOutcome, type HealthSignal } from '../core/circuit-breaker';
import type { AgentTaskRequest } from '@optiinfra/contract';
import { TASK_METRIC, unstorablePlace } from '@optiinfra/contract';
import { canAppend, endedOf, endingChange, startedEntry } from '../core/attempt-log';
import type { AgentKey } from '../core/cache-port';
import { type DeliveryResult, deliveryTargetOf } from '../core/ports';
import { healthOf } from '../core/retry-policy';
import { isTerminal, syncWaitSeconds, type TaskState } from '../core/task-model';
import { agentPollSeconds } from '../core/waiting-queue';
import { acceptAttempt, endAcceptedAttempt, heartbeatTimeoutOf, overdueFailure } from './accepted-attempts';
import { chooseAgent, type Choice } from './choose-agent';
import { finishTask } from './finish-task';
import { leaveQueue, startWoken, wakeFor, wakeRequest } from './wake-waiters';
import {
  AnswerNotStoredError,
  continueAsNewIfNeeded,
  done,
  handOverIfNeeded,
  LEASE_GRACE_MS,
  loopOf,
  recordFailure,
  type StepDeps,
  type StepResult,
  type WorkflowState,
} from './workflow-step';

export { LEASE_GRACE_MS } from './workflow-step';

export async function dispatchStep(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const continued = await continueAsNewIfNeeded(deps, state);
  if (continued) return continued;
  return { ...(await handOverIfNeeded(deps, state, await dispatchOnce(deps, state))), loop: loopOf(state) };
}

async function dispatchOnce(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const prev = state.step;
  // The execution's first step may read a state a moment old (half the read units): every write below is
  // conditional on the stored status and attempts, so a stale read can waste a slot, never deliver twice.
  const task = await deps.tasks.get(state.task_id, { consistent: prev !== undefined });
  if (!task || isTerminal(task.status)) {
    if (task) await leaveQueue(deps, task);
    return done(task, prev);
  }
  const now = deps.clock.now();

  if (task.status === 'running' && task.heartbeat_until !== undefined) {
    // Accepted (202): no execution waits for it. Its report or the reconciler ends it; a re-drive only past its
    // overall deadline (its heartbeat deadline may have moved in the cache alone: the reconciler checks that).
    const failure = overdueFailure(task, now);
    if (failure?.kind !== 'timed_out') return done(task, prev);
    return done((await endAcceptedAttempt(deps, task, task.attempts, failure, false)) ?? (await deps.tasks.get(task.task_id)), prev);
  }
  if (task.status === 'sent' || task.status === 'running') {
    const leaseLeft = (task.lease_until ?? 0) - now;
    // Another invocation still owns this attempt (a retried invocation or a duplicate execution): look again later.
    if (leaseLeft > 0) {
      const delay = Math.max(1, Math.min(deps.settings.agentPollSeconds, Math.ceil(leaseLeft / 1000)));
      return { outcome: 'wait', delay_seconds: delay, status: task.status, attempts: task.attempts, fault_count: 0 };
    }
    const error = `attempt ${task.attempts} got no outcome before its deadline (the orchestrator was interrupted)`;
    const failure = { kind: 'failed', error, retryable: true, health: 'neutral', outcome: 'interrupted' } as const;
    return recordFailure(deps, task, task.attempts, failure, task.agent_id);
  }

  const attempt = task.attempts + 1;
  // The agent's HTTP answer comes within the sync wait (at most 300 s); only a 202 keeps the attempt on to its own deadline.
  const deadline = now + syncWaitSeconds(task) * 1000;
  const attemptDeadline = now + task.timeout_seconds * 1000;
  const choice = await chooseAgent(deps, task, now, deadline + LEASE_GRACE_MS);
  await startWoken(deps, choice.woken);
  // Only a task that parks or leaves the queue reports it: a dispatch that never waited emits nothing,
  // and the metrics publish a container's first value of each minute and its new maxima, not every one.
  if (choice.waiting !== undefined) deps.metrics.gauge(TASK_METRIC.waitingTasks, choice.waiting, task.agent_type);
  if (choice.kind === 'wait') return wait(deps, task, prev, choice);
  const { agent, routing, slot } = choice;
  const agentKey: AgentKey = { agentId: agent.agent_id, type: agent.type };
  const leased = await deps.tasks.transition(task.task_id, 'sent', {
    set: {
      attempts: attempt,
      agent_id: agent.agent_id,
      lease_until: deadline + LEASE_GRACE_MS,
      started_at: task.started_at ?? new Date(now).toISOString(),
      routing,
    },
    when: { attempts: task.attempts },
    // The attempt's history entry rides on its lease write: no write of its own.
    ...(canAppend(task, attempt) ? { appendAttempt: startedEntry(attempt, agent, routing.reason, now) } : {}),
  });
  if (!leased) {
    // Someone else moved the task (cancel, or another execution took this attempt): give the slot back
    // (this acquisition's own: the other execution's stays taken) and look again.
    await startWoken(deps, await deps.cache.releaseSlot(agentKey, slot, wakeRequest(agent, deps.clock.now())));
    const latest = await deps.tasks.get(task.task_id);
    return latest && !isTerminal(latest.status)
      ? { outcome: 'wait', delay_seconds: 1, status: latest.status, attempts: latest.attempts, fault_count: 0 }
      : done(latest);
  }
  const dispatched = { task_id: task.task_id, attempt, agent_id: agent.agent_id, agent_name: agent.name, reason: routing.reason };
  deps.activity.emit({ kind: 'task', event: 'dispatched', ...dispatched });
  if (prev?.waiting_since !== undefined) deps.metrics.timing(TASK_METRIC.queueWait, now - prev.waiting_since, task.agent_type);
  const active = { agent_id: agent.agent_id, attempt, deadline: new Date(deadline).toISOString() };
  await deps.cache.putActive(task.task_id, active, syncWaitSeconds(task) + 60);

  const result = await deliver(deps, leased, agent, { attempt, deadline, slot });
  if (result.kind === 'accepted')
    return done(await acceptAttempt(deps, leased, agent, { attempt, slot, deadlineMs: attemptDeadline }), prev);
  if (result.kind !== 'completed') {
    const failure = { ...result, error: `attempt ${attempt} on agent ${agent.name} (${agent.agent_id}): ${result.error}` };
    // The log's entry already names the attempt and agent: it keeps the agent's own words.
    return recordFailure(deps, leased, attempt, failure, agent.agent_id, endedOf(result));
  }
  const onAgent = `attempt ${attempt} on agent ${agent.name} (${agent.agent_id})`;
  const unstorable = unstorablePlace(result.result);
  if (unstorable) {
    // The same answer would fail every attempt: the task fails now, and says where and why.
    const where = ['result', ...unstorable.path].join('.');
    const error = `${onAgent}: the agent's result cannot be stored: ${where} ${unstorable.problem} (not retried)`;
    return recordFailure(deps, leased, attempt, { kind: 'failed', error, retryable: false, health: 'neutral' }, agent.agent_id);
  }
  const completed = await storeAnswer(deps, leased, attempt, result.result ?? null, onAgent);
  // A cancel that won the race keeps the task cancelled: the late answer is dropped.
  return done(completed ?? (await deps.tasks.get(task.task_id)));
}

/**
 * Completes the task with the agent's result. The agent has answered, so the attempt is never
 * delivered again because of the orchestrator's own store: if the store refuses the completed
 * task, the task fails with why; if it cannot record even that, the step throws
 * AnswerNotStoredError and the fault step fails the task. Undefined when a cancel won the race.
 */
async function storeAnswer(
  deps: StepDeps,
  task: TaskState,
  attempt: number,
  result: unknown,
  onAgent: string,
): Promise<TaskState | undefined> {
  try {
    const logged = endingChange(task, attempt, { outcome: 'completed' }, deps.clock.now());
    return await finishTask(deps, task, 'completed', {
      set: { result },
      remove: ['lease_until', 'error'],
      when: { attempts: attempt },
      ...logged,
    });
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const error = `${onAgent}: the agent answered, but the orchestrator could not store its result (${why.slice(0, 500)}); not retried, as the agent did the work`;
    try {
      const logged = endingChange(task, attempt, { outcome: 'failed', error }, deps.clock.now());
      return await finishTask(deps, task, 'failed', { set: { error }, remove: ['lease_until'], when: { attempts: attempt }, ...logged });
    } catch (again) {
      throw new AnswerNotStoredError(error, { cause: again });
    }
  }
}

/**
 * POSTs the attempt to the agent, then frees its slot (waking the next waiter), unless the agent
 * accepted it (the slot stays held until the attempt ends), and tells its circuit breaker how it went.
 */
async function deliver(
  deps: StepDeps,
  task: TaskState,
  agent: AgentRecord,
  { attempt, deadline, slot }: { attempt: number; deadline: number; slot: string },
): Promise<DeliveryResult> {
  const target = deliveryTargetOf(agent);
  const sentAt = deps.clock.now();
  let result: DeliveryResult | undefined;
  try {
    // Parameters and metadata were written once at submit, apart from the status: read only for a delivery.
    const payload = await deps.tasks.payload(task.task_id);
    if (!payload) {
      const error = "the task's parameters are no longer stored (past the retention period), so it cannot be delivered (not retried)";
      result = { kind: 'failed', error, retryable: false, health: 'neutral' };
    } else {
      const request: AgentTaskRequest = {
        task_id: task.task_id,
        task_type: task.task_type,
        parameters: payload.parameters,
        timeout_seconds: task.timeout_seconds,
        priority: task.priority,
        metadata: payload.metadata,
        heartbeat_timeout_seconds: heartbeatTimeoutOf(task),
      };
      const api = deps.settings.publicApiUrl;
      if (api) {
        request.report_url = `${api}/tasks/${task.task_id}/result`;
        request.progress_url = `${api}/tasks/${task.task_id}/progress`;
      }
      result = await deps.agentClient.deliver(target, request, attempt, deadline);
    }
  } finally {
    if (result?.kind !== 'accepted') await freeSlot(deps, task.task_id, agent, slot);
  }
  deps.metrics.timing(TASK_METRIC.dispatchLatency, deps.clock.now() - sentAt, task.agent_type);
  await noteHealth(deps, agent, `${task.task_id}:${attempt}`, result.kind === 'accepted' ? 'success' : healthOf(result));
  return result;
}

async function freeSlot(deps: StepDeps, taskId: string, agent: AgentRecord, slot: string): Promise<void> {
  const agentKey: AgentKey = { agentId: agent.agent_id, type: agent.type };
  const [woken] = await Promise.all([
    deps.cache.releaseSlot(agentKey, slot, wakeRequest(agent, deps.clock.now())),
    deps.cache.clearActive(taskId),
  ]);
  await startWoken(deps, woken);
}

/** Feeds the agent's circuit breaker with what an attempt said about its health. */
async function noteHealth(deps: StepDeps, agent: AgentRecord, dispatchId: string, signal: HealthSignal): Promise<void> {
  if (signal === 'neutral') return;
  const key: AgentKey = { agentId: agent.agent_id, type: agent.type };
  const now = deps.clock.now();
  const breaker = deps.settings.breaker;
  const stats = await deps.cache.recordOutcome(key, dispatchId, signal === 'failure', now, breaker.windowSeconds * 1000);
  if (!stats) return;
  const change = afterOutcome(stats, signal, now, breaker);
  if (change.kind === 'open') {
    await deps.cache.setCircuit(key, change.open);
    deps.metrics.count(TASK_METRIC.circuitsOpened, agent.type);
    deps.activity.emit({ kind: 'agent', event: 'circuit_open', agent_id: agent.agent_id, name: agent.name, type: agent.type });
  } else if (change.kind === 'close') {
    await deps.cache.setCircuit(key, undefined);
    deps.metrics.count(TASK_METRIC.circuitsClosed, agent.type);
    deps.activity.emit({ kind: 'agent', event: 'circuit_closed', agent_id: agent.agent_id, name: agent.name, type: agent.type });
    await wakeFor(deps, agent);
  }
}

/**
 * No agent can take the task now. Parked in the cache, the execution ends here and a freed slot wakes
 * the task; past its queue deadline it fails. With the cache down nothing can wake it: it looks again
 * after a poll interval, until its queue timeout.
 */
async function wait(
  deps: StepDeps,
  task: TaskState,
  prev: StepResult | undefined,
  choice: Extract<Choice, { kind: 'wait' }>,
): Promise<StepResult> {
  const now = deps.clock.now();
  const queueTimeout = task.queue_timeout_seconds ?? deps.settings.queueTimeoutSeconds;
  if (choice.parked) {
    // (No metric here: it would add an EMF log line to every park, which has none otherwise.)
    if (now < choice.parked.deadlineMs) return { ...done(task, prev), parked: true };
  } else {
    const since = prev?.waiting_since ?? now;
    if (now - since < queueTimeout * 1000) {
      const delay = agentPollSeconds(task.priority, deps.settings.agentPollSeconds);
      return { outcome: 'wait', delay_seconds: delay, status: task.status, attempts: task.attempts, waiting_since: since, fault_count: 0 };
    }
  }
  const error = `no agent became available within the queue timeout of ${queueTimeout} s (${choice.reason}); add or free agents, or submit with a longer queue_timeout_seconds`;
  const failed = await finishTask(deps, task, 'failed', { set: { error }, when: { attempts: task.attempts } });
  await leaveQueue(deps, task);
  return done(failed ?? (await deps.tasks.get(task.task_id)));
}
