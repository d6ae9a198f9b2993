import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AGENT_TYPE_DIMENSION, CACHE_FALLBACK_METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '@optiinfra/contract';
import type { TaskMetrics } from '../app/deps';
import { MinuteMaximum } from '../core/minute-maximum';
import { logSink } from './log-hook';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

/** Powertools' Logger, whose lines go to the local runtime's sink when it set one (log-hook.ts); on Lambda, unchanged. */
class HookedLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    const sink = logSink();
    if (!sink) return super.printLog(logLevel, log);
    log.prepareForPrint();
    sink(log.getAttributes());
  }
}

export const logger: Logger = new HookedLogger({ serviceName });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName });

/** Off in the local runtime, where there is no CloudWatch to read the EMF lines. */
export const metricsEnabled = process.env.POWERTOOLS_METRICS_DISABLED !== 'true';

/** One task metric as the functions emit it: a count, a timing (ms) or a gauge, of one agent type. */
export interface TaskMetricEvent {
  kind: 'count' | 'timing' | 'gauge';
  name: string;
  agentType: string;
  value: number;
}
const taskMetricListeners = new Set<(event: TaskMetricEvent) => void>();

/**
 * Lets the local runtime see every task metric (its console's figures), as the EMF lines carry them on
 * AWS, where nothing subscribes; every gauge observation too, even those the EMF lines leave out (see
 * gauge below). Answers the unsubscribe.
 */
export function onTaskMetric(listener: (event: TaskMetricEvent) => void): () => void {
  taskMetricListeners.add(listener);
  return () => taskMetricListeners.delete(listener);
}

/** One EMF line (a single metric) with the agent type as its dimension, stamped `timestamp` when given. */
function publish(
  name: string,
  agentType: string,
  value: number,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  timestamp?: number,
): void {
  const single = metrics.singleMetric();
  if (timestamp !== undefined) single.setTimestamp(timestamp);
  single.addDimension(AGENT_TYPE_DIMENSION, agentType);
  single.addMetric(name, unit, value);
}

function notify(kind: TaskMetricEvent['kind'], name: string, agentType: string, value: number): void {
  for (const listener of taskMetricListeners) listener({ kind, name, agentType, value });
}

/**
 * This process's (Lambda container's) gauges: the first observation of each minute per metric and agent
 * type, and each new maximum of that minute, go out; the rest are <= one already out, so CloudWatch's
 * Maximum per minute (the statistic the dashboard and the console read) is unchanged, at one EMF line
 * (~0.45 KB) per agent type and minute instead of one per park and per wake-up.
 */
const gaugeMaxima = new MinuteMaximum();

function gauge(name: string, value: number, agentType: string): void {
  const now = Date.now();
  // The EMF line carries the same timestamp the gate decided on, so both agree on the minute.
  if (gaugeMaxima.shouldPublish(`${name}\u0000${agentType}`, value, now)) publish(name, agentType, value, MetricUnit.Count, now);
  // The listeners (the local runtime's recorder) see every observation, not only those published:
  // the recorder keeps each minute's maximum itself, in memory, where a value costs nothing, so its
  // figure is exact whatever the gate's clock, and equal to the one CloudWatch gets from the EMF lines.
  notify('gauge', name, agentType, value);
}

/** Task counts, timings and gauges as EMF metrics, one dimension: the agent type. */
export const taskMetrics: TaskMetrics = {
  count(name, agentType, value = 1) {
    publish(name, agentType, value, MetricUnit.Count);
    notify('count', name, agentType, value);
  },
  timing(name, ms, agentType) {
    publish(name, agentType, ms, MetricUnit.Milliseconds);
    notify('timing', name, agentType, ms);
  },
  gauge,
};

/**
 * Instead of Powertools' logMetrics middleware: publishes what an invocation stored, and nothing when
 * it stored none. The task metrics are single metrics (written at once), so logMetrics found nothing
 * to publish on every invocation and warned so, ~250 bytes of CloudWatch Logs each time.
 */
export const publishStoredMetrics = {
  after: flushStoredMetrics,
  onError: flushStoredMetrics,
};
function flushStoredMetrics(): void {
  if (metricsEnabled && metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** The narrow logger the adapters take, so they do not depend on Powertools. */
export const adapterLog = {
  warn(message: string, extra: Record<string, unknown> = {}): void {
    logger.warn({ message, ...extra });
  },
};

/** The metric counting cache calls answered without the cache (the caller fell back to DynamoDB); the alarm in lib/constructs/operations.ts reads it. */
export { CACHE_FALLBACK_METRIC };

/**
 * The cache adapter's log and its fallback count. The count is stored, not a single metric: an
 * invocation's fallbacks go out in its one EMF line (publishStoredMetrics), not one line per call.
 */
export const cacheObserver = {
  warn: (message: string, extra?: Record<string, unknown>) => adapterLog.warn(message, extra),
  fallback(): void {
    if (metricsEnabled) metrics.addMetric(CACHE_FALLBACK_METRIC, MetricUnit.Count, 1);
  },
};
