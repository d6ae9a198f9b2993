// zod/mini: every message here is this module's own, and the classic API would cost the health
// check, which validates these settings and nothing else, most of its cold start.
import * as z from 'zod/mini';
import { DEFAULT_BREAKER } from '../core/circuit-breaker';
import { DEFAULT_HISTORY_BUDGET, STANDARD_HISTORY_LIMIT } from '../core/workflow-history';
import { DEFAULT_CALLBACK_POLICY, MAX_CALLBACK_DELAY_SECONDS } from '../core/task-callback';
import { type DeniedTarget, parseDeniedTargets, parseNetworkPolicy } from '../core/network-policy';
import type { Settings } from '../app/deps';

/** `NAME must be <what it accepts>, got "<value>"`: the message for every setting, at cold start and at `npm start`. */
const must = (accepts: string) => (raw: unknown) => `must be ${accepts}, got "${String(raw)}"`;

/** A whole number written as one (not "", "0x10" or "1e3", which Number() would read). */
const integer = (def: number, min: number, max: number, unit = 'seconds') => {
  const accepts = `a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  return z.pipe(
    z.optional(z.string()),
    z.transform((raw, ctx) => {
      if (raw === undefined) return def;
      const n = Number(raw.trim());
      if (/^\d+$/.test(raw.trim()) && n >= min && n <= max) return n;
      ctx.issues.push({ code: 'custom', message: must(accepts)(raw), input: raw });
      return z.NEVER;
    }),
  );
};
const seconds = (def: number, min = 0, max = 86_400) => integer(def, min, max);
const ratio = (def: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((raw, ctx) => {
      if (raw === undefined) return def;
      const n = Number(raw.trim());
      if (/^\d+(\.\d+)?$/.test(raw.trim()) && n > 0 && n <= 1) return n;
      ctx.issues.push({ code: 'custom', message: must('a number greater than 0 and at most 1, such as 0.5')(raw), input: raw });
      return z.NEVER;
    }),
  );
const flag = (def: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false', '1', '0'], { error: (i) => must('true or false (or 1 or 0)')(i.input) }), def ? 'true' : 'false'),
    z.transform((v) => v === 'true' || v === '1'),
  );
const name = () => z.optional(z.string().check(z.minLength(1, { error: (i) => must('a name')(i.input) })));
const arn = () => z.optional(z.string().check(z.startsWith('arn:', { error: (i) => must('an ARN (arn:...)')(i.input) })));
const url = () => z.optional(z.url({ error: (i) => must('a URL such as https://host:port')(i.input) }));
/** Parsed here, so a wrong entry fails the cold start with the others, in the same words. */
const parsedBy =
  (parse: (v: string) => unknown) =>
  (v: string, ctx: z.core.$RefinementCtx<string>): void => {
    try {
      parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: String((err as Error).message).replace(/^[A-Z_]+ /, '') });
    }
  };

/** Every setting the functions read, from the environment, validated once at cold start. */
const envSchema = z.object({
  TASKS_TABLE: name(),
  AGENTS_TABLE: name(),
  IDEMPOTENCY_TABLE: name(),
  FLEET_TOKENS_SECRET_ARN: arn(),
  INTAKE_QUEUE_URL: url(),
  STATE_MACHINE_ARN: arn(),
  EXPRESS_STATE_MACHINE_ARN: arn(),
  WORKFLOW_MODE: z._default(z.enum(['auto', 'standard'], { error: (i) => must('auto or standard')(i.input) }), 'auto'),
  /** redis://, rediss:// (TLS, as ElastiCache Serverless needs), or memory:// for the local stand-in. */
  CACHE_URL: z.optional(
    z.string().check(z.regex(/^(rediss?|memory):\/\//, { error: (i) => must('a redis://, rediss:// or memory:// URL')(i.input) })),
  ),
  /** A cluster-mode client for CACHE_URL (ElastiCache Serverless is cluster-mode only; the CDK app sets it). */
  CACHE_CLUSTER: flag(false),
  AWS_ENDPOINT_URL_SQS: url(),
  HEARTBEAT_INTERVAL_SECONDS: seconds(10, 1, 3600),
  HEARTBEAT_PERSIST_SECONDS: seconds(60, 1, 3600),
  RETRY_BASE_DELAY_SECONDS: seconds(5, 0, 600),
  AGENT_POLL_SECONDS: seconds(2, 1, 60),
  QUEUE_TIMEOUT_SECONDS: seconds(300, 1, 86_400),
  REGISTRY_CACHE_SECONDS: seconds(5, 0, 300),
  BREAKER_WINDOW_SECONDS: seconds(DEFAULT_BREAKER.windowSeconds, 1, 3600),
  BREAKER_MIN_DISPATCHES: integer(DEFAULT_BREAKER.minDispatches, 1, 10_000, 'dispatches'),
  BREAKER_FAILURE_RATIO: ratio(DEFAULT_BREAKER.failureRatio),
  BREAKER_COOLDOWN_SECONDS: seconds(DEFAULT_BREAKER.cooldownSeconds, 1, 3600),
  TASK_RETENTION_DAYS: integer(30, 1, 3650, 'days'),
  RESULT_TTL_SECONDS: seconds(3600, 60, 86_400),
  DRAIN_SECONDS: seconds(360, 0, 86_400),
  RECONCILE_STALE_SECONDS: seconds(120, 0, 86_400),
  WORKFLOW_HISTORY_BUDGET: integer(DEFAULT_HISTORY_BUDGET, 200, STANDARD_HISTORY_LIMIT, 'events'),
  ALLOWED_AGENT_NETWORKS: z._default(z.string(), '').check(z.superRefine(parsedBy((v) => parseNetworkPolicy(v, false)))),
  /** host:port pairs that are never agents (the orchestrator's own services); the cache is always one. */
  DENIED_AGENT_TARGETS: z._default(z.string(), '').check(z.superRefine(parsedBy(parseDeniedTargets))),
  /** Comma-separated; list the new token beside the old one while agents switch over. */
  FLEET_TOKENS: z
    .pipe(
      z._default(z.string(), ''),
      z.transform((v) =>
        v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    )
    .check(
      z.refine((tokens) => tokens.every((t) => t.length >= 16 && !/\s/.test(t)), {
        error: 'must list tokens of at least 16 characters without spaces, separated by commas',
      }),
    ),
  ALLOW_PUBLIC_AGENTS: flag(true),
  MAX_BODY_BYTES: integer(131_072, 1024, 1_048_576, 'bytes'),
  REQUIRE_AGENT_TOKENS: flag(false),
  MAX_AGENTS_PER_TYPE: integer(1000, 1, 100_000, 'agents'),
  MAX_AGENT_CAPABILITIES: integer(50, 1, 100, 'capabilities'),
  MAX_AGENT_METADATA_BYTES: integer(4096, 256, 16_384, 'bytes'),
  MAX_AGENT_ANSWER_BYTES: integer(262_144, 1024, 350_000, 'bytes'),
  /** The API's public base URL: deliveries tell agents to report to `<it>/tasks/{id}/result` (the CDK app and npm start set it). */
  PUBLIC_API_URL: url(),
  CALLBACK_MAX_ATTEMPTS: integer(DEFAULT_CALLBACK_POLICY.maxAttempts, 1, 20, 'attempts'),
  CALLBACK_RETRY_BASE_SECONDS: seconds(DEFAULT_CALLBACK_POLICY.retryBaseSeconds, 0, MAX_CALLBACK_DELAY_SECONDS),
});

/** The cache is never an agent: its host and port (a name is resolved when an agent address is checked). */
function cacheTarget(cacheUrl: string | undefined): DeniedTarget[] {
  if (!cacheUrl || cacheUrl.startsWith('memory://')) return [];
  const { hostname, port } = new URL(cacheUrl);
  try {
    return parseDeniedTargets(`${hostname}:${port || '6379'}`, 'the cache (CACHE_URL)');
  } catch {
    return [];
  }
}

export type Config = z.infer<typeof envSchema> & { settings: Settings };

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  const c = parsed.data;
  return {
    ...c,
    settings: {
      heartbeatIntervalSeconds: c.HEARTBEAT_INTERVAL_SECONDS,
      heartbeatPersistSeconds: c.HEARTBEAT_PERSIST_SECONDS,
      retryBaseDelaySeconds: c.RETRY_BASE_DELAY_SECONDS,
      agentPollSeconds: c.AGENT_POLL_SECONDS,
      queueTimeoutSeconds: c.QUEUE_TIMEOUT_SECONDS,
      registryCacheSeconds: c.REGISTRY_CACHE_SECONDS,
      breaker: {
        windowSeconds: c.BREAKER_WINDOW_SECONDS,
        minDispatches: c.BREAKER_MIN_DISPATCHES,
        failureRatio: c.BREAKER_FAILURE_RATIO,
        cooldownSeconds: c.BREAKER_COOLDOWN_SECONDS,
      },
      taskRetentionDays: c.TASK_RETENTION_DAYS,
      resultTtlSeconds: c.RESULT_TTL_SECONDS,
      drainSeconds: c.DRAIN_SECONDS,
      networkPolicy: {
        ...parseNetworkPolicy(c.ALLOWED_AGENT_NETWORKS, c.ALLOW_PUBLIC_AGENTS),
        denied: [...parseDeniedTargets(c.DENIED_AGENT_TARGETS), ...cacheTarget(c.CACHE_URL)],
      },
      fleetTokens: c.FLEET_TOKENS,
      requireAgentTokens: c.REQUIRE_AGENT_TOKENS,
      agentLimits: {
        maxPerType: c.MAX_AGENTS_PER_TYPE,
        maxCapabilities: c.MAX_AGENT_CAPABILITIES,
        maxMetadataBytes: c.MAX_AGENT_METADATA_BYTES,
      },
      // Without an Express machine there is nothing to choose.
      workflowMode: c.EXPRESS_STATE_MACHINE_ARN ? c.WORKFLOW_MODE : 'standard',
      historyBudget: c.WORKFLOW_HISTORY_BUDGET,
      publicApiUrl: c.PUBLIC_API_URL?.replace(/\/+$/, ''),
      callbackPolicy: { maxAttempts: c.CALLBACK_MAX_ATTEMPTS, retryBaseSeconds: c.CALLBACK_RETRY_BASE_SECONDS },
    },
  };
}

/** A value a function cannot work without: missing means the deployment is wrong, so fail loudly. */
export function required<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new Error(`missing configuration: ${String(key)} must be set for this function`);
  return value;
}
