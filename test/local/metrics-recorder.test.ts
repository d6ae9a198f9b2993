/** The local runtime's per-minute store of task metrics, answering the console's GET /ui/metrics. */
import { consoleMetricsSchema } from '@optiinfra/contract/dashboard-metrics';
import { describe, expect, it } from 'vitest';
import { MetricsRecorder, percentile, SAMPLES_PER_MINUTE } from '../../local/metrics-recorder';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function recorderAt(start: number) {
  let now = start;
  const recorder = new MetricsRecorder(() => now);
  return { recorder, advance: (ms: number) => (now += ms) };
}

const seriesOf = (answer: ReturnType<MetricsRecorder['answer']>, id: string) => answer.series.find((s) => s.id === id);

describe('MetricsRecorder', () => {
  it('sums counts per minute over every agent type, with the window total, and omits empty minutes', () => {
    const { recorder, advance } = recorderAt(T0);
    recorder.record({ kind: 'count', name: 'TasksSubmitted', agentType: 'a', value: 1 });
    recorder.record({ kind: 'count', name: 'TasksSubmitted', agentType: 'b', value: 2 });
    advance(2 * 60_000);
    recorder.record({ kind: 'count', name: 'TasksSubmitted', agentType: 'a', value: 1 });
    const answer = consoleMetricsSchema.parse(recorder.answer(60));
    expect(seriesOf(answer, 'submitted')).toEqual({
      id: 'submitted',
      label: 'submitted',
      unit: 'Count',
      points: [
        { t: new Date(T0).toISOString(), v: 3 },
        { t: new Date(T0 + 120_000).toISOString(), v: 1 },
      ],
      total: 4,
    });
    expect(seriesOf(answer, 'failed')).toMatchObject({ points: [], total: 0 });
    expect(answer).toMatchObject({ source: 'local', minutes: 60, period_seconds: 60, end: new Date(T0 + 120_000).toISOString() });
  });

  it("answers timings' p50 and p99 per type and shows the worst type's, and the gauges' maxima summed over types", () => {
    const { recorder } = recorderAt(T0);
    for (let ms = 1; ms <= 100; ms++) recorder.record({ kind: 'timing', name: 'DispatchLatency', agentType: 'fast', value: ms });
    for (let ms = 1; ms <= 100; ms++) recorder.record({ kind: 'timing', name: 'DispatchLatency', agentType: 'slow', value: ms * 10 });
    for (const v of [3, 7, 2]) recorder.record({ kind: 'gauge', name: 'WaitingTasks', agentType: 'fast', value: v });
    recorder.record({ kind: 'gauge', name: 'WaitingTasks', agentType: 'slow', value: 4 });
    const answer = recorder.answer(5);
    expect(seriesOf(answer, 'dispatch_latency_p50')?.points).toEqual([{ t: new Date(T0).toISOString(), v: 500 }]);
    expect(seriesOf(answer, 'dispatch_latency_p99')?.points).toEqual([{ t: new Date(T0).toISOString(), v: 990 }]);
    expect(seriesOf(answer, 'dispatch_latency_p99')).not.toHaveProperty('total');
    expect(seriesOf(answer, 'waiting_tasks')?.points).toEqual([{ t: new Date(T0).toISOString(), v: 11 }]);
  });

  it('keeps a bounded sample of timings per minute, and forgets minutes older than three hours', () => {
    const { recorder, advance } = recorderAt(T0);
    for (let i = 0; i < SAMPLES_PER_MINUTE * 4; i++) recorder.record({ kind: 'timing', name: 'QueueWait', agentType: 'a', value: 100 });
    expect(seriesOf(recorder.answer(1), 'queue_wait_p50')?.points).toEqual([{ t: new Date(T0).toISOString(), v: 100 }]);
    recorder.record({ kind: 'count', name: 'TasksCompleted', agentType: 'a', value: 1 });
    advance(180 * 60_000);
    expect(seriesOf(recorder.answer(180), 'completed')?.total).toBe(0);
    expect(seriesOf(recorder.answer(180), 'queue_wait_p50')?.points).toEqual([]);
  });

  it.each([
    [[5], 50, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 99, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
  ])('percentile(%j, %i) is %i (nearest rank)', (sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });
});
