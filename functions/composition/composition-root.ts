/**
 * Configuration read once per cold start, and the deps a function's use cases get. Each adapter is
 * built, once, by a module of its own that imports only the client and libraries it needs
 * (dynamodb-stores.ts, intake-queue.ts, workflow.ts, task-cache.ts, agent-client.ts,
 * submit-idempotency.ts, fleet-tokens.ts): a handler imports the ones it uses, so its bundle holds
 * nothing else. A missing setting fails that function's cold start with a clear message.
 */
import { lookup } from 'node:dns/promises';
import type { Deps } from '../app/deps';
import { systemClock } from '../core/ports';
import { hookedActivity } from './activity-hook';
import { config } from './environment';
import { taskMetrics } from './observability';

export { type ActivityListener, onActivity } from './activity-hook';
export { type AwsClient, onAwsClient } from './aws-client-hook';
export { config } from './environment';
export { onTaskMetric, type TaskMetricEvent } from './observability';

/** `make` called on first use, its value kept for the life of the function. */
export const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/** What every use case may use besides adapters. */
const base = {
  clock: systemClock,
  settings: config.settings,
  metrics: taskMetrics,
  activity: hookedActivity,
  resolveHost: async (host: string) => (await lookup(host, { all: true })).map((a) => a.address),
};

type AdapterKey = Exclude<keyof Deps, keyof typeof base>;
type Factories = { readonly [K in AdapterKey]?: () => Deps[K] };
type Built<F extends Factories> = { [K in keyof F]: F[K] extends () => infer A ? A : never };

/** The adapters a function lists, built now (at cold start), with the clock, settings and metrics. */
export function depsOf<F extends Factories>(factories: F): Built<F> & typeof base {
  const built = Object.fromEntries(Object.entries(factories).map(([key, make]) => [key, (make as () => unknown)()])) as Built<F>;
  return { ...built, ...base };
}
