/**
 * Waiting without polling on the local runtime (in this process, so every dispatcher invocation is
 * counted), with a real redis-server and a real agent process: tasks that find the agent full park
 * and cost no invocation while nothing frees; a freed slot starts the highest priority first, then
 * the oldest; a cancelled waiter is never delivered; the console's figures count them; an agent that
 * registers hands its free slot to a waiter (the agents API starts it: test/iam counts on that call).
 */
import { consoleMetricsSchema } from '@optiinfra/contract/dashboard-metrics';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, waitForTask, waitForTasks } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { functionBySource } from '../../local/provision';
import { type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';
import { type Runtime, startRuntime } from '../../local/runtime';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { call } from '../support/checked-call';

let runtime: Runtime;
let redis: RedisInstance;
const data = tempDir('optiinfra-waiting-');
const agents: AgentProcess[] = [];
let dispatches = 0;

beforeAll(async () => {
  redis = await startRedis({ env: { PATH: process.env.PATH } });
  if (redis.kind === 'none') throw new Error('this test needs redis-server on PATH');
  const dispatcher = functionBySource(await synthesizedTemplate(), 'handlers/dispatcher.ts');
  runtime = await startRuntime({
    host: '127.0.0.1',
    port: 0,
    dataDir: data.dir,
    log: () => undefined,
    env: { CACHE_URL: redis.url, HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_PERSIST_SECONDS: '2', AGENT_POLL_SECONDS: '1' },
    instrument: {
      handler: (logicalId, handler) =>
        logicalId === dispatcher
          ? async (event, context) => {
              dispatches += 1;
              return handler(event, context);
            }
          : handler,
    },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await runtime?.stop();
  if (redis && redis.kind !== 'none') await redis.stop();
  data.remove();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(runtime.url, 'POST', '/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

it('parks tasks while the agent is full, with no dispatcher invocation; a freed slot starts the highest priority, then the oldest', async () => {
  // An agent of capacity 1 that never answers: each attempt ends at its timeout, which frees the slot.
  const agent = await startFaultAgent(runtime.url, { mode: 'hang', type: 'parking', maxConcurrency: 1 });
  agents.push(agent);
  const task = (priority: number, timeout: number) => ({
    task_type: 'work',
    agent_type: 'parking',
    priority,
    timeout_seconds: timeout,
    max_retries: 0,
    queue_timeout_seconds: 120,
  });
  const blocker = await submit(task(5, 12));
  await waitForTask(runtime.url, blocker, (t) => t.status === 'sent');
  // Each waiter's attempt times out after 3 s, not 1: the agent logs a delivery once it has read it,
  // and on a loaded machine it had not read the last one within 1 s (nothing is read from a connection
  // the orchestrator closed at the timeout).
  const low = await submit(task(1, 3));
  const normal1 = await submit(task(5, 3));
  const normal2 = await submit(task(5, 3));
  const cancelled = await submit(task(15, 3));
  const critical = await submit(task(15, 3));
  const waiters = [low, normal1, normal2, cancelled, critical];
  // Each waiter runs one dispatch step, parks, and its execution ends.
  await waitUntil(
    'every waiter ran its one dispatch step',
    () => dispatches,
    (n) => n >= 1 + waiters.length,
  );
  const parked = dispatches;
  expect(parked).toBe(1 + waiters.length);
  expect((await call(runtime.url, 'DELETE', `/tasks/${cancelled}`)).status).toBe(200);
  // While the blocker holds the slot, heartbeats come and go (every second) and nothing is dispatched.
  const heartbeatsBefore = (await call<{ last_heartbeat: string }>(runtime.url, 'GET', `/agents/${agent.id}`)).body.last_heartbeat;
  await waitUntil(
    'two heartbeats later',
    async () => (await call<{ last_heartbeat: string }>(runtime.url, 'GET', `/agents/${agent.id}`)).body.last_heartbeat,
    (last) => Date.parse(last) >= Date.parse(heartbeatsBefore) + 2_000,
    { timeoutMs: 10_000 },
  );
  expect(await waitForTask(runtime.url, blocker, () => true)).toMatchObject({ status: 'sent' });
  expect(dispatches).toBe(parked);

  const done = await waitForTasks(runtime.url, [blocker, low, normal1, normal2, critical], isTerminal, 60_000);
  expect(done.map((t) => t.status)).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
  expect(agent.deliveries().map((d) => d.task_id)).toEqual([blocker, critical, normal1, normal2, low]);
  expect((await call<{ status: string }>(runtime.url, 'GET', `/tasks/${cancelled}`)).body.status).toBe('cancelled');
  // One more step per waiter: the one its wake-up started (and none for the cancelled one).
  expect(dispatches).toBe(parked + 4);

  // The console's figures, as the runtime recorded what the functions emitted (GET /ui/metrics answers them).
  const figures = consoleMetricsSchema.parse(await runtime.consoleMetrics(60));
  const series = Object.fromEntries(figures.series.map((s) => [s.id, s]));
  expect(figures).toMatchObject({ source: 'local', minutes: 60, period_seconds: 60 });
  expect(series.submitted?.total).toBe(6);
  expect(series.timed_out?.total).toBe(5);
  expect(series.completed?.total).toBe(0);
  // Five waiters parked behind the blocker: the last to park saw all five.
  expect(Math.max(...(series.waiting_tasks?.points.map((p) => p.v) ?? []))).toBe(5);
}, 90_000);

it('starts a waiting task on an agent that registers while it waits, though the agent it waited for is still full', async () => {
  const full = await startFaultAgent(runtime.url, { mode: 'hang', type: 'newcomer', maxConcurrency: 1 });
  agents.push(full);
  const blocker = await submit({ task_type: 'work', agent_type: 'newcomer', timeout_seconds: 60, max_retries: 0 });
  await waitForTask(runtime.url, blocker, (t) => t.status === 'sent');
  const before = dispatches;
  const waiter = await submit({ task_type: 'work', agent_type: 'newcomer', max_retries: 0, queue_timeout_seconds: 120 });
  // Its one dispatch step found the only agent full: it parked, and nothing polls for it.
  await waitUntil(
    'the waiter ran its dispatch step',
    () => dispatches,
    (n) => n >= before + 1,
  );
  expect(await waitForTask(runtime.url, waiter, () => true)).toMatchObject({ status: 'pending', attempts: 0 });
  // The registration (or the new agent's first heartbeat: the agents API either way) hands it the slot.
  const newcomer = await startFaultAgent(runtime.url, { mode: 'ok', type: 'newcomer' });
  agents.push(newcomer);
  const done = await waitForTask(runtime.url, waiter, isTerminal, 20_000);
  expect(done).toMatchObject({ status: 'completed', agent_id: newcomer.id, attempts: 1 });
  expect(newcomer.deliveries().map((d) => d.task_id)).toEqual([waiter]);
  // The agent it waited for still holds the blocker: no freed slot started it.
  expect(await waitForTask(runtime.url, blocker, () => true)).toMatchObject({ status: 'sent' });
  expect((await call(runtime.url, 'DELETE', `/tasks/${blocker}`)).status).toBe(200);
}, 60_000);
