/**
 * The answer of GET /ui/metrics: the CloudWatch dashboard's figures, one point a minute, for the page
 * and for whatever serves it (the local runtime, `optiinfra console`). Types only: the page imports
 * them too, and a type costs the bundle nothing.
 */
export type MetricSeriesId =
  | 'submitted'
  | 'completed'
  | 'failed'
  | 'timed_out'
  | 'dispatch_latency_p50'
  | 'dispatch_latency_p99'
  | 'queue_wait_p50'
  | 'queue_wait_p99'
  | 'waiting_tasks';

export interface MetricPoint {
  t: string;
  v: number;
}

export interface MetricSeries {
  id: MetricSeriesId;
  label: string;
  unit: 'Count' | 'Milliseconds';
  points: MetricPoint[];
  total?: number;
}

export interface ConsoleMetrics {
  source: 'local' | 'cloudwatch';
  minutes: number;
  period_seconds: 60;
  end: string;
  series: MetricSeries[];
}
