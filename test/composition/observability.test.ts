/**
 * What a handler writes to its log (CloudWatch Logs bills every byte): the middleware chain of every
 * non-HTTP function, with metrics on as deployed, its output read from the process's own streams.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeLambdaContext } from '../../local/stand-ins/sqs-event-source';

let written: string[];

beforeEach(() => {
  written = [];
  // Powertools writes through a Console on process.stdout/stderr: capture those, write nothing.
  const capture = (chunk: string | Uint8Array): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  vi.resetModules();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function chain() {
  const { eventHandler } = await import('../../functions/composition/event-handler');
  const { taskMetrics, metricsEnabled } = await import('../../functions/composition/observability');
  expect(metricsEnabled).toBe(true);
  return { eventHandler, taskMetrics };
}

describe('the handler middleware with metrics on', () => {
  it('writes nothing for an invocation that recorded no metrics (no "No application metrics to publish" warning)', async () => {
    const { eventHandler } = await chain();
    const handler = eventHandler(async () => 'done');
    await expect(handler({}, fakeLambdaContext('quiet', 10_000))).resolves.toBe('done');
    expect(written.join('')).not.toContain('No application metrics');
    expect(written).toEqual([]);
  });

  it('still writes the metrics an invocation records, as one EMF line each', async () => {
    const { eventHandler, taskMetrics } = await chain();
    const handler = eventHandler(async () => {
      taskMetrics.count('TasksSubmitted', 'cost');
      return 'done';
    });
    await handler({}, fakeLambdaContext('counting', 10_000));
    const lines = written.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ TasksSubmitted: 1, AgentType: 'cost', _aws: { CloudWatchMetrics: [expect.anything()] } });
  });

  it('sums the cache fallbacks of an invocation into its one EMF line, with the service dimension only', async () => {
    const { eventHandler } = await chain();
    const { cacheObserver, CACHE_FALLBACK_METRIC } = await import('../../functions/composition/observability');
    const handler = eventHandler(async () => {
      for (let i = 0; i < 3; i++) cacheObserver.fallback();
      return 'done';
    });
    await handler({}, fakeLambdaContext('falling-back', 10_000));
    const lines = written.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> } };
    expect(emf[CACHE_FALLBACK_METRIC]).toEqual([1, 1, 1]);
    expect(emf._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
  });
});

describe('the task metrics a process listens to (the local runtime)', () => {
  it('hands every count, timing and gauge to the listeners as well as writing its EMF line, and stops at unsubscribe', async () => {
    const { taskMetrics } = await chain();
    const { onTaskMetric } = await import('../../functions/composition/observability');
    const seen: unknown[] = [];
    const stop = onTaskMetric((event) => seen.push(event));
    taskMetrics.count('TasksSubmitted', 'cost');
    taskMetrics.timing('QueueWait', 120, 'cost');
    taskMetrics.gauge('WaitingTasks', 4, 'cost');
    stop();
    taskMetrics.count('TasksSubmitted', 'cost');
    expect(seen).toEqual([
      { kind: 'count', name: 'TasksSubmitted', agentType: 'cost', value: 1 },
      { kind: 'timing', name: 'QueueWait', agentType: 'cost', value: 120 },
      { kind: 'gauge', name: 'WaitingTasks', agentType: 'cost', value: 4 },
    ]);
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatchObject({ WaitingTasks: 4, AgentType: 'cost' });
  });
});

describe('the WaitingTasks gauge in the EMF lines', () => {
  const emfLines = () =>
    written
      .join('')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { Timestamp: number } });

  it("writes a line for a minute's first value and its new maxima only, stamped with the minute it was decided in; listeners see every value", async () => {
    const minute = Date.UTC(2030, 0, 1, 12, 0);
    vi.useFakeTimers({ toFake: ['Date'], now: minute + 1_000 });
    try {
      const { taskMetrics } = await chain();
      const { onTaskMetric } = await import('../../functions/composition/observability');
      const seen: number[] = [];
      const stop = onTaskMetric((event) => seen.push(event.value));
      for (const [value, at] of [
        [3, 1_000],
        [2, 2_000],
        [3, 3_000],
        [5, 4_000],
        [1, 59_999],
        [1, 60_000],
        [1, 61_000],
      ] as const) {
        vi.setSystemTime(minute + at);
        taskMetrics.gauge('WaitingTasks', value, 'cost');
      }
      taskMetrics.gauge('WaitingTasks', 1, 'planner');
      stop();
      expect(seen).toEqual([3, 2, 3, 5, 1, 1, 1, 1]);
      const lines = emfLines();
      expect(lines.map((l) => [l.WaitingTasks, l.AgentType, l._aws.Timestamp])).toEqual([
        [3, 'cost', minute + 1_000],
        [5, 'cost', minute + 4_000],
        [1, 'cost', minute + 60_000],
        [1, 'planner', minute + 61_000],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('still writes every count and timing, equal or not', async () => {
    const { taskMetrics } = await chain();
    for (let i = 0; i < 3; i++) {
      taskMetrics.count('TasksSubmitted', 'cost');
      taskMetrics.timing('QueueWait', 120, 'cost');
    }
    expect(emfLines()).toHaveLength(6);
  });
});
