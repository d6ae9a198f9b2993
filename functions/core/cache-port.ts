/**
 * The cache port: what the use cases need from the hot, losable side (ElastiCache / Redis), apart
 * from the durable stores of ports.ts. Slots and loads per agent, the queues of parked tasks and
 * their wake-ups, circuit breakers, liveness, the results of finished tasks and the notices of their end.
 */
import type { AgentLiveness } from './agent-model';
import type { CircuitStats, OpenCircuit } from './circuit-breaker';
import type { FinishNotices } from './finish-notices';
import type { TaskStatusResponse } from './task-model';

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
  /** The tasks of its type parked now, this one included: read by the same write (the waiting-tasks gauge). */
  waiting: number;
}

export type SlotAnswer =
  /** The slot is taken for the task, atomically with the load check; `slot` names it for releaseSlot. */
  | {
      kind: 'acquired';
      agentId: string;
      slot: string;
      loads: Map<string, number>;
      /** Set when the task had been parked: the tasks of its type still parked once it left. */
      waiting?: number;
    }
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

/** An accepted attempt whose deadline the cache keeps (see trackAttempt). */
export interface TrackedAttempt {
  agentType: string;
  taskId: string;
  attempt: number;
}

/** The sorted-set member ("task id:attempt") an accepted attempt is kept under, in the cache's sweep. */
export function trackedMember(attempt: Pick<TrackedAttempt, 'taskId' | 'attempt'>): string {
  return `${attempt.taskId}:${attempt.attempt}`;
}

/** A sorted-set member (trackedMember) back as the attempt it names. */
export function trackedFromMember(agentType: string, member: string): TrackedAttempt {
  const at = member.lastIndexOf(':');
  return { agentType, taskId: member.slice(0, at), attempt: Number(member.slice(at + 1)) };
}

/**
 * The hot, losable side (ElastiCache / Redis). Every method degrades instead of throwing when the
 * cache is unavailable: reads answer undefined, writes do nothing. It also carries the notices of
 * finished tasks that wake waiting reads (finish-notices.ts).
 */
export interface TaskCache extends FinishNotices {
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
  /**
   * An agent accepted the attempt (202) or reported progress: its slot `slot` now ends at
   * `slotUntilMs` (only if it is still held: a released slot is not taken again), and the attempt is
   * due at `dueMs` (the earlier of its heartbeat deadline and its overall deadline) in its type's
   * sorted set of running attempts, which the reconciler sweeps. O(log n). False when the cache did
   * not take it (down): the caller must then keep the deadline in the table.
   */
  trackAttempt(agent: AgentKey, slot: string, attempt: TrackedAttempt, dueMs: number, slotUntilMs: number): Promise<boolean>;
  /** The attempt ended (reported, cancelled, timed out): it leaves the sorted set. */
  untrackAttempt(attempt: TrackedAttempt): Promise<void>;
  /** Up to `limit` attempts of each agent type due at or before `nowMs` (O(log n + k)); undefined when the cache is down. */
  sweepAttempts(nowMs: number, limit: number): Promise<TrackedAttempt[] | undefined>;
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
