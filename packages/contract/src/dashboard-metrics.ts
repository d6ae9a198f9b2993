/**
 * The task metrics the orchestrator emits, and the series the console and the CloudWatch dashboard
 * draw from them. One list: the functions emit these names, lib/constructs/operations.ts graphs
 * them, the local runtime's recorder and `optiinfra console` answer `GET /ui/metrics` with them.
 */
import * as z from 'zod/mini';

import { AGENT_TYPE_DIMENSION, METRICS_NAMESPACE, SERVICE_DIMENSION, TASK_METRIC, type TaskMetricName } from './metric-names.js';

export * from './metric-names.js';

export const CONSOLE_SERIES_IDS = [
  'submitted',
  'completed',
  'failed',
  'timed_out',
  'dispatch_latency_p50',
  'dispatch_latency_p99',
  'queue_wait_p50',
  'queue_wait_p99',
  'waiting_tasks',
] as const;
export type ConsoleSeriesId = (typeof CONSOLE_SERIES_IDS)[number];

/** CloudWatch statistics the series use: a count's sum, a timing's percentiles, a gauge's maximum. */
export type SeriesStatistic = 'Sum' | 'p50' | 'p99' | 'Maximum';
export type SeriesUnit = 'Count' | 'Milliseconds';

/**
 * How one series is made of the agent types' own (each type is a series of its own in CloudWatch):
 * counts and waiting tasks add up; a percentile cannot be combined, so the worst type's is shown.
 */
export type AcrossAgentTypes = 'SUM' | 'MAX';

export interface ConsoleSeriesDefinition {
  readonly id: ConsoleSeriesId;
  readonly metricName: TaskMetricName;
  readonly statistic: SeriesStatistic;
  readonly acrossTypes: AcrossAgentTypes;
  /** The series' label, on the dashboard and in the console. */
  readonly label: string;
  readonly unit: SeriesUnit;
}

/** The console's series, in the order it shows them. */
export const CONSOLE_SERIES: readonly ConsoleSeriesDefinition[] = [
  { id: 'submitted', metricName: TASK_METRIC.submitted, statistic: 'Sum', acrossTypes: 'SUM', label: 'submitted', unit: 'Count' },
  { id: 'completed', metricName: TASK_METRIC.completed, statistic: 'Sum', acrossTypes: 'SUM', label: 'completed', unit: 'Count' },
  { id: 'failed', metricName: TASK_METRIC.failed, statistic: 'Sum', acrossTypes: 'SUM', label: 'failed', unit: 'Count' },
  { id: 'timed_out', metricName: TASK_METRIC.timedOut, statistic: 'Sum', acrossTypes: 'SUM', label: 'timed out', unit: 'Count' },
  {
    id: 'dispatch_latency_p50',
    metricName: TASK_METRIC.dispatchLatency,
    statistic: 'p50',
    acrossTypes: 'MAX',
    label: 'dispatch latency p50',
    unit: 'Milliseconds',
  },
  {
    id: 'dispatch_latency_p99',
    metricName: TASK_METRIC.dispatchLatency,
    statistic: 'p99',
    acrossTypes: 'MAX',
    label: 'dispatch latency p99',
    unit: 'Milliseconds',
  },
  {
    id: 'queue_wait_p50',
    metricName: TASK_METRIC.queueWait,
    statistic: 'p50',
    acrossTypes: 'MAX',
    label: 'queue wait p50',
    unit: 'Milliseconds',
  },
  {
    id: 'queue_wait_p99',
    metricName: TASK_METRIC.queueWait,
    statistic: 'p99',
    acrossTypes: 'MAX',
    label: 'queue wait p99',
    unit: 'Milliseconds',
  },
  {
    id: 'waiting_tasks',
    metricName: TASK_METRIC.waitingTasks,
    statistic: 'Maximum',
    acrossTypes: 'SUM',
    label: 'waiting tasks',
    unit: 'Count',
  },
];

/** The series with this id. */
export function consoleSeries(id: ConsoleSeriesId): ConsoleSeriesDefinition {
  const found = CONSOLE_SERIES.find((s) => s.id === id);
  if (!found) throw new Error(`no console series ${id}`);
  return found;
}

/** One point per minute: the console's and the dashboard's period. */
export const METRICS_PERIOD_SECONDS = 60;
/** The longest window `GET /ui/metrics?minutes=` answers: what the local recorder keeps. */
export const MAX_METRICS_MINUTES = 180;
export const DEFAULT_METRICS_MINUTES = 60;

/**
 * The CloudWatch SEARCH that finds a task metric of every agent type (one time series each) at one
 * point a minute: the dashboard graphs it as is.
 */
export function searchByAgentType(metricName: TaskMetricName, statistic: SeriesStatistic | 'p95'): string {
  return `SEARCH('{${METRICS_NAMESPACE},${AGENT_TYPE_DIMENSION},${SERVICE_DIMENSION}} MetricName="${metricName}"', '${statistic}', ${METRICS_PERIOD_SECONDS})`;
}

/** The metric math of one console series: its SEARCH, combined across agent types as the definition says (`SUM(...)`, `MAX(...)`). */
export function consoleSeriesExpression(definition: ConsoleSeriesDefinition): string {
  return `${definition.acrossTypes}(${searchByAgentType(definition.metricName, definition.statistic)})`;
}

/**
 * The `minutes` of `GET /ui/metrics?minutes=N`, from every value the query gave (URLSearchParams'
 * getAll): the default when absent, else one integer from 1 to 180. Answers the text of the 400 for
 * anything else.
 */
export function parseMetricsMinutes(given: readonly string[]): { minutes: number } | { error: string } {
  if (given.length === 0) return { minutes: DEFAULT_METRICS_MINUTES };
  const raw = given[0] ?? '';
  const minutes = given.length === 1 && /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (minutes >= 1 && minutes <= MAX_METRICS_MINUTES) return { minutes };
  const got = given.length > 1 ? `${given.length} values` : JSON.stringify(raw.slice(0, 20));
  return { error: `minutes must be a whole number from 1 to ${MAX_METRICS_MINUTES}, given once, such as ?minutes=60 (got ${got})` };
}

const point = z.object({ t: z.iso.datetime(), v: z.number() });

export const consoleMetricsSeriesSchema = z.object({
  id: z.enum(CONSOLE_SERIES_IDS),
  label: z.string(),
  unit: z.enum(['Count', 'Milliseconds']),
  /** Oldest first; minutes with no data are left out. */
  points: z.array(point),
  /** Count series: the window's sum. */
  total: z.optional(z.number()),
});

/** The answer of `GET /ui/metrics`. */
export const consoleMetricsSchema = z.object({
  source: z.enum(['local', 'cloudwatch']),
  minutes: z.int().check(z.minimum(1), z.maximum(MAX_METRICS_MINUTES)),
  period_seconds: z.literal(METRICS_PERIOD_SECONDS),
  end: z.iso.datetime(),
  series: z.array(consoleMetricsSeriesSchema),
});

export type ConsoleMetricsSeries = z.infer<typeof consoleMetricsSeriesSchema>;
export type ConsoleMetrics = z.infer<typeof consoleMetricsSchema>;

/** A series of the answer: the definition's id, label and unit, its points oldest first, and a count's window total. */
export function consoleMetricsSeries(definition: ConsoleSeriesDefinition, points: ConsoleMetricsSeries['points']): ConsoleMetricsSeries {
  const series: ConsoleMetricsSeries = { id: definition.id, label: definition.label, unit: definition.unit, points };
  return definition.statistic === 'Sum' ? { ...series, total: points.reduce((sum, p) => sum + p.v, 0) } : series;
}

/** The answer of `GET /ui/metrics` at `now`: every series of the console, in its order, made by `seriesOf`. */
export function consoleMetricsAnswer(
  source: ConsoleMetrics['source'],
  minutes: number,
  now: number,
  seriesOf: (definition: ConsoleSeriesDefinition) => ConsoleMetricsSeries,
): ConsoleMetrics {
  return {
    source,
    minutes,
    period_seconds: METRICS_PERIOD_SECONDS,
    end: new Date(now).toISOString(),
    series: CONSOLE_SERIES.map(seriesOf),
  };
}
