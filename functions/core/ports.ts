/**
 * What the use cases need from the outside world. Adapters in functions/adapters implement these;
 * the cache's port is in cache-port.ts.
 */
import type { AgentRecord } from './agent-model';
import type { AgentTaskRequest } from '@optiinfra/contract';
import type { AttemptLogEntry } from './attempt-log';
import type { AttemptResult } from './retry-policy';
import type { Task, TaskPayload, TaskState, TaskStatus } from './task-model';
import type { WorkflowKind } from './workflow-choice';

export interface TaskPage {
  tasks: Task[];
  nextToken?: string;
}

export interface TaskListFilter {
  status?: TaskStatus;
  agentType?: string;
  limit: number;
  nextToken?: string;
}

/**
 * Tasks, stored as two items: the payload (parameters and metadata), written once at submit, and the
 * state, which status changes rewrite; the result is written once, by the terminal write.
 */
export interface TaskStore {
  /** Stores the payload, then the state; `payloadExpiresAt` (seconds since epoch) is when TTL may delete the payload. */
  create(task: Task, payloadExpiresAt?: number): Promise<void>;
  /**
   * The task's state: everything but its payload. A consistent read unless `consistent` is false:
   * then it may answer a state a moment old (half the read units), but never undefined for a task
   * that is stored (a miss is read again, consistently).
   */
  get(taskId: string, options?: { consistent?: boolean }): Promise<TaskState | undefined>;
  /** The task's payload; undefined when it is not stored (or no longer: past its retention). */
  payload(taskId: string): Promise<TaskPayload | undefined>;
  /**
   * Moves the task to `to` if its status allows it (and `when` holds), setting `set` and removing
   * `remove`. Returns the updated state, or undefined when the condition did not hold.
   */
  transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<TaskState | undefined>;
  /** Tasks with their payload, newest first. */
  list(filter: TaskListFilter): Promise<TaskPage>;
  /**
   * Tasks in one of `statuses` (up to `limit` of each, oldest first), created at or before
   * `createdBefore` when given: used to drive unfinished work again. Unfinished statuses share one
   * index: it reads the oldest `limit` x (statuses asked for) of its entries, so a crowd of one status
   * hides another only beyond that.
   */
  listByStatus(statuses: readonly TaskStatus[], options: { limit: number; createdBefore?: string }): Promise<TaskState[]>;
}

export interface TaskChange {
  /** The payload is written once, at submit: no change sets it. */
  set?: Partial<Omit<TaskState, 'task_id' | 'status'>>;
  remove?: Array<keyof TaskState>;
  /** Extra conditions: `attempts` must equal the value; the status must be one of `status` (of those allowed to move to the new one). */
  when?: Partial<Pick<Task, 'attempts'>> & { status?: readonly TaskStatus[] };
  /** Adds `agentId` to failed_agents. */
  appendFailedAgent?: string;
  /** Appends the attempt's entry to attempts_log (the lease write). */
  appendAttempt?: AttemptLogEntry;
  /** Replaces the attempts_log entry at `index` (the write that ends or accepts the attempt). */
  setAttempt?: { index: number; entry: AttemptLogEntry };
  /** Seconds since epoch when the item may be deleted by TTL (set on terminal tasks). */
  expiresAt?: number;
  /** On a terminal write of a task with a callback: lists it as pending in the callbacks index, due then (ms since epoch). */
  callbackDueAt?: number;
}

/** What an agent reported with its heartbeat: each part is kept only when sent. */
export interface HeartbeatReport {
  inFlight?: number;
  metadata?: Record<string, unknown>;
  /**
   * The token hash the agent just proved it holds: sets `token_proven`, only if that is still its
   * token hash (else nothing is written and the answer is undefined, as for an unknown agent).
   */
  proves?: string;
}

/** A type's capability summary: what its agents offer, or `overflow` when that does not fit in one item (then read the agents). */
export type TypeOffers = { capabilities: string[] } | { overflow: true };

export interface AgentStore {
  /**
   * Creates or refreshes the agent (its token hash and signing secret replaced); the first
   * registration time is kept. Conditional: `replaces` is the token hash read before deciding (null:
   * the agent must not exist yet); when the stored agent no longer has it, another registration won
   * the race, nothing is written and the answer is undefined.
   */
  register(agent: Omit<AgentRecord, 'registered_at'>, nowIso: string, replaces: string | null): Promise<AgentRecord | undefined>;
  get(agentId: string): Promise<AgentRecord | undefined>;
  list(type?: string): Promise<AgentRecord[]>;
  /** Records a heartbeat, with what the agent reported; undefined when the agent is unknown. */
  heartbeat(agentId: string, nowIso: string, report: HeartbeatReport): Promise<AgentRecord | undefined>;
  /** Stops new tasks to the agent; with `expiresAt` (seconds since epoch) it is forgotten then, without it stays listed. */
  markDraining(agentId: string, expiresAt: number | undefined): Promise<AgentRecord | undefined>;
  /**
   * The capabilities the agents of `type` offer, from the type's summary (one small item, whatever
   * the number of agents); undefined when no agent of the type is registered. `register` adds to the
   * summary before it writes the agent, so a capability is listed once its registration is answered.
   * It may still list a capability whose last agent left, until `refreshOffers` runs.
   */
  offeredBy(type: string): Promise<TypeOffers | undefined>;
  /**
   * Rebuilds the type's summary from its registered agents that are neither draining nor expired at
   * `nowMs`, `leaving` (the agent just drained or unregistered) never among them. Never drops a
   * capability registered meanwhile: it writes only if no registration of the type changed the
   * summary since it was read. The Dynamo store's index may not show a registration of the last
   * 10 s: within them it drops only what `leaving` offered and no listed agent does, and only when
   * `leaving` was the type's last registration (else it leaves the summary as it is).
   */
  refreshOffers(type: string, nowMs: number, leaving?: AgentRecord): Promise<void>;
}

/** One read of the agents of a type, and whether it came from an earlier read rather than the table. */
export interface AgentListing {
  agents: AgentRecord[];
  cached: boolean;
}

/**
 * An AgentStore that may answer listings by type from a recent read (CachingAgentStore): what the
 * dispatcher routes with. At 10 000 agents reading the registry costs more than the rest of a choice.
 */
export interface CachedAgentStore extends AgentStore {
  /** The agents of `type`, from a recent read unless `fresh` (then from the table, which refreshes the read). */
  listOfType(type: string, fresh: boolean): Promise<AgentListing>;
}

/** What a running invocation can tell about itself: a Lambda `Context` is one. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Runs a submission once per idempotency key (24 h); a repeat answers the first result. */
export interface SubmitIdempotency {
  /** With `context`, a key whose first request outlived its invocation can be taken over by a repeat. */
  run<T extends object>(key: string, payload: unknown, context: InvocationContext | undefined, submit: () => Promise<T>): Promise<T>;
}

/** What the starter needs to start a task's first execution without reading it: decided at submit. */
export interface FirstStart {
  workflow: WorkflowKind;
  timeout_seconds: number;
}

/**
 * A Standard execution near its history budget hands its task to the next generation: the execution
 * named `<task id>.<generation>`, so a redelivered message starts nothing new while that one runs.
 */
export interface Continuation {
  generation: number;
}

export interface TaskQueue {
  /**
   * Puts the task on the intake queue. With a FirstStart (submit only) the starter starts that
   * execution without reading the task; with a Continuation it starts that generation on Standard;
   * without either (re-drives, hand-overs, wake-ups) the starter reads the task and drives an
   * unfinished one. `delaySeconds` (at most MAX_ENQUEUE_DELAY_SECONDS) holds the message back that
   * long: the backoff before retrying an accepted attempt that failed, with no execution waiting.
   */
  enqueue(taskId: string, priority: number, start?: FirstStart | Continuation, delaySeconds?: number): Promise<void>;
  /** Puts the task's callback on the queue: the starter sends it once `delaySeconds` (at most MAX_ENQUEUE_DELAY_SECONDS) have passed. */
  enqueueCallback(taskId: string, delaySeconds?: number): Promise<void>;
}

export interface WorkflowInput {
  task_id: string;
  /** Per-task limits read by the state machine (TimeoutSecondsPath and friends). */
  state_timeout_seconds: number;
  /** On Express only: when (ms since epoch) the execution must have handed the task to Standard. */
  express_deadline_ms?: number;
  /** On Standard: which of the task's successive executions this is, when not the first (Continuation). */
  generation?: number;
}

export type StartOutcome = 'started' | 'already_running' | 'already_closed';

export interface Workflow {
  /**
   * Starts the task's execution, named `name` (the task id). On Standard, generation n (from
   * `input.generation`) is named `<name>.<n>`; a generation that ended hands the start to the next.
   */
  start(kind: WorkflowKind, name: string, input: WorkflowInput): Promise<StartOutcome>;
  /** Best effort: stops a running Standard execution to save its waits after a cancel (Express cannot be stopped). */
  stop(name: string, reason: string): Promise<void>;
}

export interface DeliveryTarget {
  agentId: string;
  host: string;
  port: number;
  /** Absent means "http". */
  scheme?: 'http' | 'https';
  signingSecret: string;
}

/** Where and how an agent is reached: the address it registered, and the secret its deliveries are signed with. */
export function deliveryTargetOf(agent: AgentRecord): DeliveryTarget {
  return {
    agentId: agent.agent_id,
    host: agent.host,
    port: agent.port,
    scheme: agent.scheme ?? 'http',
    signingSecret: agent.signing_secret,
  };
}

/** SQS's longest message delay. */
export const MAX_ENQUEUE_DELAY_SECONDS = 900;

/** How a delivery ended: an outcome, or the agent accepted it (202) and reports later. */
export type DeliveryResult = AttemptResult | { kind: 'accepted' };

export interface AgentClient {
  /** POSTs the attempt and waits for the answer until `deadlineMs` (the sync wait, at most 300 s). */
  deliver(target: DeliveryTarget, request: AgentTaskRequest, attempt: number, deadlineMs: number): Promise<DeliveryResult>;
  /** Tells the agent the attempt was cancelled (signed POST /task/{id}/cancel), within `timeoutMs`; never throws. */
  notifyCancel(target: DeliveryTarget, taskId: string, attempt: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
