import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { TaskMetrics } from '../app/deps';
import { logSink } from './log-hook';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'optiinfra-orchestrator';

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
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OptiInfra/Orchestrator', serviceName });

/** Off in the local runtime, where there is no CloudWatch to read the EMF lines. */
export const metricsEnabled = process.env.POWERTOOLS_METRICS_DISABLED !== 'true';

/** Task counts and timings as EMF metrics, one dimension: the agent type. */
export const taskMetrics: TaskMetrics = {
  count(name, agentType, value = 1) {
    const single = metrics.singleMetric();
    single.addDimension('AgentType', agentType);
    single.addMetric(name, MetricUnit.Count, value);
  },
  timing(name, ms, agentType) {
    const single = metrics.singleMetric();
    single.addDimension('AgentType', agentType);
    single.addMetric(name, MetricUnit.Milliseconds, ms);
  },
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
export const CACHE_FALLBACK_METRIC = 'CacheFallbacks';

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
