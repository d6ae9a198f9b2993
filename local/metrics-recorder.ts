/**
 * The local runtime's stand-in for CloudWatch metrics: it keeps what the functions emit (the
 * events of onTaskMetric) in one bucket per minute for the last three hours, and answers the
 * console's GET /ui/metrics with the dashboard's own series (@optiinfra/contract/dashboard-metrics).
 * Counts are summed, gauges keep their maximum, timings keep a bounded random sample per minute
 * (reservoir sampling), so memory stays flat however many tasks run.
 */
import {
  type ConsoleMetrics,
  type ConsoleMetricsSeries,
  type ConsoleSeriesDefinition,
  consoleMetricsAnswer,
  consoleMetricsSeries,
  MAX_METRICS_MINUTES,
  METRICS_PERIOD_SECONDS,
} from '@optiinfra/contract/dashboard-metrics';
import type { TaskMetricEvent } from '../functions/composition/composition-root';

const MINUTE_MS = METRICS_PERIOD_SECONDS * 1000;
/** Timings kept per metric, agent type and minute: enough for a stable p99 at local rates. */
export const SAMPLES_PER_MINUTE = 500;

interface Timing {
  samples: number[];
  seen: number;
}

/** One minute's figures, each keyed by metric name and agent type. */
interface Bucket {
  counts: Map<string, number>;
  gauges: Map<string, number>;
  timings: Map<string, Timing>;
}

const keyOf = (name: string, agentType: string) => `${name}\u0000${agentType}`;
const nameOf = (key: string) => key.slice(0, key.indexOf('\u0000'));

/** The nearest-rank percentile of `sorted` (ascending, not empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export class MetricsRecorder {
  /** Minute number (epoch ms / 60 000) → its bucket, oldest first. */
  private readonly buckets = new Map<number, Bucket>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  record(event: TaskMetricEvent): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const bucket = this.bucket(minute);
    const key = keyOf(event.name, event.agentType);
    if (event.kind === 'count') bucket.counts.set(key, (bucket.counts.get(key) ?? 0) + event.value);
    else if (event.kind === 'gauge') bucket.gauges.set(key, Math.max(bucket.gauges.get(key) ?? Number.NEGATIVE_INFINITY, event.value));
    else {
      const timing = bucket.timings.get(key) ?? { samples: [], seen: 0 };
      bucket.timings.set(key, timing);
      timing.seen++;
      if (timing.samples.length < SAMPLES_PER_MINUTE) timing.samples.push(event.value);
      else {
        // Each of the `seen` timings stays in the sample with the same chance.
        const slot = Math.floor(this.random() * timing.seen);
        if (slot < SAMPLES_PER_MINUTE) timing.samples[slot] = event.value;
      }
    }
  }

  /** The console's series over the `minutes` that end with the current one. */
  answer(minutes: number): ConsoleMetrics {
    const now = this.now();
    const last = Math.floor(now / MINUTE_MS);
    this.prune(last);
    const window = [...this.buckets].filter(([minute]) => minute > last - minutes);
    return consoleMetricsAnswer('local', minutes, now, (definition) => seriesOf(definition, window));
  }

  private bucket(minute: number): Bucket {
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = { counts: new Map(), gauges: new Map(), timings: new Map() };
      this.buckets.set(minute, bucket);
      this.prune(minute);
    }
    return bucket;
  }

  private prune(current: number): void {
    for (const minute of this.buckets.keys()) {
      if (minute > current - MAX_METRICS_MINUTES) break;
      this.buckets.delete(minute);
    }
  }
}

/** One minute's value of a series: per agent type as CloudWatch has it, then combined across types as the definition says. */
function valueOf(definition: ConsoleSeriesDefinition, bucket: Bucket): number | undefined {
  const perType: number[] = [];
  const matching = <V>(map: Map<string, V>) => [...map].filter(([key]) => nameOf(key) === definition.metricName).map(([, v]) => v);
  if (definition.statistic === 'Sum') perType.push(...matching(bucket.counts));
  else if (definition.statistic === 'Maximum') perType.push(...matching(bucket.gauges));
  else {
    const p = definition.statistic === 'p50' ? 50 : 99;
    for (const timing of matching(bucket.timings))
      perType.push(
        percentile(
          [...timing.samples].sort((a, b) => a - b),
          p,
        ),
      );
  }
  if (perType.length === 0) return undefined;
  return definition.acrossTypes === 'SUM' ? perType.reduce((a, b) => a + b, 0) : Math.max(...perType);
}

function seriesOf(definition: ConsoleSeriesDefinition, window: ReadonlyArray<[number, Bucket]>): ConsoleMetricsSeries {
  const points: ConsoleMetricsSeries['points'] = [];
  for (const [minute, bucket] of window) {
    const v = valueOf(definition, bucket);
    if (v !== undefined) points.push({ t: new Date(minute * MINUTE_MS).toISOString(), v });
  }
  return consoleMetricsSeries(definition, points);
}

/**
 * What the runtime gives its API server for GET /ui/metrics: a recorder that listens to the
 * functions' task metrics from now on (subscribe before the handlers run), its answer, and the
 * unsubscribe for the runtime's stop.
 */
export function consoleMetricsSource(
  onTaskMetric: (listener: (event: TaskMetricEvent) => void) => () => void,
  recorder = new MetricsRecorder(),
): { metrics: (minutes: number) => Promise<ConsoleMetrics>; stop: () => Promise<void> } {
  const unsubscribe = onTaskMetric((event) => recorder.record(event));
  return {
    metrics: async (minutes) => recorder.answer(minutes),
    stop: async () => void unsubscribe(),
  };
}
