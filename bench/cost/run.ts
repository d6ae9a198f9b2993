/**
 * Runs tasks through the local runtime in this process, with the meter on every AWS client,
 * function and workflow event, and answers what each scenario cost per task.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { tempDir } from '../../harness/processes';
import { LOCAL_AWS, LOCAL_CREDENTIALS } from '../../local/provision';
import { startRedis } from '../../local/stand-ins/redis-launcher';
import { startRuntime } from '../../local/runtime';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { acceptedScenarios } from './accepted';
import { CacheStatsReader } from './cache-stats';
import { tableSpecs } from './dynamo-units';
import { type Counts, Meter } from './meter';
import { lambdaSpecs, workflowLogLevels } from './template-specs';
import { waitReadScenarios } from './wait-reads';

export interface CostOptions {
  /** Tasks per scenario (the retried scenario runs at most 50, the waiting one `waitingTasks`). */
  tasks: number;
  /** How long each waiting task waits for a free agent, really. */
  waitSeconds: number;
  waitingTasks: number;
  /** How long the agent of the accepted scenario works before it reports (0: no accepted scenarios). */
  acceptedSeconds?: number;
  /** The N of the waiting reads measured (GET /tasks/{id}?wait=N, each held N s); none: no such scenario. */
  readWaits?: readonly number[];
  log?: (line: string) => void;
}

export interface ScenarioMeasure {
  name: string;
  description: string;
  tasks: number;
  /** Billed units per task (per task-minute of waiting for the waiting scenario). */
  perTask: Counts;
  /** What agents' registrations and heartbeats and the reconciler cost meanwhile (not per task). */
  fleet: Counts;
  /** How the figures were derived, when not simply divided by the number of tasks. */
  note?: string;
}

export const SCENARIOS = ['express', 'standard', 'retried', 'waiting', 'large'] as const;

/** Tasks in flight at once while measuring. */
const WAVE = 10;
const kb = (n: number) => 'x'.repeat(n * 1024 - 40);
// Short tasks run on Express (all attempts fit in its 5 minutes); two 300 s attempts need Standard.
const EXPRESS_TASK = { timeout_seconds: 30, max_retries: 1 };
const STANDARD_TASK = { timeout_seconds: 300, max_retries: 1 };

const diff = (after: Counts, before: Counts, divisor: number): Counts =>
  Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - (before[k] ?? 0)) / divisor]));

export async function measureCost(options: CostOptions): Promise<ScenarioMeasure[]> {
  const log = options.log ?? (() => undefined);
  const template = await synthesizedTemplate();
  const tables = tableSpecs(template);
  const data = tempDir('optiinfra-cost-');
  const stops: Array<() => Promise<void> | void> = [() => data.remove()];
  try {
    const redis = await startRedis({});
    if (redis.kind === 'none') throw new Error('npm run cost needs redis-server on PATH: the cache commands are counted by it');
    stops.push(() => redis.stop());
    const meter = new Meter(tables, lambdaSpecs(template), workflowLogLevels(template));
    stops.push(() => meter.close());
    // Executions running per task (an execution's name is the task id and a time stamp).
    const running = new Map<string, number>();
    const taskOf = (name: string) => name.replace(/\.\d+$/, '');
    const ended = new Set<string>();
    meter.captureLogs();
    const runtime = await startRuntime({
      host: '127.0.0.1',
      port: 0,
      dataDir: data.dir,
      log: () => undefined,
      // As deployed: Powertools' default log level (INFO) and EMF metrics on.
      env: { LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false', CACHE_URL: redis.url },
      instrument: {
        awsClient: meter.instrumentClient,
        handler: meter.wrapHandler,
        onWorkflowEvent: (arn, event) => {
          if (event.type === 'ExecutionStarted') {
            const id = taskOf(arn.split(':')[7] ?? '');
            running.set(id, (running.get(id) ?? 0) + 1);
          }
          meter.onWorkflowEvent(arn, event);
        },
        onExecutionEnd: (info) => {
          const id = taskOf(info.name);
          running.set(id, (running.get(id) ?? 1) - 1);
          ended.add(id);
          meter.onExecutionEnd(info);
        },
      },
    });
    stops.push(() => runtime.stop());
    const cache = new CacheStatsReader(redis.url);
    stops.push(() => cache.close());
    const reader = new DynamoDBClient({
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: LOCAL_AWS.region,
      credentials: LOCAL_CREDENTIALS,
    });
    stops.push(() => reader.destroy());
    const agents: AgentProcess[] = [];
    stops.push(() => Promise.all(agents.map((a) => a.stop())).then(() => undefined));
    const agent = async (options: Parameters<typeof startFaultAgent>[1]) => {
      const started = await startFaultAgent(runtime.url, options);
      agents.push(started);
      return started;
    };

    const submit = async (body: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${runtime.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as { task_id?: string };
      if (res.status !== 201 && res.status !== 202) throw new Error(`POST /tasks answered ${res.status}: ${JSON.stringify(answer)}`);
      return answer.task_id!;
    };
    const statusOf = async (id: string) =>
      (await reader.send(new GetItemCommand({ TableName: process.env.TASKS_TABLE, Key: { task_id: { S: id } }, ConsistentRead: true })))
        .Item?.status?.S;
    /** Waits (bounded) until every task is terminal and no execution runs; then the client reads each task once. */
    const settle = async (ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      const pending = new Set(ids);
      while (pending.size > 0 || ids.some((id) => (running.get(id) ?? 0) > 0)) {
        if (Date.now() > deadline) throw new Error(`${pending.size} task(s) did not end within ${timeoutMs} ms`);
        for (const id of [...pending]) {
          if (!ended.has(id)) continue;
          const status = await statusOf(id);
          if (status && ['completed', 'failed', 'timeout', 'cancelled'].includes(status)) pending.delete(id);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const id of ids) {
        const res = await fetch(`${runtime.url}/tasks/${id}`);
        const task = (await res.json()) as { status?: string };
        if (task.status !== 'completed') throw new Error(`task ${id} ended ${task.status}, expected completed`);
      }
    };
    /** Waits (bounded) until the executions of these tasks ended: tasks an agent accepted (202) and still works on. */
    const quiet = async (ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !ended.has(id) || (running.get(id) ?? 0) > 0)) {
        if (Date.now() > deadline) throw new Error(`the executions of ${ids.length} task(s) did not end within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const submitAll = async (n: number, body: Record<string, unknown>) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 20) ids.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => submit(body)))));
      return ids;
    };
    const measure = async (run: () => Promise<number>) => {
      const before = meter.snapshot();
      const cacheBefore = await cache.read();
      const divisor = await run();
      const after = meter.snapshot();
      const cacheAfter = await cache.read();
      after.task['cache.commands'] = (after.task['cache.commands'] ?? 0) + cacheAfter.commands - cacheBefore.commands;
      after.task['cache.bytes'] = (after.task['cache.bytes'] ?? 0) + cacheAfter.bytes - cacheBefore.bytes;
      return { perTask: diff(after.task, before.task, divisor), fleet: diff(after.fleet, before.fleet, 1) };
    };

    const results: ScenarioMeasure[] = [];
    const n = options.tasks;
    log('runtime started; starting the agents');
    // The busy agent of the waiting scenario starts now, beside the others: starting agents takes seconds.
    const [, busy] = await Promise.all([
      agent({ mode: 'ok', type: 'bench', name: 'bench-ok' }),
      agent({ mode: 'hang', type: 'bench-wait', name: 'bench-busy', maxConcurrency: options.waitingTasks }),
    ]);
    const simple = async (name: string, description: string, count: number, body: Record<string, unknown>) => {
      log(`${name}: ${count} task(s)`);
      const m = await measure(async () => {
        // In waves of WAVE tasks: all at once, the handlers would share this process's CPU and their
        // measured durations would grow with the crowd; on AWS each invocation has its own.
        for (let i = 0; i < count; i += WAVE) await settle(await submitAll(Math.min(WAVE, count - i), body), 120_000);
        return count;
      });
      results.push({ name, description, tasks: count, ...m });
    };
    const task = (params: Record<string, unknown>, shape: object) => ({
      task_type: 'work',
      agent_type: 'bench',
      parameters: params,
      ...shape,
    });
    // Warm-up, not counted: the first calls of each function open connections a warm Lambda keeps.
    await settle(await submitAll(4, task({ data: kb(1) }, EXPRESS_TASK)), 60_000);
    await simple('express', 'happy path on Express, 1 KB parameters and result', n, task({ data: kb(1) }, EXPRESS_TASK));
    await simple('standard', 'happy path on Standard, 1 KB parameters and result', n, task({ data: kb(1) }, STANDARD_TASK));
    // One task in four fails once: a real fleet's share. Were they all to fail, the agent's circuit
    // would open and the tasks would wait for it; their cost is the mix's less three happy tasks each.
    const retried = Math.min(n, 50);
    log(`retried: ${retried} task(s) that fail once, among ${3 * retried} that do not`);
    const mix = await measure(async () => {
      // Waves of 4 x WAVE: the retry delay is waited out once per wave.
      for (let i = 0; i < 4 * retried; i += 4 * WAVE) {
        const ids = await Promise.all(
          Array.from({ length: Math.min(4 * WAVE, 4 * retried - i) }, (_, j) =>
            submit(task({ data: kb(1), ...(j % 4 === 0 ? { fail_first: 1 } : {}) }, EXPRESS_TASK)),
          ),
        );
        await settle(ids, 120_000);
      }
      return retried;
    });
    const happy = results[0]!.perTask;
    results.push({
      name: 'retried',
      description: 'fails once (HTTP 500), retried after RETRY_BASE_DELAY_SECONDS, completes',
      tasks: retried,
      perTask: Object.fromEntries(Object.entries(mix.perTask).map(([u, v]) => [u, Math.max(0, v - 3 * (happy[u] ?? 0))])),
      fleet: mix.fleet,
      note: `Measured among ${3 * retried} tasks that do not fail (one in four fails, so the agent's circuit stays closed); their cost, the Express happy path's, taken out`,
    });
    await simple('large', 'happy path on Express, 10 KB parameters and 10 KB result', n, task({ data: kb(10) }, EXPRESS_TASK));
    results.push(await waiting(options, busy, { agent, submitAll, settle, measure, log }));
    if (options.acceptedSeconds)
      results.push(...(await acceptedScenarios(n, options.acceptedSeconds, { url: runtime.url, submitAll, settle, measure, log, stops })));
    const reads = Math.min(n, 20);
    results.push(...(await waitReadScenarios(options.readWaits ?? [], reads, { url: runtime.url, submitAll, quiet, measure, log, stops })));
    return results;
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

interface WaitingDeps {
  agent: (options: Parameters<typeof startFaultAgent>[1]) => Promise<AgentProcess>;
  submitAll: (n: number, body: Record<string, unknown>) => Promise<string[]>;
  settle: (ids: string[], timeoutMs: number) => Promise<void>;
  measure: (run: () => Promise<number>) => Promise<{ perTask: Counts; fleet: Counts }>;
  log: (line: string) => void;
}

/**
 * Tasks that wait for a free agent: an agent that never answers is kept busy by as many Standard
 * tasks as it takes; the waiting tasks (Express) are submitted, and after `waitSeconds` a free agent
 * registers and takes them. Their cost less the happy path's, over the minutes they really waited
 * (submission to delivery), is the cost of a task-minute of waiting.
 */
async function waiting(options: CostOptions, busy: AgentProcess, deps: WaitingDeps): Promise<ScenarioMeasure> {
  const k = options.waitingTasks;
  const body = { task_type: 'work', agent_type: 'bench-wait', parameters: { data: kb(1) } };
  await deps.submitAll(k, { ...body, ...STANDARD_TASK });
  const deadline = Date.now() + 30_000;
  while (busy.deliveries().length < k) {
    if (Date.now() > deadline) throw new Error('the busy agent did not get its tasks');
    await new Promise((r) => setTimeout(r, 50));
  }
  deps.log(`waiting: ${k} task(s) wait ${options.waitSeconds} s for a free agent`);
  let waitedSeconds = 0;
  let free: AgentProcess | undefined;
  const waited = await deps.measure(async () => {
    const submittedAt = Date.now();
    const ids = await deps.submitAll(k, { ...body, ...EXPRESS_TASK });
    await new Promise((r) => setTimeout(r, options.waitSeconds * 1000));
    free = await deps.agent({ mode: 'ok', type: 'bench-wait', name: 'bench-free' });
    await deps.settle(ids, 120_000);
    const deliveries = free.deliveries().filter((d) => ids.includes(d.task_id));
    waitedSeconds = deliveries.reduce((s, d) => s + (Date.parse(d.time) - submittedAt) / 1000, 0) / Math.max(1, deliveries.length);
    return k;
  });
  // The same tasks again, now that an agent is free: what they cost without waiting, at the same concurrency.
  const unwaited = await deps.measure(async () => {
    await deps.settle(await deps.submitAll(k, { ...body, ...EXPRESS_TASK }), 60_000);
    return k;
  });
  const minutes = waitedSeconds / 60;
  const perMinute = Object.fromEntries(
    Object.entries(waited.perTask).map(([unit, v]) => [unit, Math.max(0, v - (unwaited.perTask[unit] ?? 0)) / minutes]),
  );
  return {
    name: 'waiting',
    description: 'waits for a free agent (per task-minute of waiting, Express)',
    tasks: k,
    perTask: perMinute,
    fleet: waited.fleet,
    note: `${k} task(s) waited ${waitedSeconds.toFixed(1)} s each (measured, submission to delivery); (their cost - that of ${k} such tasks that did not wait) / ${minutes.toFixed(2)} min: a one-minute wait is extrapolated linearly from the measured one`,
  };
}
