import type { ConsoleMetrics } from '@optiinfra/contract/dashboard-metrics';
import { consoleMetricsOf, type MetricResult, metricDataRequest, resultProblems } from './cloudwatch-metrics.js';

/** GET /ui/metrics could not be answered from CloudWatch: the message says what to fix. */
export class MetricsUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsUnavailableError';
  }
}

/** A GetMetricData answer may come in pages; nine series of at most 180 points fit in one, so a few pages are plenty. */
const MAX_PAGES = 5;
/**
 * The figures are per minute, and GetMetricData is billed per metric read (each agent type's series
 * counts): an answer is reused for this long, so the page's refresh every 15 s reads CloudWatch at
 * most twice a minute per window shown.
 */
export const METRICS_CACHE_MS = 30_000;

export interface CloudWatchSourceOptions {
  region: string;
  now?: () => number;
  /** Where a partial answer's reason is told (stderr). */
  warn?: (line: string) => void;
}

function whyUnavailable(err: unknown, region: string): MetricsUnavailableError {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError')
    return new MetricsUnavailableError(`no AWS credentials to read CloudWatch metrics: set AWS_PROFILE or AWS_ACCESS_KEY_ID`, {
      cause: err,
    });
  if (/AccessDenied|not authorized/i.test(`${name} ${message}`))
    return new MetricsUnavailableError(
      `CloudWatch refused GetMetricData in ${region}: allow cloudwatch:GetMetricData to the credentials optiinfra console uses (${message})`,
      { cause: err },
    );
  return new MetricsUnavailableError(`could not read CloudWatch metrics in ${region} (${name || 'error'}: ${message})`, { cause: err });
}

/**
 * GET /ui/metrics of `optiinfra console --stack`: the dashboard's series read with GetMetricData.
 * The CloudWatch client is loaded on the first call only.
 */
export function cloudWatchMetrics(options: CloudWatchSourceOptions): {
  metrics: (minutes: number) => Promise<ConsoleMetrics>;
  close: () => void;
} {
  const now = options.now ?? Date.now;
  type Sdk = typeof import('@aws-sdk/client-cloudwatch');
  let client: { sdk: Sdk; cw: InstanceType<Sdk['CloudWatchClient']> } | undefined;
  const cache = new Map<number, { at: number; answer: Promise<ConsoleMetrics> }>();

  async function read(minutes: number): Promise<ConsoleMetrics> {
    if (!client) {
      const sdk = await import('@aws-sdk/client-cloudwatch');
      client = { sdk, cw: new sdk.CloudWatchClient({ region: options.region }) };
    }
    const at = now();
    const request = metricDataRequest(minutes, at);
    const results: MetricResult[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.cw.send(
          new client.sdk.GetMetricDataCommand({ ...request, ...(nextToken ? { NextToken: nextToken } : {}) }),
        );
        results.push(...(answer.MetricDataResults ?? []));
        nextToken = answer.NextToken;
        if (!nextToken) break;
      }
    } catch (err) {
      throw whyUnavailable(err, options.region);
    }
    const problems = resultProblems(results);
    if (problems) options.warn?.(`CloudWatch answered part of the metrics: ${problems}`);
    return consoleMetricsOf(results, minutes, at);
  }

  return {
    metrics(minutes) {
      const cached = cache.get(minutes);
      if (cached && now() - cached.at < METRICS_CACHE_MS) return cached.answer;
      const answer = read(minutes);
      cache.set(minutes, { at: now(), answer });
      // A failed read is not kept: the next refresh tries again.
      answer.catch(() => cache.delete(minutes));
      return answer;
    },
    close: () => client?.cw.destroy(),
  };
}
