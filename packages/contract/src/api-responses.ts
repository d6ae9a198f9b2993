/**
 * The API's answers as schemas, for what the API sends rather than what it reads: the OpenAPI
 * document is generated from them, the integration tests check every real answer against it, and
 * the answer types (AgentView, TaskStatusResponse...) are inferred from them. The package's main
 * entry exports those types only; the schemas are `@optiinfra/contract/responses`, so no function
 * that imports the contract builds them at cold start.
 */
import * as z from 'zod/mini';
import { AGENT_SCHEMES, AGENT_STATUSES, CIRCUIT_STATES } from './agent-values.js';
import { TASK_STATUSES } from './task-statuses.js';

const count = () => z.int().check(z.minimum(0));
const time = () => z.iso.datetime();
const jsonObject = () => z.record(z.string(), z.unknown());
const taskStatus = () => z.enum(TASK_STATUSES);

/** An agent's passive health from recent dispatches: `open` keeps it out of rotation until `open_until`. */
export const circuitViewSchema = z.object({
  state: z.enum(CIRCUIT_STATES),
  recent_dispatches: count(),
  recent_failures: count(),
  window_seconds: count(),
  open_until: z.optional(time()),
});
export type CircuitView = z.output<typeof circuitViewSchema>;

/** The agent JSON of DESIGN.md §3. */
export const agentViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  host: z.string(),
  port: z.int(),
  /** "https" when deliveries go over TLS. */
  scheme: z.enum(AGENT_SCHEMES),
  capabilities: z.array(z.string()),
  status: z.enum(AGENT_STATUSES),
  version: z.string(),
  registered_at: time(),
  last_heartbeat: time(),
  in_flight: count(),
  max_concurrency: z.int(),
  metadata: jsonObject(),
  circuit: circuitViewSchema,
});
export type AgentView = z.output<typeof agentViewSchema>;

/** Registration answer: the agent, how often to heartbeat, its credential (shown this once) and the secret that signs deliveries to it. */
export const registerAgentResponseSchema = z.extend(agentViewSchema, {
  heartbeat_interval_seconds: z.int(),
  /** Send as X-Agent-Token on heartbeat, drain and unregister. Registering again issues a new one. */
  agent_token: z.string(),
  signing_secret: z.string(),
});
export type RegisterAgentResponse = z.output<typeof registerAgentResponseSchema>;

export const heartbeatResponseSchema = z.object({
  id: z.string(),
  status: z.enum(AGENT_STATUSES),
  last_heartbeat: time(),
  heartbeat_interval_seconds: z.int(),
});
export type HeartbeatResponse = z.output<typeof heartbeatResponseSchema>;

/** The answer of drain and unregister: what happens next, and the agent as it now is. */
export const agentChangeResponseSchema = z.object({ message: z.string(), agent: agentViewSchema });
export type AgentChangeResponse = z.output<typeof agentChangeResponseSchema>;

/** A page of GET /agents; `next_token` is there while more follow. */
export const agentListResponseSchema = z.object({
  agents: z.array(agentViewSchema),
  count: count(),
  next_token: z.optional(z.string()),
});
export type AgentListResponse = z.output<typeof agentListResponseSchema>;

/** One agent as the dispatcher saw it when it chose. */
export const loadSeenSchema = z.object({
  agent_id: z.string(),
  name: z.string(),
  in_flight: count(),
  max_concurrency: z.int(),
  status: z.string(),
  circuit: z.string(),
});
export type LoadSeen = z.output<typeof loadSeenSchema>;

/** The record of a routing choice, shown in the task's status response. */
export const routingDecisionSchema = z.object({
  attempt: z.int(),
  agent_id: z.string(),
  agent_name: z.string(),
  decided_at: time(),
  /** In words: the rule that picked the agent and what was left out. */
  reason: z.string(),
  /** Registered, unexpired agents that offer the task's type and capability. */
  candidates: count(),
  /** Of those, the ones that could take it at that moment. */
  eligible: count(),
  /** The chosen agent and the least-loaded others (at most 10), as seen at the choice. */
  load_seen: z.array(loadSeenSchema),
});
export type RoutingDecision = z.output<typeof routingDecisionSchema>;

/** The seed's TaskStatusResponse, plus `attempts`, `task_type`, `agent_type`, `priority` and what the agent reported. */
export const taskStatusResponseSchema = z.object({
  task_id: z.string(),
  status: taskStatus(),
  /** The agent of the last attempt, or the requested one before the first; "" when none is known yet. */
  agent_id: z.string(),
  task_type: z.string(),
  agent_type: z.string(),
  priority: z.int(),
  result: z.optional(z.unknown()),
  error: z.optional(z.string()),
  created_at: time(),
  started_at: z.optional(time()),
  completed_at: z.optional(time()),
  retry_count: count(),
  attempts: count(),
  routing: z.optional(routingDecisionSchema),
  /** What the agent last reported with POST /tasks/{id}/progress; null when it never did. */
  progress: z.nullable(z.number()),
  progress_message: z.nullable(z.string()),
  last_progress_at: z.nullable(time()),
});
export type TaskStatusResponse = z.output<typeof taskStatusResponseSchema>;

/** A task as listed by GET /tasks: the status response plus what was submitted. */
export const taskViewSchema = z.extend(taskStatusResponseSchema, {
  parameters: jsonObject(),
  metadata: jsonObject(),
  timeout_seconds: z.int(),
  max_retries: z.int(),
  retry_delay_seconds: z.optional(z.int()),
  queue_timeout_seconds: z.optional(z.int()),
  requested_agent_id: z.optional(z.string()),
  updated_at: time(),
});
export type TaskView = z.output<typeof taskViewSchema>;

/** A page of GET /tasks, newest first; `next_token` is there while more follow. */
export const taskListResponseSchema = z.object({
  tasks: z.array(taskViewSchema),
  count: count(),
  next_token: z.optional(z.string()),
});
export type TaskListResponse = z.output<typeof taskListResponseSchema>;

export const taskSubmitResponseSchema = z.object({
  task_id: z.string(),
  status: taskStatus(),
  /** The requested agent, or "": the agent is chosen when the task is dispatched. */
  agent_id: z.string(),
  created_at: time(),
  /** Where to read the task: `/tasks/{task_id}`. */
  status_url: z.string(),
  /** With a `callback_url` only: the Standard Webhooks secret its callback is signed with, shown this once. */
  callback_secret: z.optional(z.string()),
});
export type TaskSubmitResponse = z.output<typeof taskSubmitResponseSchema>;

export const taskCancelResponseSchema = z.object({ message: z.string(), task_id: z.string(), status: z.literal('cancelled') });
export type TaskCancelResponse = z.output<typeof taskCancelResponseSchema>;

/** The answer to an agent's report: the task's status once the report was applied. */
export const taskReportResponseSchema = z.object({ task_id: z.string(), status: taskStatus() });
export type TaskReportResponse = z.output<typeof taskReportResponseSchema>;

export const taskProgressResponseSchema = z.object({
  task_id: z.string(),
  status: z.literal('running'),
  /** The agent loses the attempt unless it reports progress again before this. */
  heartbeat_deadline: time(),
});
export type TaskProgressResponse = z.output<typeof taskProgressResponseSchema>;

export const healthResponseSchema = z.object({
  status: z.literal('healthy'),
  service: z.string(),
  timestamp: time(),
  heartbeat_interval_seconds: z.int(),
});
export type HealthResponse = z.output<typeof healthResponseSchema>;

/** Every error: what to fix, in one sentence, and a machine code; validation errors name each field. */
export const errorResponseSchema = z.object({
  error: z.string(),
  code: z.string(),
  details: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))),
});
export type ErrorResponse = z.output<typeof errorResponseSchema>;
