/**
 * `optiinfra console --stack`'s GET /ui/metrics: the GetMetricData request made of the contract's
 * series definitions (the dashboard's own SEARCH expressions), and its answer mapped to the shape
 * the local runtime answers. Pure: the CloudWatch call itself is driven against a stand-in in
 * test/integration/console-command.test.ts.
 */
import { CONSOLE_SERIES, consoleMetricsSchema } from '@optiinfra/contract/dashboard-metrics';
import { describe, expect, it } from 'vitest';
import { consoleMetricsOf, metricDataRequest, resultProblems } from '../../packages/cli/src/cloudwatch-metrics';

const NOW = Date.parse('2026-12-02T10:30:25.000Z');
const at = (hhmm: string) => new Date(`2026-12-02T${hhmm}:00.000Z`);

describe('the GetMetricData request', () => {
  it('asks for each console series as its dashboard SEARCH combined across agent types, one point a minute', () => {
    const request = metricDataRequest(60, NOW);
    expect(request.MetricDataQueries.map((q) => q.Id)).toEqual(CONSOLE_SERIES.map((s) => s.id));
    const byId = Object.fromEntries(request.MetricDataQueries.map((q) => [q.Id, q]));
    expect(byId.submitted).toEqual({
      Id: 'submitted',
      Expression: `SUM(SEARCH('{OptiInfra/Orchestrator,AgentType,service} MetricName="TasksSubmitted"', 'Sum', 60))`,
      Label: 'submitted',
      Period: 60,
      ReturnData: true,
    });
    expect(byId.dispatch_latency_p99?.Expression).toBe(
      `MAX(SEARCH('{OptiInfra/Orchestrator,AgentType,service} MetricName="DispatchLatency"', 'p99', 60))`,
    );
    expect(byId.waiting_tasks?.Expression).toBe(
      `SUM(SEARCH('{OptiInfra/Orchestrator,AgentType,service} MetricName="WaitingTasks"', 'Maximum', 60))`,
    );
  });

  it('covers the last `minutes` whole minutes, the current one included, oldest first', () => {
    const request = metricDataRequest(60, NOW);
    expect(request.EndTime.toISOString()).toBe('2026-12-02T10:31:00.000Z');
    expect(request.StartTime.toISOString()).toBe('2026-12-02T09:31:00.000Z');
    expect(request.ScanBy).toBe('TimestampAscending');
    expect(metricDataRequest(1, NOW).StartTime.toISOString()).toBe('2026-12-02T10:30:00.000Z');
  });
});

describe('the answer of GET /ui/metrics made of GetMetricData results', () => {
  const results = [
    { Id: 'submitted', Timestamps: [at('10:28'), at('10:29')], Values: [4, 6], StatusCode: 'PartialData' },
    // The next page of the same query carries the later points.
    { Id: 'submitted', Timestamps: [at('10:30')], Values: [2], StatusCode: 'Complete' },
    { Id: 'dispatch_latency_p99', Timestamps: [at('10:29'), at('10:28')], Values: [812.5, 640], StatusCode: 'Complete' },
    { Id: 'failed', Timestamps: [], Values: [], StatusCode: 'Complete' },
  ];

  it('has every series, points oldest first, and a count series the window total', () => {
    const answer = consoleMetricsOf(results, 60, NOW);
    expect(consoleMetricsSchema.safeParse(answer).success).toBe(true);
    expect(answer).toMatchObject({ source: 'cloudwatch', minutes: 60, period_seconds: 60, end: '2026-12-02T10:30:25.000Z' });
    expect(answer.series.map((s) => s.id)).toEqual(CONSOLE_SERIES.map((s) => s.id));
    const byId = Object.fromEntries(answer.series.map((s) => [s.id, s]));
    expect(byId.submitted).toEqual({
      id: 'submitted',
      label: 'submitted',
      unit: 'Count',
      total: 12,
      points: [
        { t: '2026-12-02T10:28:00.000Z', v: 4 },
        { t: '2026-12-02T10:29:00.000Z', v: 6 },
        { t: '2026-12-02T10:30:00.000Z', v: 2 },
      ],
    });
    expect(byId.dispatch_latency_p99).toEqual({
      id: 'dispatch_latency_p99',
      label: 'dispatch latency p99',
      unit: 'Milliseconds',
      points: [
        { t: '2026-12-02T10:28:00.000Z', v: 640 },
        { t: '2026-12-02T10:29:00.000Z', v: 812.5 },
      ],
    });
    expect(byId.failed).toMatchObject({ points: [], total: 0 });
    expect(byId.waiting_tasks).toEqual({ id: 'waiting_tasks', label: 'waiting tasks', unit: 'Count', points: [] });
  });

  it('says which queries CloudWatch refused or could not answer', () => {
    expect(resultProblems(results)).toBeUndefined();
    expect(
      resultProblems([
        ...results,
        { Id: 'queue_wait_p50', StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access to namespace' }] },
        { Id: 'completed', StatusCode: 'InternalError' },
      ]),
    ).toBe('queue_wait_p50: Forbidden (no access to namespace); completed: InternalError');
  });
});
