import { z } from 'zod';
import { DEFAULT_BREAKER } from '../core/circuit-breaker';
import { parseNetworkPolicy } from '../core/network-policy';
import type { Settings } from '../app/deps';

const seconds = (def: number, min = 0, max = 86_400) => z.coerce.number().int().min(min).max(max).default(def);
const flag = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** Every setting the functions read, from the environment, validated once at cold start. */
const envSchema = z.object({
  TASKS_TABLE: z.string().min(1).optional(),
  AGENTS_TABLE: z.string().min(1).optional(),
  IDEMPOTENCY_TABLE: z.string().min(1).optional(),
  FLEET_TOKENS_SECRET_ARN: z.string().startsWith('arn:').optional(),
  INTAKE_QUEUE_URL: z.string().url().optional(),
  STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  EXPRESS_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  WORKFLOW_MODE: z.enum(['auto', 'standard']).default('auto'),
  /** redis://, rediss:// (TLS, as ElastiCache Serverless needs), or memory:// for the local stand-in. */
  CACHE_URL: z
    .string()
    .regex(/^(rediss?|memory):\/\//)
    .optional(),
  AWS_ENDPOINT_URL_SQS: z.string().url().optional(),
  HEARTBEAT_INTERVAL_SECONDS: seconds(10, 1, 3600),
  HEARTBEAT_PERSIST_SECONDS: seconds(60, 1, 3600),
  RETRY_BASE_DELAY_SECONDS: seconds(5, 0, 600),
  AGENT_POLL_SECONDS: seconds(2, 1, 60),
  QUEUE_TIMEOUT_SECONDS: seconds(300, 1, 86_400),
  REGISTRY_CACHE_SECONDS: seconds(5, 0, 300),
  BREAKER_WINDOW_SECONDS: seconds(DEFAULT_BREAKER.windowSeconds, 1, 3600),
  BREAKER_MIN_DISPATCHES: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_BREAKER.minDispatches),
  BREAKER_FAILURE_RATIO: z.coerce.number().gt(0).max(1).default(DEFAULT_BREAKER.failureRatio),
  BREAKER_COOLDOWN_SECONDS: seconds(DEFAULT_BREAKER.cooldownSeconds, 1, 3600),
  TASK_RETENTION_DAYS: seconds(30, 1, 3650),
  RESULT_TTL_SECONDS: seconds(3600, 60, 86_400),
  DRAIN_SECONDS: seconds(360, 0, 86_400),
  RECONCILE_STALE_SECONDS: seconds(120, 0, 86_400),
  ALLOWED_AGENT_NETWORKS: z.string().default(''),
  /** Comma-separated; list the new token beside the old one while agents switch over. */
  FLEET_TOKENS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .refine((tokens) => tokens.every((t) => t.length >= 16 && !/\s/.test(t)), {
      message: 'FLEET_TOKENS must list tokens of at least 16 characters, separated by commas',
    }),
  ALLOW_PUBLIC_AGENTS: flag(true),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(131_072),
  REQUIRE_AGENT_TOKENS: flag(false),
  MAX_AGENTS_PER_TYPE: z.coerce.number().int().min(1).max(100_000).default(1000),
  MAX_AGENT_CAPABILITIES: z.coerce.number().int().min(1).max(100).default(50),
  MAX_AGENT_METADATA_BYTES: z.coerce.number().int().min(256).max(16_384).default(4096),
  MAX_AGENT_ANSWER_BYTES: z.coerce.number().int().min(1024).max(350_000).default(262_144),
});

export type Config = z.infer<typeof envSchema> & { settings: Settings };

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
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
      networkPolicy: parseNetworkPolicy(c.ALLOWED_AGENT_NETWORKS, c.ALLOW_PUBLIC_AGENTS),
      fleetTokens: c.FLEET_TOKENS,
      requireAgentTokens: c.REQUIRE_AGENT_TOKENS,
      agentLimits: {
        maxPerType: c.MAX_AGENTS_PER_TYPE,
        maxCapabilities: c.MAX_AGENT_CAPABILITIES,
        maxMetadataBytes: c.MAX_AGENT_METADATA_BYTES,
      },
      // Without an Express machine there is nothing to choose.
      workflowMode: c.EXPRESS_STATE_MACHINE_ARN ? c.WORKFLOW_MODE : 'standard',
    },
  };
}

/** A value a function cannot work without: missing means the deployment is wrong, so fail loudly. */
export function required<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new Error(`missing configuration: ${String(key)} must be set for this function`);
  return value;
}
