/**
 * The wire contract: one module of schemas that the API handlers, the dispatcher and the agent SDK
 * all import. Field names and shapes are the seed's (FOUNDATION-0.7); error texts say what to send.
 * On zod/mini: the classic API builds dozens of methods into every schema, which the functions paid
 * for at each cold start (`npm run bench:cold`). zod's English messages come with agent-protocol.ts.
 */
import { isIPv6 } from 'node:net';
import * as z from 'zod/mini';
import { AGENT_SCHEMES, AGENT_STATUSES } from './agent-values.js';
import { ValidationError } from './errors.js';
import { JSON_LIMITS, jsonLimitProblem, unstorablePlace } from './json-limits.js';
import { MAX_PRIORITY, MIN_PRIORITY, TASK_DEFAULTS, TASK_STATUSES } from './task-statuses.js';
import { UUID_RE } from './uuid.js';

export * from './agent-protocol.js';
export * from './agent-reports.js';
export * from './agent-values.js';
// The answers' types only: their schemas are @optiinfra/contract/responses, which nothing on a hot path loads.
export type {
  AgentChangeResponse,
  AgentListResponse,
  AgentView,
  AttemptLogEntry,
  CircuitView,
  ErrorResponse,
  HealthResponse,
  HeartbeatResponse,
  LoadSeen,
  RegisterAgentResponse,
  RoutingDecision,
  TaskCancelResponse,
  TaskListResponse,
  TaskProgressResponse,
  TaskReportResponse,
  TaskStatusResponse,
  TaskSubmitResponse,
  TaskView,
} from './api-responses.js';
export * from './errors.js';
export * from './json-limits.js';
export * from './metric-names.js';
export * from './task-statuses.js';
export * from './uuid.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const NAME_RULE = '1-64 letters, digits, "_", ".", ":" or "-", starting with a letter or digit';
// A trailing dot (a fully qualified name) is allowed; the registry drops it (canonicalHost).
const HOSTNAME_RE =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') return `"${input.length > 40 ? `${input.slice(0, 40)}...` : input}"`;
  if (typeof input === 'object') return 'an object';
  return `${typeof input} ${JSON.stringify(input) ?? ''}`;
}

/** One message for every way a field can be wrong: "is required" when absent, else the rule and what came. */
function rule(what: string) {
  return (iss: { input?: unknown }) => (iss.input === undefined ? `is required: ${what}` : `must be ${what} (got ${describe(iss.input)})`);
}

const name = (what: string) =>
  z.string({ error: rule(`${what}: ${NAME_RULE}`) }).check(z.regex(NAME_RE, { error: rule(`${what}: ${NAME_RULE}`) }));

export const uuidString = (what: string) =>
  z
    .string({ error: rule(`${what} (a UUID such as 0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f)`) })
    .check(z.regex(UUID_RE, { error: rule(`${what} (a UUID such as 0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f)`) }));

/**
 * A free-form JSON object within the limits, holding only what the task store can keep. Checked
 * before zod's record rebuilds the object, which would silently drop a top-level `__proto__` key.
 */
const jsonObject = (what: string, maxBytes: number) =>
  z.pipe(
    z.unknown().check(
      z.superRefine((value, ctx) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return; // the record says what to send
        const problem = jsonLimitProblem(value, JSON_LIMITS.maxDepth, maxBytes);
        if (problem) return ctx.addIssue({ code: 'custom', message: problem, input: value });
        const place = unstorablePlace(value);
        if (place) ctx.addIssue({ code: 'custom', path: place.path, message: place.problem, input: value });
      }),
    ),
    z.record(z.string(), z.unknown(), { error: rule(`a JSON object of ${what}`) }),
  );

const intIn = (min: number, max: number, extra = '') => {
  const text = `an integer from ${min} to ${max}${extra}`;
  return z.int({ error: rule(text) }).check(z.minimum(min, { error: rule(text) }), z.maximum(max, { error: rule(text) }));
};

/** The longest callback URL accepted (the task's state item carries it). */
export const MAX_CALLBACK_URL_CHARS = 2048;
export const CALLBACK_URL_RULE = `an http:// or https:// URL of at most ${MAX_CALLBACK_URL_CHARS} characters, without user or password, such as "https://hooks.example.com/optiinfra"`;

/** What is wrong with a callback URL, in words; undefined when it is acceptable. Its host is checked against the network policy at submit. */
export function callbackUrlProblem(text: string): string | undefined {
  if (text.length > MAX_CALLBACK_URL_CHARS) return `is ${text.length} characters long`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `has the scheme "${url.protocol.slice(0, -1)}"`;
  if (url.username || url.password) return 'carries a user or password (verify the signature instead)';
  return undefined;
}

export const PRIORITY_RULE = `an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY} (1 low, 5 normal, 10 high, 15 critical)`;

/** TaskSubmitRequest (seed). `timeout_seconds: 0` means the default, as in the seed; `max_retries: 0` means no retry. */
export const taskSubmitRequestSchema = z.strictObject({
  task_type: name('a task type such as "analyze_cost"'),
  agent_type: name('an agent type such as "cost"'),
  agent_id: z.optional(uuidString('the id of a registered agent')),
  parameters: z._default(jsonObject('task parameters', JSON_LIMITS.parametersBytes), {}),
  priority: z._default(
    z
      .int({ error: rule(PRIORITY_RULE) })
      .check(z.minimum(MIN_PRIORITY, { error: rule(PRIORITY_RULE) }), z.maximum(MAX_PRIORITY, { error: rule(PRIORITY_RULE) })),
    TASK_DEFAULTS.priority,
  ),
  timeout_seconds: z.pipe(
    z._default(
      intIn(
        0,
        TASK_DEFAULTS.maxTimeoutSeconds,
        ` seconds per attempt; 0 or absent means ${TASK_DEFAULTS.timeoutSeconds}; beyond ${TASK_DEFAULTS.maxSyncWaitSeconds} only an agent that accepts with 202 can use it`,
      ),
      0,
    ),
    z.transform((v) => (v === 0 ? TASK_DEFAULTS.timeoutSeconds : v)),
  ),
  max_retries: z._default(intIn(0, TASK_DEFAULTS.maxMaxRetries, '; 0 means one attempt and no retry'), TASK_DEFAULTS.maxRetries),
  /** Base of the retry backoff; absent means the orchestrator's default (5 s). */
  retry_delay_seconds: z.optional(
    intIn(
      0,
      TASK_DEFAULTS.maxRetryDelaySeconds,
      ' seconds before the first retry (later retries wait up to twice as long each time, jittered)',
    ),
  ),
  /** Longest wait for a free agent; absent or 0 means the orchestrator's default (300 s). */
  queue_timeout_seconds: z.optional(
    intIn(0, TASK_DEFAULTS.maxQueueTimeoutSeconds, ' seconds to wait for a free agent; 0 or absent means the default'),
  ),
  metadata: z._default(jsonObject('metadata', JSON_LIMITS.metadataBytes), {}),
  /** Where the finished task is POSTed, once, signed with the `callback_secret` of the submit answer (docs/api.md). */
  callback_url: z.optional(
    z.string({ error: rule(CALLBACK_URL_RULE) }).check(
      z.superRefine((value, ctx) => {
        const problem = callbackUrlProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: `must be ${CALLBACK_URL_RULE}; it ${problem}`, input: value });
      }),
    ),
  ),
  /** How long an agent that accepted the task (202) may go without reporting progress; absent means 60 s. */
  heartbeat_timeout_seconds: z.optional(
    intIn(
      TASK_DEFAULTS.minHeartbeatTimeoutSeconds,
      TASK_DEFAULTS.maxHeartbeatTimeoutSeconds,
      ` seconds an agent that accepted the task may go without reporting progress; absent means ${TASK_DEFAULTS.heartbeatTimeoutSeconds}`,
    ),
  ),
});
export type TaskSubmitRequest = z.infer<typeof taskSubmitRequestSchema>;
/** What a submitter sends: the same fields, those with a default optional. */
export type TaskSubmitInput = z.input<typeof taskSubmitRequestSchema>;

export const IDEMPOTENCY_KEY_RULE = '1-255 visible ASCII characters, such as a UUID';

/** The `Idempotency-Key` header of POST /tasks, if sent; a malformed one is a 400. */
export function idempotencyKeyOf(headers: Record<string, string>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    const shown = key.length > 40 ? `${key.slice(0, 40)}...` : key;
    throw new ValidationError(`invalid Idempotency-Key header: it must be ${IDEMPOTENCY_KEY_RULE} (got "${shown}")`, [
      { field: 'Idempotency-Key', message: `must be ${IDEMPOTENCY_KEY_RULE}` },
    ]);
  }
  return key;
}

const statusList = TASK_STATUSES.join(', ');
const pageLimit = () =>
  z.optional(
    z.pipe(
      z.pipe(
        z.string({ error: rule('an integer from 1 to 100') }).check(z.regex(/^\d{1,3}$/, { error: rule('an integer from 1 to 100') })),
        z.transform(Number),
      ),
      intIn(1, 100),
    ),
  );
const pageToken = () =>
  z.optional(
    z
      .string({ error: rule('the next_token returned by the previous page') })
      .check(z.regex(/^[A-Za-z0-9_-]{1,2048}$/, { error: rule('the next_token returned by the previous page, unchanged') })),
  );

export const listTasksQuerySchema = z.strictObject({
  status: z.optional(z.enum(TASK_STATUSES, { error: rule(`one of ${statusList}`) })),
  agent_type: z.optional(name('an agent type')),
  limit: pageLimit(),
  next_token: pageToken(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

/** The longest `GET /tasks/{id}?wait=N`, in seconds: the answer must leave before API Gateway's 30 s integration limit. */
export const MAX_WAIT_SECONDS = 20;
const WAIT_RULE = `a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}, given once, such as ?wait=${MAX_WAIT_SECONDS}`;
/** `GET /tasks/{id}`: `wait` holds the answer until the task is terminal, at most that many seconds. */
export const getTaskQuerySchema = z.strictObject({
  wait: z.optional(
    z.pipe(
      z.pipe(z.string({ error: rule(WAIT_RULE) }).check(z.regex(/^\d{1,2}$/, { error: rule(WAIT_RULE) })), z.transform(Number)),
      // The pattern lets only whole numbers from 0 through; the integer and its bounds say so to the OpenAPI document.
      z
        .int({ error: rule(WAIT_RULE) })
        .check(z.minimum(0, { error: rule(WAIT_RULE) }), z.maximum(MAX_WAIT_SECONDS, { error: rule(WAIT_RULE) })),
    ),
  ),
});
export type GetTaskQuery = z.infer<typeof getTaskQuerySchema>;

function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isValidHost(host: string): boolean {
  return HOSTNAME_RE.test(host) || isIPv6(bareHost(host));
}
const HOST_RULE = 'a host name or IP address without scheme, port or path, such as "10.0.1.12" or "cost-agent-1.internal"';

export const registerAgentRequestSchema = z.strictObject({
  name: name('an agent name such as "cost-agent-1"'),
  type: name('an agent type such as "cost"'),
  // IPv6 is stored without brackets, so "[::1]" and "::1" are the same agent.
  host: z.pipe(
    z.string({ error: rule(HOST_RULE) }).check(z.refine(isValidHost, { error: rule(HOST_RULE) })),
    z.transform((h) => bareHost(h).toLowerCase()),
  ),
  port: intIn(1, 65535),
  /** How the orchestrator calls the agent: "https" verifies its certificate for `host`. Absent means "http" (the seed's). */
  scheme: z.optional(z.enum(AGENT_SCHEMES, { error: rule('"http" or "https" (absent means "http")') })),
  capabilities: z
    .array(name('a capability (task type) such as "analyze_cost"'), {
      error: rule('a non-empty array of task types, such as ["analyze_cost"]'),
    })
    .check(
      z.minLength(1, { error: rule('a non-empty array of task types, such as ["analyze_cost"]') }),
      z.maxLength(100, { error: rule('at most 100 task types') }),
      z.refine((caps) => new Set(caps).size === caps.length, { error: 'must not list the same capability twice' }),
    ),
  version: z._default(
    z.string({ error: rule('a version string of at most 64 characters') }).check(z.maxLength(64, { error: rule('at most 64 characters') })),
    '1.0.0',
  ),
  max_concurrency: z._default(intIn(1, 1000, ' tasks at once'), 10),
  metadata: z._default(jsonObject('metadata', JSON_LIMITS.metadataBytes), {}),
});
export type RegisterAgentRequest = z.infer<typeof registerAgentRequestSchema>;

export const heartbeatRequestSchema = z.strictObject({
  in_flight: z.optional(intIn(0, 100_000, ' (tasks the agent is working on now)')),
  metadata: z.optional(jsonObject('metadata', JSON_LIMITS.metadataBytes)),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

/** POST /agents/{id}/drain takes no options: an empty body or `{}`. */
export const drainRequestSchema = z.strictObject({}, { error: rule('an empty JSON object {} or no body') });

export const listAgentsQuerySchema = z.strictObject({
  type: z.optional(name('an agent type')),
  status: z.optional(z.enum(AGENT_STATUSES, { error: rule(`one of ${AGENT_STATUSES.join(', ')}`) })),
  /** Paged as GET /tasks: `limit` (default 50), and `next_token` while there are more. */
  limit: pageLimit(),
  next_token: pageToken(),
});
export type ListAgentsQuery = z.infer<typeof listAgentsQuerySchema>;

/** Headers of the agents API: the fleet token on registration, the agent's own token afterwards. */
export const AGENT_AUTH_HEADERS = { fleetToken: 'x-fleet-token', agentToken: 'x-agent-token' } as const;
