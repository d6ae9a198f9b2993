/** How the console page writes durations, times and metric values, and lays out its small charts. */
import { describe, expect, it } from 'vitest';
import type { ConsoleMetricsSeries as MetricSeries } from '@optiinfra/contract/dashboard-metrics';
import { chartShape, headlineOf } from '../../packages/console/app/chart';
import {
  durationBetween,
  formatAgo,
  formatClock,
  formatDuration,
  formatMetricValue,
  prettyJson,
  shortId,
} from '../../packages/console/app/format';

const NOW = Date.parse('2026-12-02T10:00:00.000Z');

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [849.6, '850 ms'],
    [2_345, '2.3 s'],
    [59_949, '59.9 s'],
    [245_000, '4 m 05 s'],
    [7_380_000, '2 h 03 m'],
    [-1, '–'],
    [Number.NaN, '–'],
  ])('writes %s ms as "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('durationBetween', () => {
  it('measures between two times, or up to now while the end is not known', () => {
    expect(durationBetween('2026-12-02T09:59:58.000Z', '2026-12-02T09:59:59.500Z', NOW)).toBe(1_500);
    expect(durationBetween('2026-12-02T09:59:30.000Z', undefined, NOW)).toBe(30_000);
    expect(durationBetween(undefined, undefined, NOW)).toBeUndefined();
    expect(durationBetween('not a time', undefined, NOW)).toBeUndefined();
  });
});

describe('formatAgo', () => {
  it.each([
    ['2026-12-02T10:00:00.500Z', 'just now'],
    ['2026-12-02T09:59:48.000Z', '12 s ago'],
    ['2026-12-02T09:57:00.000Z', '3 m ago'],
    ['2026-12-02T08:00:00.000Z', '2 h ago'],
    ['2026-11-28T10:00:00.000Z', '4 d ago'],
    ['2026-12-02T10:00:05.000Z', 'in 5 s'],
    [undefined, '–'],
  ])('writes %s as "%s"', (iso, text) => {
    expect(formatAgo(iso, NOW)).toBe(text);
  });
});

describe('the other formats', () => {
  it('gives the UTC time of day, whatever the browser zone', () => {
    expect(formatClock('2026-12-02T03:04:05.678Z')).toBe('03:04:05');
    expect(formatClock(undefined)).toBe('–');
  });

  it('writes counts with thousands apart and latencies as durations', () => {
    expect(formatMetricValue('Count', 1234567)).toBe('1 234 567');
    expect(formatMetricValue('Count', 12)).toBe('12');
    expect(formatMetricValue('Milliseconds', 1_520)).toBe('1.5 s');
    expect(formatMetricValue('Count', undefined)).toBe('–');
  });

  it('shortens ids to their first group and lays JSON out, even JSON it cannot', () => {
    expect(shortId('447c732f-eaea-4a64-a438-9d85f9dbfb39')).toBe('447c732f');
    expect(prettyJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson(10n)).toBe('10');
  });
});

const END = '2026-12-02T10:00:00.000Z';
const series = (over: Partial<MetricSeries>): MetricSeries => ({ id: 'submitted', label: 'Submitted', unit: 'Count', points: [], ...over });

describe('headlineOf', () => {
  it('sums a count over the window (its total when given)', () => {
    const points = [
      { t: '2026-12-02T09:58:00.000Z', v: 3 },
      { t: '2026-12-02T09:59:00.000Z', v: 4 },
    ];
    expect(headlineOf(series({ points }))).toEqual({ value: 7, caption: 'in the window' });
    expect(headlineOf(series({ points, total: 9 }))).toEqual({ value: 9, caption: 'in the window' });
  });

  it('gives the latest minute of a latency, and of the waiting tasks (a level, not a flow)', () => {
    const points = [
      { t: '2026-12-02T09:58:00.000Z', v: 120 },
      { t: '2026-12-02T09:59:00.000Z', v: 80 },
    ];
    expect(headlineOf(series({ id: 'dispatch_latency_p99', unit: 'Milliseconds', points }))).toEqual({
      value: 80,
      caption: 'latest minute',
    });
    expect(headlineOf(series({ id: 'waiting_tasks', points, total: 200 }))).toEqual({ value: 80, caption: 'latest minute' });
    expect(headlineOf(series({ id: 'queue_wait_p50', unit: 'Milliseconds' })).value).toBeUndefined();
  });
});

describe('chartShape', () => {
  const size = { width: 60, height: 30 };
  const window = { end: END, minutes: 6 };

  it('draws a count as one bar per minute with a value, the oldest minute on the left, the largest full height', () => {
    const shape = chartShape(
      series({
        points: [
          { t: '2026-12-02T09:54:00.000Z', v: 2 },
          { t: '2026-12-02T09:57:00.000Z', v: 0 },
          { t: '2026-12-02T09:59:00.000Z', v: 4 },
          // Outside the window: left out.
          { t: '2026-12-02T09:40:00.000Z', v: 9 },
        ],
      }),
      window,
      size,
    );
    expect(shape.kind).toBe('bars');
    expect(shape.bars).toEqual([
      { x: 0, y: 15, width: 9, height: 15 },
      { x: 50, y: 0, width: 9, height: 30 },
    ]);
  });

  it('draws a latency as a line through the minutes that have one, at the middle of each minute', () => {
    const shape = chartShape(
      series({
        id: 'dispatch_latency_p50',
        unit: 'Milliseconds',
        points: [
          { t: '2026-12-02T09:55:00.000Z', v: 50 },
          { t: '2026-12-02T09:58:00.000Z', v: 100 },
        ],
      }),
      window,
      size,
    );
    expect(shape).toEqual({ kind: 'line', bars: [], line: '15,15 45,0', max: 100 });
  });

  it('draws nothing for a series without points', () => {
    expect(chartShape(series({}), window, size)).toEqual({ kind: 'bars', bars: [], line: '', max: 0 });
  });
});
