/**
 * What the OpenAPI document says of each route of the route table: its request, its success answer
 * (by the name of its schema in ANSWERS, checked by the compiler) and the errors particular to it.
 * The errors every route can answer are added by openapi.ts. Keyed by route key, so a route added
 * to API_ROUTES without an entry here fails the spec's build.
 */
import type * as z from 'zod/mini';
import {
  agentProgressSchema,
  agentReportSchema,
  drainRequestSchema,
  getTaskQuerySchema,
  heartbeatRequestSchema,
  IDEMPOTENCY_KEY_RULE,
  listAgentsQuerySchema,
  listTasksQuerySchema,
  registerAgentRequestSchema,
  taskSubmitRequestSchema,
} from '@optiinfra/contract';
import * as answers from '@optiinfra/contract/responses';

/** The answer schemas, by the name they have in components.schemas. */
export const ANSWERS = {
  HealthResponse: answers.healthResponseSchema,
  ErrorResponse: answers.errorResponseSchema,
  CircuitView: answers.circuitViewSchema,
  AgentView: answers.agentViewSchema,
  RegisterAgentResponse: answers.registerAgentResponseSchema,
  HeartbeatResponse: answers.heartbeatResponseSchema,
  AgentChangeResponse: answers.agentChangeResponseSchema,
  AgentListResponse: answers.agentListResponseSchema,
  LoadSeen: answers.loadSeenSchema,
  RoutingDecision: answers.routingDecisionSchema,
  TaskStatusResponse: answers.taskStatusResponseSchema,
  TaskView: answers.taskViewSchema,
  TaskListResponse: answers.taskListResponseSchema,
  TaskSubmitResponse: answers.taskSubmitResponseSchema,
  TaskCancelResponse: answers.taskCancelResponseSchema,
  TaskReportResponse: answers.taskReportResponseSchema,
  TaskProgressResponse: answers.taskProgressResponseSchema,
} as const satisfies Record<string, z.ZodMiniType>;
export type AnswerName = keyof typeof ANSWERS;

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 503;

export interface HeaderParam {
  name: string;
  description: string;
  required?: boolean;
  pattern?: string;
}

export interface OperationDoc {
  operationId: string;
  tag: 'health' | 'agents' | 'tasks';
  summary: string;
  description?: string;
  /** A request schema, named in components.schemas; described as the API reads it (defaults optional). */
  body?: { name: string; schema: z.ZodMiniType; required: boolean };
  /** Query parameters: the properties of this schema, described as parsed (limit is an integer). */
  query?: z.ZodMiniObject;
  headers?: HeaderParam[];
  /** The success status and the name of its answer schema in components.schemas. */
  success: { status: 200 | 201; schema: AnswerName; description: string };
  /** Errors particular to this route, and when. */
  errors: Partial<Record<ErrorStatus, string>>;
}

const AGENT_TOKEN: HeaderParam = {
  name: 'X-Agent-Token',
  description:
    "The agent's own token from its registration. Optional for an agent that has never sent it, unless the orchestrator sets REQUIRE_AGENT_TOKENS.",
};
const AGENT_TOKEN_REQUIRED: HeaderParam = { ...AGENT_TOKEN, description: "The agent's own token from its registration.", required: true };
const AGENT_ERRORS = {
  401: 'No X-Agent-Token where one is needed (or no valid bearer token).',
  403: "Another agent's token (`agent_token_mismatch`).",
  404: 'No such agent (`agent_not_found`): register again.',
} as const;
const ATTEMPT_ERRORS = {
  401: 'No X-Agent-Token (or no valid bearer token).',
  403: 'Not the agent holding the current attempt (`not_your_attempt`).',
  404: 'No such task (`task_not_found`).',
  409: 'That attempt is over (`attempt_ended`); nothing changed.',
} as const;

export const OPERATIONS: Record<string, OperationDoc> = {
  'GET /health': {
    operationId: 'getHealth',
    tag: 'health',
    summary: 'Liveness of the API',
    description: 'The only route that needs no authentication. No dependency is called.',
    success: { status: 200, schema: 'HealthResponse', description: 'The API is up.' },
    errors: {},
  },
  'POST /agents/register': {
    operationId: 'registerAgent',
    tag: 'agents',
    summary: 'Register an agent, or register it again',
    description:
      "The id is derived from name, canonical host and port, so registering again keeps it. The answer's `agent_token` and `signing_secret` are shown this once.",
    body: { name: 'RegisterAgentRequest', schema: registerAgentRequestSchema, required: true },
    headers: [
      { name: 'X-Fleet-Token', description: 'Needed when the orchestrator has FLEET_TOKENS (always on AWS).' },
      { name: 'X-Agent-Token', description: "The agent's current token: needed to register a live agent again." },
    ],
    success: { status: 201, schema: 'RegisterAgentResponse', description: 'Registered; heartbeat every `heartbeat_interval_seconds`.' },
    errors: {
      401: 'No X-Fleet-Token, or an unknown one (or no valid bearer token).',
      403: "Another agent's X-Agent-Token.",
      409: 'A live agent has this name, host and port (`agent_id_in_use`), or its type has MAX_AGENTS_PER_TYPE live agents (`too_many_agents`).',
    },
  },
  'POST /agents/{id}/heartbeat': {
    operationId: 'heartbeatAgent',
    tag: 'agents',
    summary: 'Keep an agent live and report its load',
    body: { name: 'HeartbeatRequest', schema: heartbeatRequestSchema, required: false },
    headers: [AGENT_TOKEN],
    success: { status: 200, schema: 'HeartbeatResponse', description: 'Heartbeat recorded.' },
    errors: AGENT_ERRORS,
  },
  'POST /agents/{id}/drain': {
    operationId: 'drainAgent',
    tag: 'agents',
    summary: 'Take an agent out of rotation; the tasks it holds finish',
    body: { name: 'DrainRequest', schema: drainRequestSchema, required: false },
    headers: [AGENT_TOKEN],
    success: { status: 200, schema: 'AgentChangeResponse', description: 'The agent is `draining`; registering again brings it back.' },
    errors: AGENT_ERRORS,
  },
  'DELETE /agents/{id}': {
    operationId: 'unregisterAgent',
    tag: 'agents',
    summary: 'Unregister an agent',
    headers: [AGENT_TOKEN],
    success: { status: 200, schema: 'AgentChangeResponse', description: 'The agent is `draining`, and forgotten after DRAIN_SECONDS.' },
    errors: AGENT_ERRORS,
  },
  'GET /agents': {
    operationId: 'listAgents',
    tag: 'agents',
    summary: 'List agents, sorted by name then id, a page at a time',
    query: listAgentsQuerySchema,
    success: { status: 200, schema: 'AgentListResponse', description: 'One page; `next_token` is there while more follow.' },
    errors: {},
  },
  'GET /agents/{id}': {
    operationId: 'getAgent',
    tag: 'agents',
    summary: 'One agent, with its load and circuit',
    success: { status: 200, schema: 'AgentView', description: 'The agent.' },
    errors: { 404: 'No such agent (`agent_not_found`).' },
  },
  'POST /tasks': {
    operationId: 'submitTask',
    tag: 'tasks',
    summary: 'Submit a task',
    description: 'Unknown fields are refused (400). The agent is chosen when the task is dispatched; read the task at `status_url`.',
    body: { name: 'TaskSubmitRequest', schema: taskSubmitRequestSchema, required: true },
    headers: [
      {
        name: 'Idempotency-Key',
        description: `Makes a retried submit safe for 24 h: the same key and body answer the first 201 again. ${IDEMPOTENCY_KEY_RULE}.`,
        pattern: '^[\\x21-\\x7e]{1,255}$',
      },
    ],
    success: { status: 201, schema: 'TaskSubmitResponse', description: 'Accepted: the task will reach exactly one terminal status.' },
    errors: {
      404: 'The `agent_id` is not a registered agent.',
      409: 'A repeat of an Idempotency-Key still being handled (`idempotency_key_in_progress`): retry it.',
      422: 'The Idempotency-Key was used with another body (`idempotency_key_reused`).',
      503: 'No registered agent can ever serve the task (`no_capable_agent`), or a dependency is briefly unavailable (`dependency_error`).',
    },
  },
  'GET /tasks': {
    operationId: 'listTasks',
    tag: 'tasks',
    summary: 'List tasks, newest first, a page at a time',
    description: 'A filtered page may hold fewer than `limit` tasks and still carry a `next_token`.',
    query: listTasksQuerySchema,
    success: { status: 200, schema: 'TaskListResponse', description: 'One page; `next_token` is there while more follow.' },
    errors: {},
  },
  'GET /tasks/{id}': {
    operationId: 'getTask',
    tag: 'tasks',
    summary: 'One task: its status, result and routing decision',
    description:
      'With `wait=N` (0-20 seconds) the answer waits until the task is terminal, or answers the task as it is after N seconds: 200 either way.',
    query: getTaskQuerySchema,
    success: { status: 200, schema: 'TaskStatusResponse', description: 'The task (with `wait`: terminal, or as it is at N seconds).' },
    errors: { 404: 'No such task (`task_not_found`), or it passed its retention period.' },
  },
  'DELETE /tasks/{id}': {
    operationId: 'cancelTask',
    tag: 'tasks',
    summary: 'Cancel an unfinished task',
    success: { status: 200, schema: 'TaskCancelResponse', description: 'Cancelled.' },
    errors: {
      404: 'No such task (`task_not_found`).',
      409: 'The task already finished (`task_already_finished`).',
    },
  },
  'POST /tasks/{id}/result': {
    operationId: 'reportTaskResult',
    tag: 'tasks',
    summary: 'An agent reports the outcome of a task it accepted (202)',
    body: { name: 'AgentReport', schema: agentReportSchema, required: true },
    headers: [AGENT_TOKEN_REQUIRED],
    success: { status: 200, schema: 'TaskReportResponse', description: 'Applied (or a repeat of the report that was).' },
    errors: ATTEMPT_ERRORS,
  },
  'POST /tasks/{id}/progress': {
    operationId: 'reportTaskProgress',
    tag: 'tasks',
    summary: 'An agent reports progress on a task it accepted, and keeps its attempt',
    body: { name: 'AgentProgress', schema: agentProgressSchema, required: false },
    headers: [AGENT_TOKEN_REQUIRED],
    success: { status: 200, schema: 'TaskProgressResponse', description: 'Recorded; report again before `heartbeat_deadline`.' },
    errors: ATTEMPT_ERRORS,
  },
};
