import type { ConsoleMetricsSeries as MetricSeries } from '@optiinfra/contract/dashboard-metrics';

/** What a small chart draws: bars for counts per minute, a line through the minutes that have a value for latencies. */
export interface ChartShape {
  kind: 'bars' | 'line';
  /** Bars: one rectangle per minute with a value above 0. */
  bars: Array<{ x: number; y: number; width: number; height: number }>;
  /** Line: the points' coordinates, "x,y x,y ...", for an SVG polyline. */
  line: string;
  /** The value at the chart's top. */
  max: number;
}

/** Series that are a level at each minute (a gauge), so their headline is the latest value, not a sum. */
const LEVELS = new Set<string>(['waiting_tasks']);

/** The number a series is summed up by: the window's total for counts, the latest value for levels and latencies. */
export function headlineOf(series: MetricSeries): { value: number | undefined; caption: string } {
  const latest = series.points.at(-1)?.v;
  if (series.unit === 'Count' && !LEVELS.has(series.id)) {
    return { value: series.total ?? series.points.reduce((sum, p) => sum + p.v, 0), caption: 'in the window' };
  }
  return { value: latest, caption: 'latest minute' };
}

/**
 * Lays a series out in a width × height box over the window that ends at `end`, one slot per
 * minute, oldest on the left. Minutes without a point have no data: a count of 0, a latency not measured.
 */
export function chartShape(
  series: MetricSeries,
  window: { end: string; minutes: number },
  size: { width: number; height: number },
): ChartShape {
  const endMs = Date.parse(window.end);
  const slot = size.width / window.minutes;
  const placed = series.points
    .map((p) => ({ index: window.minutes - Math.ceil((endMs - Date.parse(p.t)) / 60_000), v: p.v }))
    .filter((p) => p.index >= 0 && p.index < window.minutes);
  const max = Math.max(0, ...placed.map((p) => p.v));
  const scale = (v: number) => (max === 0 ? 0 : (v / max) * size.height);
  const round = (n: number) => Math.round(n * 10) / 10;
  if (series.unit === 'Count') {
    const bars = placed
      .filter((p) => p.v > 0)
      .map((p) => ({
        x: round(p.index * slot),
        y: round(size.height - scale(p.v)),
        width: round(Math.max(1, slot - 1)),
        height: round(scale(p.v)),
      }));
    return { kind: 'bars', bars, line: '', max };
  }
  const line = placed.map((p) => `${round((p.index + 0.5) * slot)},${round(size.height - scale(p.v))}`).join(' ');
  return { kind: 'line', bars: [], line, max };
}
