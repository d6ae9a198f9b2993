/**
 * Everything a use case depends on, in memory and on one fake clock: the stores and cache the
 * contract tests hold to DynamoDB's and Redis's behaviour, and fakes for the rest (queue,
 * workflow, agent client, metrics) that record what they were asked and answer what the test scripts.
 */
import { CachingAgentStore } from '../../functions/adapters/caching-agent-store';
import { MemoryAgentStore } from '../../functions/adapters/memory-agent-store';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import { type ItemWriteObserver, MemoryTaskStore } from '../../functions/adapters/memory-task-store';
import { NoTaskCache } from '../../functions/adapters/no-task-cache';
import type { Deps, Settings, TaskMetrics } from '../../functions/app/deps';
import type { StepDeps } from '../../functions/app/workflow-step';
import { loadConfig } from '../../functions/composition/config';
import type { Activity, ActivityEvent } from '../../functions/core/activity';
import type { AgentRecord } from '../../functions/core/agent-model';
import type { AgentTaskRequest } from '@optiinfra/contract';
import type {
  AgentClient,
  Continuation,
  DeliveryResult,
  DeliveryTarget,
  FirstStart,
  StartOutcome,
  TaskQueue,
  Workflow,
  WorkflowInput,
} from '../../functions/core/ports';
import type { TaskCache } from '../../functions/core/cache-port';
import type { CallbackClient, CallbackTarget } from '../../functions/core/callback-port';
import type { CallbackAnswer } from '../../functions/core/task-callback';
import type { AttemptResult } from '../../functions/core/retry-policy';
import type { Task, TaskState } from '../../functions/core/task-model';
import type { WorkflowKind } from '../../functions/core/workflow-choice';
import { agentRecord, task as fixtureTask } from '../../harness/fixtures';
import { FakeClock } from '../support/fake-clock';

export const NOW = Date.parse('2026-06-15T12:00:00.000Z');

/** A task as the store's get answers it: without its payload. */
export function stateOf(task: Task): TaskState {
  const { parameters: _parameters, metadata: _metadata, ...state } = task;
  return state;
}

/** The intake queue: what was enqueued, in order. */
export class RecordingQueue implements TaskQueue {
  readonly sent: Array<{ taskId: string; priority: number; firstStart?: FirstStart; continuation?: Continuation; delaySeconds?: number }> =
    [];
  /** Set to make the next enqueue fail with it. */
  failWith?: Error;

  async enqueue(taskId: string, priority: number, start?: FirstStart | Continuation, delaySeconds?: number): Promise<void> {
    const err = this.failWith;
    this.failWith = undefined;
    if (err) throw err;
    if (start === undefined) this.sent.push(delaySeconds === undefined ? { taskId, priority } : { taskId, priority, delaySeconds });
    else this.sent.push('generation' in start ? { taskId, priority, continuation: start } : { taskId, priority, firstStart: start });
  }

  /** Callbacks enqueued, in order. */
  readonly callbacks: Array<{ taskId: string; delaySeconds?: number }> = [];

  async enqueueCallback(taskId: string, delaySeconds?: number): Promise<void> {
    const err = this.failWith;
    this.failWith = undefined;
    if (err) throw err;
    this.callbacks.push(delaySeconds === undefined ? { taskId } : { taskId, delaySeconds });
  }

  /** The task ids enqueued so far, sorted, and forgets them. */
  drain(): string[] {
    return this.sent
      .splice(0)
      .map((m) => m.taskId)
      .sort();
  }
}

export class RecordingMetrics implements TaskMetrics {
  readonly counts: Array<{ name: string; agentType: string; value: number }> = [];
  readonly timings: Array<{ name: string; ms: number; agentType: string }> = [];

  count(name: string, agentType: string, value = 1): void {
    this.counts.push({ name, agentType, value });
  }

  timing(name: string, ms: number, agentType: string): void {
    this.timings.push({ name, ms, agentType });
  }

  readonly gauges: Array<{ name: string; value: number; agentType: string }> = [];

  gauge(name: string, value: number, agentType: string): void {
    this.gauges.push({ name, value, agentType });
  }

  /** The sum counted under `name`. */
  total(name: string): number {
    return this.counts.filter((c) => c.name === name).reduce((sum, c) => sum + c.value, 0);
  }

  /** Every name counted, with its sum. */
  totals(): Record<string, number> {
    return Object.fromEntries([...new Set(this.counts.map((c) => c.name))].map((name) => [name, this.total(name)]));
  }
}

/** The activity the use cases emitted, in order. */
export class RecordingActivity implements Activity {
  readonly events: ActivityEvent[] = [];

  emit(event: ActivityEvent): void {
    this.events.push(event);
  }

  /** The events of `subject` (a task or agent id) as `event` names, and forgets none. */
  of(subject: string): string[] {
    return this.events.filter((e) => ('task_id' in e ? e.task_id : e.agent_id) === subject).map((e) => e.event);
  }
}

export class RecordingWorkflow implements Workflow {
  readonly starts: Array<{ kind: WorkflowKind; name: string; input: WorkflowInput }> = [];
  readonly stops: Array<{ name: string; reason: string }> = [];
  /** What the next starts answer. */
  outcome: StartOutcome = 'started';

  async start(kind: WorkflowKind, name: string, input: WorkflowInput): Promise<StartOutcome> {
    this.starts.push({ kind, name, input });
    return this.outcome;
  }

  async stop(name: string, reason: string): Promise<void> {
    this.stops.push({ name, reason });
  }
}

export interface Delivery {
  target: DeliveryTarget;
  request: AgentTaskRequest;
  attempt: number;
  deadlineMs: number;
}

/** One scripted answer: a result, or a function of the delivery (to act while the agent "works"). */
export type Answer = DeliveryResult | ((delivery: Delivery) => Promise<DeliveryResult>);

/** An agent client that answers each delivery with the next scripted answer, and records them all. */
export class ScriptedAgentClient implements AgentClient {
  readonly deliveries: Delivery[] = [];
  readonly cancelNotices: Array<{ agentId: string; taskId: string; attempt: number }> = [];
  private readonly script: Answer[] = [];

  async notifyCancel(target: DeliveryTarget, taskId: string, attempt: number): Promise<{ ok: boolean; detail: string }> {
    this.cancelNotices.push({ agentId: target.agentId, taskId, attempt });
    return { ok: true, detail: 'agent answered HTTP 200' };
  }

  answer(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  async deliver(target: DeliveryTarget, request: AgentTaskRequest, attempt: number, deadlineMs: number): Promise<DeliveryResult> {
    const delivery = { target, request, attempt, deadlineMs };
    this.deliveries.push(delivery);
    const next = this.script.shift();
    if (next === undefined) throw new Error(`no answer scripted for delivery ${this.deliveries.length} (attempt ${attempt})`);
    return typeof next === 'function' ? next(delivery) : next;
  }
}

/** A callback receiver that answers each POST with the next scripted answer, and records them all. */
export class ScriptedCallbackClient implements CallbackClient {
  readonly sent: Array<{ target: CallbackTarget; webhookId: string; body: string }> = [];
  private readonly script: CallbackAnswer[] = [];

  answer(...answers: CallbackAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  async send(target: CallbackTarget, webhookId: string, body: string): Promise<CallbackAnswer> {
    this.sent.push({ target, webhookId, body });
    const next = this.script.shift();
    if (next === undefined) throw new Error(`no answer scripted for callback ${this.sent.length}`);
    return next;
  }
}

export const completed = (result: unknown = { ok: true }): AttemptResult => ({ kind: 'completed', result });
export const failed = (error: string, retryable = true, extra: { retryAfterSeconds?: number } = {}): AttemptResult => ({
  kind: 'failed',
  error,
  retryable,
  health: retryable ? 'failure' : 'neutral',
  ...extra,
});
export const accepted = (): DeliveryResult => ({ kind: 'accepted' });
export const timedOut = (error = 'no answer in time'): AttemptResult => ({ kind: 'timed_out', error });

/** A world for use cases. Private networks 10.0.0.0/8 are allowed, as a deployment in a VPC would. */
export function world(overrides: Partial<Settings> = {}, options: { cacheDown?: boolean; observeTaskWrites?: ItemWriteObserver } = {}) {
  const clock = new FakeClock(NOW);
  const settings: Settings = { ...loadConfig({ ALLOWED_AGENT_NETWORKS: '10.0.0.0/8' }).settings, ...overrides };
  const tasks = new MemoryTaskStore(clock, options.observeTaskWrites);
  const agents = new MemoryAgentStore();
  // With `cacheDown`, the cache answers as RedisTaskCache does while its server is down.
  const cache: TaskCache = options.cacheDown ? new NoTaskCache() : new MemoryTaskCache(clock);
  const queue = new RecordingQueue();
  const workflow = new RecordingWorkflow();
  const agentClient = new ScriptedAgentClient();
  const metrics = new RecordingMetrics();
  const activity = new RecordingActivity();
  const callbackClient = new ScriptedCallbackClient();
  const hosts = new Map<string, string[]>();
  const deps: Deps = {
    tasks,
    agents,
    cache,
    queue,
    workflow,
    agentClient,
    callbacks: tasks,
    callbackClient,
    clock,
    settings,
    metrics,
    activity,
    resolveHost: async (host) => hosts.get(host) ?? [],
  };
  /** What the dispatcher's steps get: the registry through a CachingAgentStore, as the composition root builds it. */
  const stepDeps: StepDeps = {
    tasks,
    agents: new CachingAgentStore(agents, settings.registryCacheSeconds, clock),
    cache,
    agentClient,
    clock,
    settings,
    metrics,
    queue,
    activity,
  };
  let taskCount = 0;

  return {
    clock,
    settings,
    tasks,
    agents,
    cache,
    queue,
    workflow,
    agentClient,
    callbackClient,
    metrics,
    activity,
    hosts,
    deps,
    stepDeps,
    /** Registers an agent as of now (type "cost", offering "analyze_cost", 10 slots, unless told otherwise). */
    async agent(overrides: Partial<AgentRecord> = {}): Promise<AgentRecord> {
      const { registered_at: _registered, ...record } = agentRecord({ last_heartbeat: clock.iso(), host: '10.0.1.12', ...overrides });
      return (await agents.register(record, clock.iso(), (await agents.get(record.agent_id))?.token_hash ?? null))!;
    },
    /** Stores a task created now (queued, for "cost"/"analyze_cost", unless told otherwise). */
    async task(overrides: Partial<Task> = {}): Promise<Task> {
      const t = fixtureTask({
        task_id: `00000000-0000-4000-8000-${String(++taskCount).padStart(12, '0')}`,
        status: 'queued',
        created_at: clock.iso(),
        updated_at: clock.iso(),
        queued_at: clock.iso(),
        retry_delay_seconds: settings.retryBaseDelaySeconds,
        queue_timeout_seconds: settings.queueTimeoutSeconds,
        ...overrides,
      });
      await tasks.create(t);
      return t;
    },
  };
}

export type World = ReturnType<typeof world>;
