import { useState } from 'preact/hooks';
import { call } from './api';
import { chartShape, headlineOf } from './chart';
import type { ConsoleMetrics, ConsoleMetricsSeries as MetricSeries } from '@optiinfra/contract/dashboard-metrics';
import { formatClock, formatMetricValue } from './format';
import { usePoll } from './hooks';
import { ErrorText } from './parts';

/** The figures are per minute: reading them more often than this shows nothing new. */
const METRICS_REFRESH_MS = 15_000;
const WINDOWS = [15, 60, 180] as const;
const SIZE = { width: 240, height: 48 };

function Chart({ series, metrics }: { series: MetricSeries; metrics: ConsoleMetrics }) {
  const shape = chartShape(series, metrics, SIZE);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${SIZE.width} ${SIZE.height}`}
      width={SIZE.width}
      height={SIZE.height}
      role="img"
      aria-label={`${series.label} per minute`}
    >
      <line x1={0} y1={SIZE.height - 0.5} x2={SIZE.width} y2={SIZE.height - 0.5} class="axis" />
      {shape.bars.map((b) => (
        <rect key={b.x} x={b.x} y={b.y} width={b.width} height={b.height} />
      ))}
      {shape.line && <polyline points={shape.line} />}
    </svg>
  );
}

function Metric({ series, metrics }: { series: MetricSeries; metrics: ConsoleMetrics }) {
  const headline = headlineOf(series);
  const peak = series.points.length ? formatMetricValue(series.unit, Math.max(...series.points.map((p) => p.v))) : '–';
  return (
    <div class="metric" data-testid="metric" data-metric-id={series.id}>
      <h3>{series.label}</h3>
      <p class="headline">
        <span data-testid="metric-value">{formatMetricValue(series.unit, headline.value)}</span> <small>{headline.caption}</small>
      </p>
      <Chart series={series} metrics={metrics} />
      <p class="hint">peak {peak} per minute</p>
    </div>
  );
}

export function MetricsPage() {
  const [minutes, setMinutes] = useState<number>(60);
  const metrics = usePoll(
    (signal) => call<ConsoleMetrics>(`/ui/metrics?minutes=${minutes}`, { signal }),
    METRICS_REFRESH_MS,
    String(minutes),
  );
  const data = metrics.data;
  return (
    <section data-testid="metrics-page">
      <h1>Metrics</h1>
      <p class="hint">
        Last{' '}
        <select value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))} aria-label="Window">
          {WINDOWS.map((m) => (
            <option key={m} value={m}>
              {m} minutes
            </option>
          ))}
        </select>{' '}
        {data && (
          <>
            up to {formatClock(data.end)} UTC, one point per minute, from {data.source === 'local' ? 'this runtime' : 'CloudWatch'}; the
            CloudWatch dashboard's own definitions.
          </>
        )}
      </p>
      <ErrorText text={metrics.error} testId="metrics-error" />
      {data && (
        <div class="metrics">
          {data.series.map((s) => (
            <Metric key={s.id} series={s} metrics={data} />
          ))}
        </div>
      )}
    </section>
  );
}
