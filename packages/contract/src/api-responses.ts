/**
 * The API's answers as schemas, for what the API sends rather than what it reads: the OpenAPI
 * document is generated from them, the integration tests check every real answer against it, and
 * the answer types (AgentView, TaskStatusResponse...) are inferred from them. The package's main
 * entry exports those types only; the schemas are `@optiinfra/contract/responses`, so no function
 * that imports the contract builds them at cold start.
 */
import * as z from 'zod/mini';
import { AGENT_SCHEMES, AGENT_STATUSES, CIRCUIT_STATES } from './agent-values.js';
import { ATTEMPT_OUTCOMES, TASK_STATUSES } from './task-statuses.js';

const count = () => z.int().check(z.minimum(0));
const time = () => z.iso.datetime();
const jsonObject = () => z.record(z.string(), z.unknown());
const taskStatus = () => z.enum(TASK_STATUSES);
/** A schema with the text the OpenAPI document shows for it (zod's `description` metadata). */
const about = <T extends z.ZodMiniType>(text: string, schema: T): T => schema.check(z.describe(text));

export const circuitViewSchema = about(
  "An agent's passive health from recent dispatches: `open` keeps it out of rotation until `open_until`, then one probe task (`half_open`).",
  z.object({
    state: z.enum(CIRCUIT_STATES),
    recent_dispatches: about('Dispatches to the agent in the window.', count()),
    recent_failures: about('Of those, the ones that failed.', count()),
    window_seconds: count(),
    open_until: z.optional(about('While open: when the agent gets its probe task.', time())),
  }),
);
export type CircuitView = z.output<typeof circuitViewSchema>;

export const agentViewSchema = about(
  'A registered agent, with its load and passive health.',
  z.object({
    id: about('Derived from name, canonical host and port: registering again keeps it.', z.string()),
    name: z.string(),
    type: z.string(),
    host: z.string(),
    port: z.int(),
    scheme: about('How the orchestrator calls the agent: "https" verifies its certificate for `host`.', z.enum(AGENT_SCHEMES)),
    capabilities: about('The task types the agent offers.', z.array(z.string())),
    status: about('`unhealthy`: missed 3 heartbeat intervals; `draining`: gets no new tasks.', z.enum(AGENT_STATUSES)),
    version: z.string(),
    registered_at: time(),
    last_heartbeat: time(),
    in_flight: about('Tasks it holds now.', count()),
    max_concurrency: z.int(),
    metadata: jsonObject(),
    circuit: circuitViewSchema,
  }),
);
export type AgentView = z.output<typeof agentViewSchema>;

export const registerAgentResponseSchema = about(
  'The agent, how often to heartbeat, its credential (shown this once) and the secret that signs deliveries to it.',
  z.extend(agentViewSchema, {
    heartbeat_interval_seconds: z.int(),
    agent_token: about('Send as X-Agent-Token on heartbeat, drain and unregister. Registering again issues a new one.', z.string()),
    signing_secret: about('Checks the signature of every delivery to the agent (Standard Webhooks).', z.string()),
  }),
);
export type RegisterAgentResponse = z.output<typeof registerAgentResponseSchema>;

export const heartbeatResponseSchema = z.object({
  id: z.string(),
  status: z.enum(AGENT_STATUSES),
  last_heartbeat: time(),
  heartbeat_interval_seconds: z.int(),
});
export type HeartbeatResponse = z.output<typeof heartbeatResponseSchema>;

export const agentChangeResponseSchema = about(
  'What happens next, and the agent as it now is (drain and unregister).',
  z.object({ message: z.string(), agent: agentViewSchema }),
);
export type AgentChangeResponse = z.output<typeof agentChangeResponseSchema>;

const nextToken = () =>
  z.optional(about('There while more follow: pass it unchanged, with the same filters, for the next page.', z.string()));

export const agentListResponseSchema = about(
  'A page of agents, sorted by name then id.',
  z.object({ agents: z.array(agentViewSchema), count: about('Agents on this page.', count()), next_token: nextToken() }),
);
export type AgentListResponse = z.output<typeof agentListResponseSchema>;

export const loadSeenSchema = about(
  'One agent as the dispatcher saw it when it chose.',
  z.object({
    agent_id: z.string(),
    name: z.string(),
    in_flight: count(),
    max_concurrency: z.int(),
    status: z.string(),
    circuit: z.string(),
  }),
);
export type LoadSeen = z.output<typeof loadSeenSchema>;

export const routingDecisionSchema = about(
  'Why the last attempt went where it did.',
  z.object({
    attempt: z.int(),
    agent_id: z.string(),
    agent_name: z.string(),
    decided_at: time(),
    reason: about('In words: the rule that picked the agent and what was left out.', z.string()),
    candidates: about("Registered, unexpired agents that offer the task's type and capability.", count()),
    eligible: about('Of those, the ones that could take it at that moment.', count()),
    load_seen: about('The chosen agent first, then the least-loaded others (at most 10), as seen at the choice.', z.array(loadSeenSchema)),
  }),
);
export type RoutingDecision = z.output<typeof routingDecisionSchema>;

export const attemptLogEntrySchema = about(
  'One attempt of a task: where it went and why, when, and how it ended (no `outcome` while it is in flight).',
  z.object({
    attempt: z.int(),
    agent_id: z.string(),
    agent_name: z.string(),
    reason: about('The routing reason, shortened (at most 160 characters).', z.string()),
    started_at: time(),
    accepted_at: z.optional(about('When the agent answered 202 (it then reports later).', time())),
    ended_at: z.optional(time()),
    outcome: z.optional(z.enum(ATTEMPT_OUTCOMES)),
    http_status: z.optional(about("The status of the agent's non-200 answer (outcome `http_error`).", z.int())),
    latency_ms: z.optional(about("From the delivery to the attempt's end.", count())),
    error: z.optional(about('Why the attempt did not complete (at most 300 characters).', z.string())),
  }),
);
export type AttemptLogEntry = z.output<typeof attemptLogEntrySchema>;

const taskStatusFields = {
  task_id: z.string(),
  status: about('`completed`, `failed`, `timeout` and `cancelled` are terminal: a task reaches exactly one.', taskStatus()),
  agent_id: about('The agent of the last attempt, or the requested one before the first; "" when none is known yet.', z.string()),
  task_type: z.string(),
  agent_type: z.string(),
  priority: z.int(),
  result: z.optional(about("The agent's result, once completed.", z.unknown())),
  error: z.optional(about('Why the task failed, timed out or was cancelled.', z.string())),
  created_at: time(),
  started_at: z.optional(time()),
  completed_at: z.optional(about('When the task ended, whatever its status.', time())),
  retry_count: about('`attempts - 1`, never below 0.', count()),
  attempts: about('Attempts started so far.', count()),
  routing: z.optional(routingDecisionSchema),
  progress: about('What the agent last reported with POST /tasks/{id}/progress (0-100); null when it never did.', z.nullable(z.number())),
  progress_message: z.nullable(z.string()),
  last_progress_at: z.nullable(time()),
};

export const taskStatusResponseSchema = about(
  'A task: its status, result, routing decision and attempts.',
  z.object({
    ...taskStatusFields,
    attempts_log: z.optional(
      about('Every attempt so far, oldest first (at most max_retries + 1). Shown by GET /tasks/{id} only.', z.array(attemptLogEntrySchema)),
    ),
  }),
);
export type TaskStatusResponse = z.output<typeof taskStatusResponseSchema>;

export const taskViewSchema = about(
  'A task as listed: the status response (without its attempts_log, to keep pages small) plus what was submitted.',
  z.object({
    ...taskStatusFields,
    parameters: jsonObject(),
    metadata: jsonObject(),
    timeout_seconds: z.int(),
    max_retries: z.int(),
    retry_delay_seconds: z.optional(z.int()),
    queue_timeout_seconds: z.optional(z.int()),
    requested_agent_id: z.optional(about('The agent the submit named, if it named one.', z.string())),
    updated_at: time(),
  }),
);
export type TaskView = z.output<typeof taskViewSchema>;

export const taskListResponseSchema = about(
  'A page of tasks, newest first. A filtered page may hold fewer than `limit` tasks and still carry a `next_token`.',
  z.object({ tasks: z.array(taskViewSchema), count: about('Tasks on this page.', count()), next_token: nextToken() }),
);
export type TaskListResponse = z.output<typeof taskListResponseSchema>;

export const taskSubmitResponseSchema = z.object({
  task_id: z.string(),
  status: taskStatus(),
  agent_id: about('The requested agent, or "": the agent is chosen when the task is dispatched.', z.string()),
  created_at: time(),
  status_url: about('Where to read the task: `/tasks/{task_id}`.', z.string()),
  callback_secret: about(
    'With a `callback_url` only: the Standard Webhooks secret its callback is signed with, shown this once.',
    z.optional(z.string()),
  ),
});
export type TaskSubmitResponse = z.output<typeof taskSubmitResponseSchema>;

export const taskCancelResponseSchema = z.object({ message: z.string(), task_id: z.string(), status: z.literal('cancelled') });
export type TaskCancelResponse = z.output<typeof taskCancelResponseSchema>;

export const taskReportResponseSchema = about(
  "The task's status once the agent's report was applied.",
  z.object({ task_id: z.string(), status: taskStatus() }),
);
export type TaskReportResponse = z.output<typeof taskReportResponseSchema>;

export const taskProgressResponseSchema = z.object({
  task_id: z.string(),
  status: z.literal('running'),
  heartbeat_deadline: about('The agent loses the attempt unless it reports progress again before this.', time()),
});
export type TaskProgressResponse = z.output<typeof taskProgressResponseSchema>;

export const healthResponseSchema = z.object({
  status: z.literal('healthy'),
  service: z.string(),
  timestamp: time(),
  heartbeat_interval_seconds: about('How often agents heartbeat.', z.int()),
});
export type HealthResponse = z.output<typeof healthResponseSchema>;

export const errorResponseSchema = about(
  'Every error: what to fix, in one sentence, and a machine code.',
  z.object({
    error: z.string(),
    code: about('Stable, for programs: for example `validation_error`, `task_not_found`, `no_capable_agent`.', z.string()),
    details: z.optional(
      about('With `validation_error`: each field that broke its rule.', z.array(z.object({ field: z.string(), message: z.string() }))),
    ),
  }),
);
export type ErrorResponse = z.output<typeof errorResponseSchema>;
