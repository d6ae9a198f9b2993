/**
 * The settings `npm start` gives the handlers: yours as given, the local defaults where you gave
 * none, and what the runtime itself provides (its tables, queues, endpoints and own services). A
 * value that is wrong, or one the runtime would have to override, stops start-up with a message
 * that names the variable and says what it accepts: the same check as the functions' cold start.
 */
import { networkInterfaces } from 'node:os';
import { loadConfig } from '../functions/composition/config';

/** Agents on this machine only, unless ALLOWED_AGENT_NETWORKS or ALLOW_PUBLIC_AGENTS say otherwise. */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  ALLOWED_AGENT_NETWORKS: '127.0.0.0/8,::1/128',
  ALLOW_PUBLIC_AGENTS: 'false',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** Provisioned by the runtime on its stand-ins: a value from the environment would point elsewhere. */
const PROVIDED = [
  'TASKS_TABLE',
  'AGENTS_TABLE',
  'IDEMPOTENCY_TABLE',
  'INTAKE_QUEUE_URL',
  'STATE_MACHINE_ARN',
  'EXPRESS_STATE_MACHINE_ARN',
] as const;

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/**
 * The handlers' settings from `env` (the process environment and the runtime's `env` option), or an
 * error naming the first wrong variable. DENIED_AGENT_TARGETS and CACHE_URL are completed later,
 * once the runtime knows its ports.
 */
export function localSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  for (const key of PROVIDED)
    if (env[key] !== undefined)
      throw new Error(`${key} is set by npm start itself (it provisions its own tables, queues and state machines); unset it`);
  if (env.FLEET_TOKENS_SECRET_ARN !== undefined)
    throw new Error(
      'FLEET_TOKENS_SECRET_ARN is set by npm start itself (its local secret holds FLEET_TOKENS); unset it and list the tokens in FLEET_TOKENS',
    );
  // An empty REDIS_URL is none (as before: it clears an inherited one).
  const redisUrl = env.REDIS_URL || undefined;
  if (env.CACHE_URL !== undefined && redisUrl !== undefined && env.CACHE_URL !== redisUrl)
    throw new Error('CACHE_URL and REDIS_URL are both set and differ; set one: REDIS_URL (a redis:// URL) or CACHE_URL');
  // The runtime's own cache (a redis-server it starts, or the in-process stand-in) is no cluster.
  const cacheUrl = redisUrl ?? env.CACHE_URL;
  if ((env.CACHE_CLUSTER === 'true' || env.CACHE_CLUSTER === '1') && !/^rediss?:\/\//.test(cacheUrl ?? ''))
    throw new Error('CACHE_CLUSTER=true needs REDIS_URL naming a Redis Cluster: the cache npm start provides is a single server');
  if (env.RECONCILE_INTERVAL_SECONDS !== undefined) reconcileIntervalSeconds(env);
  const level = env.LOG_LEVEL ?? 'WARN';
  if (!LOG_LEVELS.includes(level.toUpperCase())) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  const settings: Record<string, string> = { POWERTOOLS_LOG_LEVEL: level.toUpperCase(), ...LOCAL_DEFAULTS };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) settings[key] = value;
  if (redisUrl !== undefined) settings.CACHE_URL = redisUrl;
  loadConfig(settings);
  return settings;
}

/** How often the local runtime runs the reconciler (RECONCILE_INTERVAL_SECONDS; on AWS a schedule runs it every minute). */
export function reconcileIntervalSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.RECONCILE_INTERVAL_SECONDS;
  if (raw === undefined) return 30;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 3600)
    throw new Error(`RECONCILE_INTERVAL_SECONDS must be a whole number of seconds from 1 to 3600, got "${raw.slice(0, 40)}"`);
  return Number(raw);
}

/** The host agents use to reach an API bound to `host` (an any-address bind is reached on the loopback). */
export function publicHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * DENIED_AGENT_TARGETS entries for the runtime's own ports on every address of this machine (the
 * loopback ranges and each interface): a server bound to 0.0.0.0 answers on all of them.
 */
export function ownTargets(ports: readonly number[]): string[] {
  const hosts = new Set(['127.0.0.0/8', '[::1]']);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) hosts.add(a.family === 'IPv6' ? `[${a.address.split('%')[0]}]` : a.address);
  return ports.flatMap((port) => [...hosts].map((host) => `${host}:${port}`));
}

/** A Redis URL fit for a log line: the password is never printed. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
