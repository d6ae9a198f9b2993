import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AGENT_TYPE_DIMENSION, CACHE_FALLBACK_METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '@optiinfra/contract';
import type { TaskMetrics } from '../app/deps';
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
 * Lets the local runtime see every task metric (its console's figures) as the EMF lines carry them
 * on AWS, where nothing subscribes. Answers the unsubscribe.
 */
export function onTaskMetric(listener: (event: TaskMetricEvent) => void): () => void {
  taskMetricListeners.add(listener);
  return () => taskMetricListeners.delete(listener);
}

function emit(
  kind: TaskMetricEvent['kind'],
  name: string,
  agentType: string,
  value: number,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
): void {
  const single = metrics.singleMetric();
  single.addDimension(AGENT_TYPE_DIMENSION, agentType);
  single.addMetric(name, unit, value);
  for (const listener of taskMetricListeners) listener({ kind, name, agentType, value });
}

/** Task counts, timings and gauges as EMF metrics, one dimension: the agent type. */
export const taskMetrics: TaskMetrics = {
  count: (name, agentType, value = 1) => emit('count', name, agentType, value, MetricUnit.Count),
  timing: (name, ms, agentType) => emit('timing', name, agentType, ms, MetricUnit.Milliseconds),
  gauge: (name, value, agentType) => emit('gauge', name, agentType, value, MetricUnit.Count),
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
