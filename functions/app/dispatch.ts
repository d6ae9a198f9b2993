/**
 * One step of a task's state machine execution: find an agent, take the attempt's lease, POST the
 * task, record what happened. Every write is conditional on the status and attempt number the step
 * saw, so a duplicate execution, a retried invocation or a racing cancel cannot dispatch an attempt
 * twice or move a finished task.
 */
import { type AgentRecord, agentStatus, isExpired } from '../core/agent-model';
import { afterOutcome, circuitState, type HealthSignal } from '../core/circuit-breaker';
import type { AgentTaskRequest } from '../core/contract';
import type { AgentKey, CachedAgentStore } from '../core/ports';
import { afterFailedAttempt, agentPollSeconds, type AttemptResult, healthOf } from '../core/retry-policy';
import { describeDecision, describeTarget, offers, pickLeastLoaded, planRouting } from '../core/routing';
import { mustHandOver } from '../core/workflow-choice';
import { isTerminal, PRIORITY, type RoutingDecision, type Task, type TaskStatus, toStatusResponse } from '../core/task-model';
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

/** What a step uses; the agent registry may answer from a recent read (CachingAgentStore). */
export type StepDeps = Pick<Deps, 'tasks' | 'cache' | 'agentClient' | 'clock' | 'settings' | 'metrics' | 'queue'> & {
  agents: CachedAgentStore;
};

function done(task: Task | undefined, prev?: StepResult): StepResult {
  return {
    outcome: 'done',
    delay_seconds: 0,
    status: task?.status ?? 'gone',
    attempts: task?.attempts ?? prev?.attempts ?? 0,
    fault_count: 0,
  };
}

async function finish(deps: StepDeps, task: Task): Promise<void> {
  await deps.cache.putResult(toStatusResponse(task), deps.settings.resultTtlSeconds);
  const metric = { completed: 'TasksCompleted', failed: 'TasksFailed', timeout: 'TasksTimedOut', cancelled: 'TasksCancelled' }[
    task.status as 'completed'
  ];
  if (metric) deps.metrics.count(metric, task.agent_type);
}

type FailedAttempt = Exclude<AttemptResult, { kind: 'completed' }>;

/** Records a failed attempt `attempts` of a task that is `sent`, deciding retry or the end. */
async function recordFailure(
  deps: StepDeps,
  task: Task,
  attempts: number,
  failure: FailedAttempt,
  agentId: string | undefined,
): Promise<StepResult> {
  const now = deps.clock.now();
  const next = afterFailedAttempt(attempts, task.max_retries, task.retry_delay_seconds ?? deps.settings.retryBaseDelaySeconds, failure);
  const base = {
    set: { error: failure.error },
    remove: ['lease_until'] as Array<keyof Task>,
    when: { attempts },
    appendFailedAgent: agentId,
  };
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
    deps.metrics.count('CircuitsOpened', agent.type);
  } else if (change.kind === 'close') {
    await deps.cache.setCircuit(key, undefined);
    deps.metrics.count('CircuitsClosed', agent.type);
  }
}

async function wait(deps: StepDeps, task: Task, prev: StepResult | undefined, reason: string): Promise<StepResult> {
  const now = deps.clock.now();
  const since = prev?.waiting_since ?? now;
  const queueTimeout = task.queue_timeout_seconds ?? deps.settings.queueTimeoutSeconds;
  if (now - since >= queueTimeout * 1000) {
    const error = `no agent became available within the queue timeout of ${queueTimeout} s (${reason}); add or free agents, or submit with a longer queue_timeout_seconds`;
    const updated = await deps.tasks.transition(task.task_id, 'failed', {
      set: { error, completed_at: new Date(now).toISOString() },
      when: { attempts: task.attempts },
      expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
    });
    await deps.cache.leaveQueue(task.agent_type, taskPool(task), task.task_id);
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
  if (
    result.outcome === 'done' ||
    !mustHandOver(state.express_deadline_ms, deps.clock.now(), result.delay_seconds, state.state_timeout_seconds)
  )
    return result;
  await deps.queue.enqueue(state.task_id, PRIORITY.normal);
  deps.metrics.count('HandedOverToStandard', 'all');
  return { ...result, outcome: 'done', handed_over: true };
}

export type Choice =
  /** `failedBefore`: only agents that failed this task were usable, and this is one of them. */
  | { kind: 'chosen'; agent: AgentRecord; routing: RoutingDecision; failedBefore?: boolean }
  /** `noneUsable`: no agent could take the task at all (as opposed to all of them being busy). */
  | { kind: 'wait'; reason: string; noneUsable?: boolean };

/** Above this many agents offering a task, the choice is made among a random sample of this size (power of d choices). */
export const ROUTING_SAMPLE_SIZE = 64;

function sample<T>(items: readonly T[], size: number, random: () => number = Math.random): T[] {
  const pool = [...items];
  for (let i = 0; i < size && i < pool.length - 1; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, size);
}

/**
 * Chooses the agent for the task's next attempt and takes one of its slots until `leaseUntilMs`
 * (the caller releases it): registry, then the agents' liveness, load and circuits, then the plan
 * (functions/core/routing.ts), then the cache picks and takes the slot in one atomic step.
 * With more than ROUTING_SAMPLE_SIZE agents offering the task, a random sample of them is tried
 * first, and all of them if the sample has no free slot.
 */
export async function chooseAgent(
  deps: Pick<StepDeps, 'agents' | 'cache' | 'settings'>,
  task: Task,
  now: number,
  leaseUntilMs: number,
): Promise<Choice> {
  const target = { agentType: task.agent_type, capability: task.task_type, agentId: task.requested_agent_id };
  let registry = await deps.agents.listOfType(task.agent_type, false);
  for (;;) {
    const offering = registry.agents.filter((a) => !isExpired(a, now) && offers(a, target));
    let choice: Choice | undefined;
    if (offering.length > ROUTING_SAMPLE_SIZE) {
      const active = offering.filter((a) => a.status !== 'draining');
      const picked = sample(active, ROUTING_SAMPLE_SIZE);
      const sampled = await chooseAmong(deps, task, picked, now, leaseUntilMs, `sampled ${picked.length} of ${offering.length} agents`);
      if (sampled.kind === 'chosen') choice = sampled;
    }
    choice ??= await chooseAmong(deps, task, offering, now, leaseUntilMs, undefined);
    if (choice.kind === 'wait' && choice.noneUsable && registry.cached) {
      // No agent in the snapshot can take it: one may have registered since; look at the table itself.
      // (When they are merely busy, a new agent shows up with the next snapshot.)
      registry = await deps.agents.listOfType(task.agent_type, true);
      continue;
    }
    if (choice.kind === 'chosen' && choice.failedBefore && registry.cached) {
      // Before going back to an agent that failed this task, make sure no other agent registered since.
      await deps.cache.releaseSlot({ agentId: choice.agent.agent_id, type: task.agent_type }, task.task_id);
      registry = await deps.agents.listOfType(task.agent_type, true);
      continue;
    }
    if (choice.kind === 'chosen') {
      const current = await deps.agents.get(choice.agent.agent_id);
      if (!current || isExpired(current, now) || current.status === 'draining' || !offers(current, target)) {
        await deps.cache.releaseSlot({ agentId: choice.agent.agent_id, type: task.agent_type }, task.task_id);
        if (registry.cached) {
          registry = await deps.agents.listOfType(task.agent_type, true);
          continue;
        }
        return { kind: 'wait', reason: `agent ${choice.agent.agent_id} changed while it was being chosen` };
      }
      return { kind: 'chosen', agent: current, routing: choice.routing };
    }
    return choice;
  }
}

async function chooseAmong(
  deps: Pick<StepDeps, 'cache' | 'settings'>,
  task: Task,
  agents: AgentRecord[],
  now: number,
  leaseUntilMs: number,
  sampling: string | undefined,
): Promise<Choice> {
  const keys: AgentKey[] = agents.map((a) => ({ agentId: a.agent_id, type: a.type }));
  const [liveness, leases, circuits] = await Promise.all([
    deps.cache.getLiveness(keys.map((k) => k.agentId)),
    deps.cache.inFlight(keys, now),
    deps.cache.circuits(keys, now, deps.settings.breaker.windowSeconds * 1000, false),
  ]);
  const grace = liveness ? 0 : deps.settings.heartbeatPersistSeconds * 1000;
  const target = { agentType: task.agent_type, capability: task.task_type, agentId: task.requested_agent_id };
  const plan = planRouting(
    agents.map((agent) => {
      const live = liveness?.get(agent.agent_id);
      return {
        agent,
        status: agentStatus(agent, now, deps.settings.heartbeatIntervalSeconds, live, grace),
        inFlight: inFlightOf(agent, live, leases),
        circuit: circuitState(circuits?.get(agent.agent_id)?.open, now),
      };
    }),
    { ...target, avoid: task.failed_agents },
  );
  const slot = {
    agentType: task.agent_type,
    pool: taskPool(task),
    taskId: task.task_id,
    score: (16 - task.priority) * 1e13 + Date.parse(task.queued_at ?? task.created_at),
    nowMs: now,
    staleMs: 3 * agentPollSeconds(1, deps.settings.agentPollSeconds) * 1000 + 5_000,
    leaseUntilMs,
  };
  if (plan.kind !== 'try') {
    // Join the queue anyway, so this task keeps its place for when an agent comes back.
    if (!sampling) await deps.cache.acquireSlot({ ...slot, eligible: [] });
    return { kind: 'wait', reason: plan.reason, noneUsable: true };
  }
  const answer = await deps.cache.acquireSlot({
    ...slot,
    eligible: plan.eligible.map(({ agentId, capacity, tier }) => ({ agentId, capacity, tier })),
  });
  let chosenId: string;
  let loads: Map<string, number>;
  if (answer === undefined) {
    // Cache down: the same rule on the loads known from heartbeats, without the cross-instance guarantee.
    loads = new Map(plan.eligible.map((e) => [e.agentId, e.candidate.inFlight]));
    const { pick } = pickLeastLoaded(plan.eligible, (id) => loads.get(id) ?? 0);
    if (!pick) return { kind: 'wait', reason: `every eligible ${describeTarget(target)} is at its max_concurrency` };
    chosenId = pick.agentId;
  } else if (answer.kind === 'busy') {
    return { kind: 'wait', reason: `every eligible ${describeTarget(target)} is at its max_concurrency` };
  } else if (answer.kind === 'behind') {
    return {
      kind: 'wait',
      reason: `${answer.position} task(s) of higher priority or older are waiting for the same agents, which have ${answer.freeSlots} free slot(s)`,
    };
  } else {
    chosenId = answer.agentId;
    loads = answer.loads;
  }
  const pick = plan.eligible.find((e) => e.agentId === chosenId)!;
  const agent = pick.candidate.agent;
  const routing = describeDecision(plan, agent.agent_id, loads, task.attempts + 1, now, task.requested_agent_id !== undefined);
  if (sampling) routing.reason = `${routing.reason}; ${sampling}`;
  return pick.tier > 0 ? { kind: 'chosen', agent, routing, failedBefore: true } : { kind: 'chosen', agent, routing };
}

export async function dispatchStep(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  return handOverIfNeeded(deps, state, await dispatchOnce(deps, state));
}

async function dispatchOnce(deps: StepDeps, state: WorkflowState): Promise<StepResult> {
  const prev = state.step;
  const task = await deps.tasks.get(state.task_id);
  if (!task || isTerminal(task.status)) {
    if (task) await deps.cache.leaveQueue(task.agent_type, taskPool(task), task.task_id);
    return done(task, prev);
  }
  const now = deps.clock.now();

  if (task.status === 'sent' || task.status === 'running') {
    const leaseLeft = (task.lease_until ?? 0) - now;
    // Another invocation still owns this attempt (a retried invocation or a duplicate execution): look again later.
    if (leaseLeft > 0)
      return {
        outcome: 'wait',
        delay_seconds: Math.max(1, Math.min(deps.settings.agentPollSeconds, Math.ceil(leaseLeft / 1000))),
        status: task.status,
        attempts: task.attempts,
        fault_count: 0,
      };
    const error = `attempt ${task.attempts} got no outcome before its deadline (the orchestrator was interrupted)`;
    return recordFailure(deps, task, task.attempts, { kind: 'failed', error, retryable: true, health: 'neutral' }, task.agent_id);
  }

  const attempt = task.attempts + 1;
  const deadline = now + task.timeout_seconds * 1000;
  const choice = await chooseAgent(deps, task, now, deadline + LEASE_GRACE_MS);
  if (choice.kind === 'wait') return wait(deps, task, prev, choice.reason);
  const { agent, routing } = choice;
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
  });
  if (!leased) {
    // Someone else moved the task (cancel, or another execution took this attempt): give the slot back and look again.
    await deps.cache.releaseSlot(agentKey, task.task_id);
    const latest = await deps.tasks.get(task.task_id);
    return latest && !isTerminal(latest.status)
      ? { outcome: 'wait', delay_seconds: 1, status: latest.status, attempts: latest.attempts, fault_count: 0 }
      : done(latest);
  }
  if (prev?.waiting_since !== undefined) deps.metrics.timing('QueueWait', now - prev.waiting_since, task.agent_type);
  await deps.cache.putActive(
    task.task_id,
    { agent_id: agent.agent_id, attempt, deadline: new Date(deadline).toISOString() },
    task.timeout_seconds + 60,
  );

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
    result = await deps.agentClient.deliver(
      { agentId: agent.agent_id, host: agent.host, port: agent.port, signingSecret: agent.signing_secret },
      request,
      attempt,
      deadline,
    );
  } finally {
    await Promise.all([deps.cache.releaseSlot(agentKey, task.task_id), deps.cache.clearActive(task.task_id)]);
  }
  deps.metrics.timing('DispatchLatency', deps.clock.now() - sentAt, task.agent_type);
  await noteHealth(deps, agent, `${task.task_id}:${attempt}`, healthOf(result));

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
  return recordFailure(
    deps,
    leased,
    attempt,
    { ...result, error: `attempt ${attempt} on agent ${agent.name} (${agent.agent_id}): ${result.error}` },
    agent.agent_id,
  );
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
    const error = `attempt ${task.attempts}: ${why}`;
    return recordFailure(
      deps,
      task,
      task.attempts,
      timedOut ? { kind: 'timed_out', error } : { kind: 'failed', error, retryable: true, health: 'neutral' },
      task.agent_id,
    );
  }
  const faults = (state.step?.fault_count ?? 0) + 1;
  if (faults < MAX_CONSECUTIVE_FAULTS) {
    return {
      outcome: 'retry',
      delay_seconds: deps.settings.retryBaseDelaySeconds,
      status: task.status,
      attempts: task.attempts,
      waiting_since: state.step?.waiting_since,
      fault_count: faults,
    };
  }
  const now = deps.clock.now();
  const updated = await deps.tasks.transition(task.task_id, 'failed', {
    set: {
      error: `the orchestrator could not dispatch the task (${errorName}) ${faults} times in a row`,
      completed_at: new Date(now).toISOString(),
    },
    when: { attempts: task.attempts },
    expiresAt: retentionExpiry(now, deps.settings.taskRetentionDays),
  });
  if (updated) await finish(deps, updated);
  return done(updated ?? (await deps.tasks.get(task.task_id)));
}
