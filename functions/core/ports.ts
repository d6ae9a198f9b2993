/** What the use cases need from the outside world. Adapters in functions/adapters implement these. */
import type { AgentLiveness, AgentRecord } from './agent-model';
import type { AgentTaskRequest } from './contract';
import type { AttemptResult } from './retry-policy';
import type { Task, TaskStatus, TaskStatusResponse } from './task-model';
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

export interface TaskStore {
  create(task: Task): Promise<void>;
  get(taskId: string): Promise<Task | undefined>;
  /**
   * Moves the task to `to` if its status allows it (and `when` holds), setting `set` and removing
   * `remove`. Returns the updated task, or undefined when the condition did not hold.
   */
  transition(taskId: string, to: TaskStatus, change: TaskChange): Promise<Task | undefined>;
  list(filter: TaskListFilter): Promise<TaskPage>;
  /** Every task in one of `statuses`, oldest first (used to drive unfinished work again). */
  listByStatus(statuses: readonly TaskStatus[], limit: number): Promise<Task[]>;
}

export interface TaskChange {
  set?: Partial<Omit<Task, 'task_id' | 'status'>>;
  remove?: Array<keyof Task>;
  /** Extra conditions: attribute must equal value. */
  when?: Partial<Pick<Task, 'attempts'>>;
  /** Adds `agentId` to failed_agents. */
  appendFailedAgent?: string;
  /** Seconds since epoch when the item may be deleted by TTL (set on terminal tasks). */
  expiresAt?: number;
}

export interface AgentStore {
  register(agent: Omit<AgentRecord, 'registered_at' | 'signing_secret'>, nowIso: string, newSecret: string): Promise<AgentRecord>;
  get(agentId: string): Promise<AgentRecord | undefined>;
  list(type?: string): Promise<AgentRecord[]>;
  /** Records a heartbeat; undefined when the agent is unknown. */
  heartbeat(agentId: string, nowIso: string, inFlight: number | undefined, metadata: Record<string, unknown> | undefined): Promise<AgentRecord | undefined>;
  markDraining(agentId: string, expiresAt: number): Promise<AgentRecord | undefined>;
}

export interface ActiveDispatch {
  agent_id: string;
  attempt: number;
  deadline: string;
}

/**
 * The hot, losable side (ElastiCache / Redis). Every method degrades instead of throwing when the
 * cache is unavailable: reads answer undefined, gates answer "go ahead".
 */
export interface TaskCache {
  getResult(taskId: string): Promise<TaskStatusResponse | undefined>;
  putResult(result: TaskStatusResponse, ttlSeconds: number): Promise<void>;
  putActive(taskId: string, active: ActiveDispatch, ttlSeconds: number): Promise<void>;
  clearActive(taskId: string): Promise<void>;
  addLease(agentId: string, taskId: string, untilMs: number): Promise<void>;
  removeLease(agentId: string, taskId: string): Promise<void>;
  /** Tasks in flight per agent (unexpired leases); undefined when the cache cannot be read. */
  inFlight(agentIds: readonly string[], nowMs: number): Promise<Map<string, number> | undefined>;
  putLiveness(agentId: string, live: AgentLiveness, ttlSeconds: number): Promise<void>;
  getLiveness(agentIds: readonly string[]): Promise<Map<string, AgentLiveness> | undefined>;
  /** True at most once per `periodSeconds` per agent (and always when the cache is down). */
  shouldPersistHeartbeat(agentId: string, periodSeconds: number): Promise<boolean>;
  /**
   * Priority gate for tasks waiting on the same pool of agents: true when `taskId` is among the
   * first `freeSlots` waiters (higher priority first, then oldest). Waiters not seen for `staleMs` drop out.
   */
  waitTurn(pool: string, taskId: string, score: number, freeSlots: number, nowMs: number, staleMs: number): Promise<boolean>;
  leaveQueue(pool: string, taskId: string): Promise<void>;
  close(): Promise<void>;
}

export interface TaskQueue {
  enqueue(taskId: string, priority: number): Promise<void>;
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
  signingSecret: string;
}

export interface AgentClient {
  deliver(target: DeliveryTarget, request: AgentTaskRequest, attempt: number, deadlineMs: number): Promise<AttemptResult>;
}

export interface Clock {
  now(): number;
}
