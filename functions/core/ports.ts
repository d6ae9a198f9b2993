/** What the use cases need from the outside world. Adapters in functions/adapters implement these. */
import type { AgentLiveness, AgentRecord } from './agent-model';
import type { CircuitStats, OpenCircuit } from './circuit-breaker';
import type { AgentTaskRequest } from './contract';
import type { AttemptResult } from './retry-policy';
import type { Task, TaskPayload, TaskState, TaskStatus, TaskStatusResponse } from './task-model';
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
  /** Extra conditions: attribute must equal value. */
  when?: Partial<Pick<Task, 'attempts'>>;
  /** Adds `agentId` to failed_agents. */
  appendFailedAgent?: string;
  /** Seconds since epoch when the item may be deleted by TTL (set on terminal tasks). */
  expiresAt?: number;
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

export interface ActiveDispatch {
  agent_id: string;
  attempt: number;
  deadline: string;
}

/** An agent as the cache keys it: its routing keys share its type as a hash tag (one slot on a cluster). */
export interface AgentKey {
  agentId: string;
  type: string;
}

/** One agent the dispatcher may use, with the slots it may hold and its preference tier (lower first). */
export interface EligibleSlot {
  agentId: string;
  capacity: number;
  tier: number;
}

export interface SlotRequest {
  agentType: string;
  /** The priority queue of tasks waiting for the same agents. */
  pool: string;
  taskId: string;
  /** Lower is served first: priority, then age. */
  score: number;
  nowMs: number;
  /** The slot frees itself at this time if nobody releases it (a dispatcher that died). */
  leaseUntilMs: number;
  /** When the task parks now for the first time, its queue timeout ends then (a task already parked keeps its own). */
  queueDeadlineMs: number;
  /** Names this acquisition's slot (with the task id), so releasing it frees this slot and no other. */
  token: string;
  /** In tie-breaking order: equal candidates go to the one listed first. */
  eligible: readonly EligibleSlot[];
}

/** A parked task that was handed a slot and must now be started again (its priority goes with its wake-up message). */
export interface Waiter {
  taskId: string;
  priority: number;
}

/** What a task left parked in the cache: when its queue timeout ends, and the waiters woken meanwhile. */
interface Parked {
  loads: Map<string, number>;
  /** The end of its queue timeout (set when it first parked). */
  deadlineMs: number;
  /** Waiters ahead of it that were handed the free slots this call found: start them. */
  woken: Waiter[];
}

export type SlotAnswer =
  /** The slot is taken for the task, atomically with the load check; `slot` names it for releaseSlot. */
  | { kind: 'acquired'; agentId: string; slot: string; loads: Map<string, number> }
  /** Every eligible agent is at its capacity: the task is parked. */
  | ({ kind: 'busy' } & Parked)
  /** There are free slots, but tasks ahead in the queue (higher priority, or older) get them: the task is parked. */
  | ({ kind: 'behind'; freeSlots: number; position: number } & Parked);

/** An agent with capacity that may have come free, and the queues it serves (see agentPools). */
export interface WakeRequest {
  agent: AgentKey;
  /** Its max_concurrency. */
  capacity: number;
  pools: readonly string[];
  nowMs: number;
}

/** What the cache holds about a task that waits: parked (until its deadline), or woken with a slot reserved until `wokenUntilMs`. */
export interface WaiterState {
  deadlineMs: number;
  wokenUntilMs?: number;
}

/** Waiters the reconciler must start: past their queue timeout, or woken without coming for their slot. */
export interface WaiterSweep {
  overdue: string[];
  lostWakeUps: string[];
}

/**
 * The hot, losable side (ElastiCache / Redis). Every method degrades instead of throwing when the
 * cache is unavailable: reads answer undefined, writes do nothing.
 */
export interface TaskCache {
  getResult(taskId: string): Promise<TaskStatusResponse | undefined>;
  putResult(result: TaskStatusResponse, ttlSeconds: number): Promise<void>;
  putActive(taskId: string, active: ActiveDispatch, ttlSeconds: number): Promise<void>;
  clearActive(taskId: string): Promise<void>;
  /**
   * In one atomic step: takes the slot handed to the task by a wake-up if it has one on an eligible
   * agent; else drops expired slots and, if the task's turn has come, takes a slot on the
   * least-loaded eligible agent (lowest tier, then lowest in-flight/capacity, then most spare slots,
   * then list order). Otherwise the task is parked in its pool's queue (O(log n)), and free slots it
   * found go to the waiters ahead of it. Undefined when the cache is down.
   */
  acquireSlot(req: SlotRequest): Promise<SlotAnswer | undefined>;
  /**
   * Frees the slot `slot` (only that one) and, with `wake`, hands the agent's free slots to the first
   * waiters of its pools (by score across them), reserving each for WAKE_RESERVATION_MS: the waiters
   * to start. Nothing is handed while the agent's circuit is open. Empty when the cache is down.
   */
  releaseSlot(agent: AgentKey, slot: string, wake?: WakeRequest): Promise<Waiter[]>;
  /** Hands the agent's free slots to the first waiters of its pools, as releaseSlot does (a new agent, a heartbeat, a closed circuit). */
  wakeWaiters(wake: WakeRequest): Promise<Waiter[]>;
  /** Tasks in flight per agent (unexpired slots, reservations included); undefined when the cache cannot be read. */
  inFlight(agents: readonly AgentKey[], nowMs: number): Promise<Map<string, number> | undefined>;
  /**
   * The task stops waiting (it finished, was cancelled, or is driven): leaves its queue, and gives
   * back a slot handed to it. Answers the agent of that slot (wake its waiters), if there was one.
   */
  leaveQueue(agentType: string, pool: string, taskId: string): Promise<string | undefined>;
  /** Which of these tasks wait in the cache; undefined when the cache cannot be read. */
  waiterStates(tasks: ReadonlyArray<{ agentType: string; taskId: string }>): Promise<Map<string, WaiterState> | undefined>;
  /**
   * Up to `limit` waiters of each agent type past their queue deadline, and woken waiters whose
   * reservation ended unused (their wake-up was lost; each is answered once per WAKE_RESERVATION_MS).
   */
  sweepWaiters(nowMs: number, limit: number): Promise<WaiterSweep | undefined>;
  /** Counts one dispatch outcome in the agent's window and answers the window's counts with it. */
  recordOutcome(agent: AgentKey, dispatchId: string, failed: boolean, nowMs: number, windowMs: number): Promise<CircuitStats | undefined>;
  /** Opens the agent's breaker, or closes it (`undefined`) and clears its window. */
  setCircuit(agent: AgentKey, open: OpenCircuit | undefined): Promise<void>;
  /** Breaker records of the given agents; counts of the window only when `withCounts`. */
  circuits(
    agents: readonly AgentKey[],
    nowMs: number,
    windowMs: number,
    withCounts: boolean,
  ): Promise<Map<string, CircuitStats> | undefined>;
  putLiveness(agentId: string, live: AgentLiveness, ttlSeconds: number): Promise<void>;
  getLiveness(agentIds: readonly string[]): Promise<Map<string, AgentLiveness> | undefined>;
  /** True at most once per `periodSeconds` per agent (and always when the cache is down). */
  shouldPersistHeartbeat(agentId: string, periodSeconds: number): Promise<boolean>;
  close(): Promise<void>;
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

export interface TaskQueue {
  /**
   * Puts the task on the intake queue. With `firstStart` (submit only) the starter starts that
   * execution without reading the task; without it (re-drives, hand-overs, wake-ups) the starter reads
   * the task and drives an unfinished one on Standard.
   */
  enqueue(taskId: string, priority: number, firstStart?: FirstStart): Promise<void>;
}

export interface WorkflowInput {
  task_id: string;
  /** Per-task limits read by the state machine (TimeoutSecondsPath and friends). */
  state_timeout_seconds: number;
  /** On Express only: when (ms since epoch) the execution must have handed the task to Standard. */
  express_deadline_ms?: number;
}

export type StartOutcome = 'started' | 'already_running' | 'already_closed';

export interface Workflow {
  /** Starts the execution named `name` (the task id, or a derived name for a hand-over). */
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

export interface AgentClient {
  deliver(target: DeliveryTarget, request: AgentTaskRequest, attempt: number, deadlineMs: number): Promise<AttemptResult>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
