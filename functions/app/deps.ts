import type { Activity } from '../core/activity';
import type { BreakerSettings } from '../core/circuit-breaker';
import type { NetworkPolicy } from '../core/network-policy';
import type { WorkflowMode } from '../core/workflow-choice';
import type { AgentClient, AgentStore, Clock, TaskQueue, TaskStore, Workflow } from '../core/ports';
import type { TaskCache } from '../core/cache-port';
import type { CallbackClient, CallbackStore } from '../core/callback-port';
import type { CallbackPolicy } from '../core/task-callback';

/** Knobs the use cases read; parsed once from the environment by functions/composition/config.ts. */
export interface Settings {
  heartbeatIntervalSeconds: number;
  /** At most one Agents-table write per agent per this many seconds; the cache has the rest. */
  heartbeatPersistSeconds: number;
  retryBaseDelaySeconds: number;
  agentPollSeconds: number;
  /** How long a task may wait for a free, healthy agent before it fails (unless it sets its own). */
  queueTimeoutSeconds: number;
  /** How long a dispatcher reuses its read of an agent type's registry (0: read it every time). */
  registryCacheSeconds: number;
  /** The per-agent circuit breaker. */
  breaker: BreakerSettings;
  taskRetentionDays: number;
  resultTtlSeconds: number;
  /** How long an unregistered (draining) agent stays listed. */
  drainSeconds: number;
  networkPolicy: NetworkPolicy;
  /** Tokens that let an agent register (FLEET_TOKENS); none means registration is open. */
  fleetTokens: readonly string[];
  /** Heartbeat, drain and unregister always need the agent's token (REQUIRE_AGENT_TOKENS); else a seed-protocol agent may act without one. */
  requireAgentTokens: boolean;
  agentLimits: AgentLimits;
  workflowMode: WorkflowMode;
  /** History events a Standard execution may reach before it hands its task to a fresh one (WORKFLOW_HISTORY_BUDGET). */
  historyBudget: number;
  /** The API's public base URL (PUBLIC_API_URL), where an agent that accepted a task reports; unset: deliveries name no report URL. */
  publicApiUrl?: string;
  /** How often and how patiently a submitter's callback is tried (CALLBACK_MAX_ATTEMPTS, CALLBACK_RETRY_BASE_SECONDS). */
  callbackPolicy: CallbackPolicy;
}

/** The registry's bounds (MAX_AGENTS_PER_TYPE, MAX_AGENT_CAPABILITIES, MAX_AGENT_METADATA_BYTES). */
export interface AgentLimits {
  /** Live agents (healthy or draining, not forgotten) one type may have. */
  maxPerType: number;
  maxCapabilities: number;
  /** Agent metadata, as JSON, at registration and in heartbeats. */
  maxMetadataBytes: number;
}

/** Counts and timings by agent type, for the dashboard. */
export interface TaskMetrics {
  count(name: string, agentType: string, value?: number): void;
  timing(name: string, ms: number, agentType: string): void;
  /**
   * A level seen now, read as its maximum per minute (the dashboard's statistic): so the deployed
   * metrics publish only what can change that maximum (functions/core/minute-maximum.ts).
   */
  gauge(name: string, value: number, agentType: string): void;
}

export interface Deps {
  tasks: TaskStore;
  agents: AgentStore;
  cache: TaskCache;
  queue: TaskQueue;
  workflow: Workflow;
  agentClient: AgentClient;
  /** The callback fields of the tasks (the task store's table) and the guarded POST that sends callbacks. */
  callbacks: CallbackStore;
  callbackClient: CallbackClient;
  clock: Clock;
  settings: Settings;
  metrics: TaskMetrics;
  /** What a person watching wants to see (the local runtime's feed); nobody listens on AWS. */
  activity: Activity;
  /** DNS resolution of an agent host, all addresses. */
  resolveHost(host: string): Promise<string[]>;
}

export const noMetrics: TaskMetrics = { count: () => undefined, timing: () => undefined, gauge: () => undefined };
