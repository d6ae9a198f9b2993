import {
  CONSOLE_SERIES,
  type ConsoleMetrics,
  type ConsoleMetricsSeries,
  type ConsoleSeriesDefinition,
  consoleMetricsAnswer,
  consoleMetricsSeries,
  consoleSeriesExpression,
  METRICS_PERIOD_SECONDS,
} from '@optiinfra/contract/dashboard-metrics';

const MINUTE_MS = 60_000;

/** One query of a GetMetricData call, as the SDK's MetricDataQuery has it (the fields used here). */
export interface MetricQuery {
  Id: string;
  Expression: string;
  Label: string;
  Period: number;
  ReturnData: true;
}

/** The input of GetMetricData for the console's figures over the last `minutes`. */
export interface MetricDataRequest {
  MetricDataQueries: MetricQuery[];
  StartTime: Date;
  EndTime: Date;
  ScanBy: 'TimestampAscending';
}

/** One result of a GetMetricData answer (the fields used here). */
export interface MetricResult {
  Id?: string;
  Timestamps?: Date[];
  Values?: number[];
  StatusCode?: string;
  Messages?: { Code?: string; Value?: string }[];
}

/**
 * The console's nine series as one GetMetricData request: each series is its dashboard SEARCH
 * combined across agent types (the contract's definitions), one point a minute, from the start of the
 * minute `minutes - 1` before the current one to the end of the current one, so the window holds
 * `minutes` points as the local recorder's does.
 */
export function metricDataRequest(minutes: number, now: number): MetricDataRequest {
  const end = (Math.floor(now / MINUTE_MS) + 1) * MINUTE_MS;
  return {
    MetricDataQueries: CONSOLE_SERIES.map((definition) => ({
      Id: definition.id,
      Expression: consoleSeriesExpression(definition),
      Label: definition.label,
      Period: METRICS_PERIOD_SECONDS,
      ReturnData: true,
    })),
    StartTime: new Date(end - minutes * MINUTE_MS),
    EndTime: new Date(end),
    ScanBy: 'TimestampAscending',
  };
}

function seriesOf(definition: ConsoleSeriesDefinition, results: readonly MetricResult[]): ConsoleMetricsSeries {
  const byMinute = new Map<number, number>();
  for (const result of results) {
    if (result.Id !== definition.id) continue;
    const times = result.Timestamps ?? [];
    const values = result.Values ?? [];
    // A later page of the same query carries later points; a repeated minute keeps its first value.
    times.forEach((time, i) => {
      const value = values[i];
      const minute = Math.floor(time.getTime() / MINUTE_MS) * MINUTE_MS;
      if (value !== undefined && Number.isFinite(value) && !byMinute.has(minute)) byMinute.set(minute, value);
    });
  }
  const points = [...byMinute].sort(([a], [b]) => a - b).map(([minute, v]) => ({ t: new Date(minute).toISOString(), v }));
  return consoleMetricsSeries(definition, points);
}

/** The answer of GET /ui/metrics made of GetMetricData's results (all pages): the same shape the local runtime answers. */
export function consoleMetricsOf(results: readonly MetricResult[], minutes: number, now: number): ConsoleMetrics {
  return consoleMetricsAnswer('cloudwatch', minutes, now, (definition) => seriesOf(definition, results));
}

/** Why a result is not whole, for the console's stderr (a Forbidden query, an internal error): undefined when all are. */
export function resultProblems(results: readonly MetricResult[]): string | undefined {
  const problems = results
    .filter((r) => r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError')
    .map((r) => `${r.Id}: ${r.StatusCode}${r.Messages?.[0]?.Value ? ` (${r.Messages[0].Value})` : ''}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}
