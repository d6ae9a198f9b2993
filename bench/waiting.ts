/**
 * Benchmark: tasks waiting for a free agent, parked in the cache instead of polling.
 *
 *   npm run bench:waiting                          # 10 000 waiting tasks, a 30 s watch
 *   npm run bench:waiting -- --tasks 2000 --watch-seconds 10
 *
 * 1. On the local runtime (the same handlers, state machines and a real redis-server), one agent of
 *    capacity 1 is kept busy by a task it never answers; `--tasks` tasks are submitted for it. Each
 *    runs one dispatch step, parks, and its execution ends. Then, for `--watch-seconds` (agent
 *    heartbeats and the reconciler's sweeps included), the dispatcher must not be invoked at all.
 * 2. The cache's operations on one pool's waiting set are timed at 100, 1 000 and 10 000 waiting
 *    tasks (a real redis-server, one connection, round trip included): park (the slot script on a
 *    full agent), leave (cancel), a freed slot handed to the first waiter and taken by it, a
 *    heartbeat's wake-up on a full agent, and the reconciler's sweep, 500 times each. They stay flat
 *    (O(log n)); at 10 000 waiting each must have p99 <= 2 ms.
 */
import { parseArgs } from 'node:util';
import { RedisTaskCache } from '../functions/adapters/redis-task-cache';
import type { SlotRequest, WakeRequest } from '../functions/core/cache-port';
import { waitingScore } from '../functions/core/waiting-queue';
import { startFaultAgent } from '../harness/agents';
import { tempDir } from '../harness/processes';
import { startRedis } from '../local/stand-ins/redis-launcher';
import { startRuntime } from '../local/runtime';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '10000' }, 'watch-seconds': { type: 'string', default: '30' } },
});
const TASKS = Number(values.tasks);
const WATCH_SECONDS = Number(values['watch-seconds']);
const SIZES = [100, 1_000, 10_000];
/** The bound at the largest size (the issue's: p99 <= 2 ms at 10 000 waiting). */
const P99_LIMIT_MS = 2;
const SAMPLES = 500;

const log = (line: string) => console.log(`[waiting] ${line}`);

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function timed(samples: number[], op: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await op();
  samples.push(performance.now() - start);
}

/** Phase 1: many tasks parked on the runtime cost no dispatcher invocation while nothing frees. */
async function parkedOnRuntime(redisUrl: string): Promise<boolean> {
  const data = tempDir('optiinfra-waiting-');
  let dispatches = 0;
  const runtime = await startRuntime({
    host: '127.0.0.1',
    port: 0,
    dataDir: data.dir,
    log: () => undefined,
    env: { CACHE_URL: redisUrl, HEARTBEAT_INTERVAL_SECONDS: '2', HEARTBEAT_PERSIST_SECONDS: '2' },
    instrument: {
      handler: (logicalId, handler) =>
        logicalId.startsWith('Dispatcher')
          ? async (event, context) => {
              dispatches += 1;
              return handler(event, context);
            }
          : handler,
    },
  });
  const agent = await startFaultAgent(runtime.url, { mode: 'hang', type: 'bench-park', name: 'bench-busy', maxConcurrency: 1 });
  try {
    const submit = async (body: Record<string, unknown>) => {
      const res = await fetch(`${runtime.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 202 && res.status !== 201) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    };
    const body = { task_type: 'work', agent_type: 'bench-park', timeout_seconds: 300, queue_timeout_seconds: 86_400 };
    await submit(body);
    for (let waited = Date.now(); agent.deliveries().length < 1; ) {
      if (Date.now() - waited > 30_000) throw new Error('the busy agent did not get its task');
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    for (let i = 0; i < TASKS; i += 25) await Promise.all(Array.from({ length: Math.min(25, TASKS - i) }, () => submit(body)));
    log(`${TASKS} tasks submitted in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting until each has parked`);
    const expected = TASKS + 1;
    for (let last = -1, since = Date.now(); dispatches < expected; ) {
      if (dispatches !== last) [last, since] = [dispatches, Date.now()];
      if (Date.now() - since > 60_000) throw new Error(`only ${dispatches} of ${expected} dispatch steps ran`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`all parked after ${((Date.now() - started) / 1000).toFixed(1)} s: ${dispatches} dispatcher invocations (one per task)`);
    const before = dispatches;
    await new Promise((r) => setTimeout(r, WATCH_SECONDS * 1000));
    const during = dispatches - before;
    log(
      `${during} dispatcher invocations in ${WATCH_SECONDS} s with ${TASKS} tasks waiting (agent heartbeats and reconciler sweeps included)`,
    );
    return during === 0 && agent.deliveries().length === 1;
  } finally {
    await agent.stop();
    await runtime.stop();
    data.remove();
  }
}

/** Phase 2: each operation on the waiting set, timed as the set grows. */
async function cacheTimings(redisUrl: string): Promise<boolean> {
  const cache = RedisTaskCache.fromUrl(redisUrl, { warn: (m) => log(m), fallback: () => undefined });
  const type = `bench-ops-${Date.now()}`;
  const pool = `${type}:work`;
  const agent = { agentId: 'solo', type };
  const eligible = [{ agentId: 'solo', capacity: 1, tier: 0 }];
  const now = Date.now();
  let n = 0;
  const request = (taskId: string, score: number): SlotRequest => ({
    agentType: type,
    pool,
    taskId,
    score,
    nowMs: Date.now(),
    leaseUntilMs: now + 3_600_000,
    queueDeadlineMs: now + 86_400_000,
    token: `t${++n}`,
    eligible,
  });
  const wake: () => WakeRequest = () => ({ agent, capacity: 1, pools: [agent.agentId, pool], nowMs: Date.now() });
  const running = await cache.acquireSlot(request('running', 0));
  if (running?.kind !== 'acquired') throw new Error('could not fill the agent');
  let slot = running.slot;
  let waiting = 0;
  let ok = true;
  console.log('\n| waiting | operation | p50 ms | p99 ms |\n|---:|---|---:|---:|');
  for (const size of SIZES) {
    for (; waiting < size; waiting++) await cache.acquireSlot(request(`w${waiting}`, waitingScore(5, now + waiting)));
    let ops: Record<string, number[]> = {};
    // The first size starts with a round that is not counted: it warms up the JIT and the connection.
    for (let i = size === SIZES[0] ? -SAMPLES : 0; i < SAMPLES; i++) {
      if (i === 0 || Object.keys(ops).length === 0)
        ops = { park: [], leave: [], 'hand over a freed slot': [], 'wake-up, agent full': [], sweep: [] };
      const probe = `probe-${size}-${i}`;
      // A newcomer parks (behind everyone) and is cancelled.
      await timed(ops.park!, () => cache.acquireSlot(request(probe, waitingScore(5, now + 1e9 + i))));
      await timed(ops.leave!, () => cache.leaveQueue(type, pool, probe));
      // The running task finishes: its slot goes to the first waiter, which takes it; a newcomer
      // parks at the back, so the set keeps its size.
      let woken: string | undefined;
      await timed(ops['hand over a freed slot']!, async () => {
        const [first] = await cache.releaseSlot(agent, slot, wake());
        woken = first?.taskId;
      });
      if (!woken) throw new Error('nobody was woken');
      const taken = await cache.acquireSlot(request(woken, waitingScore(5, now + 1e9 + 1e6 + i)));
      if (taken?.kind !== 'acquired') throw new Error(`the woken task did not get its slot: ${taken?.kind}`);
      slot = taken.slot;
      await cache.acquireSlot(request(`refill-${size}-${i}`, waitingScore(5, now + 2e9 + i)));
      await timed(ops['wake-up, agent full']!, () => cache.wakeWaiters(wake()));
      await timed(ops.sweep!, () => cache.sweepWaiters(Date.now(), 100));
    }
    for (const [name, samples] of Object.entries(ops)) {
      const { p50, p99 } = percentiles(samples);
      if (size === SIZES.at(-1) && p99 > P99_LIMIT_MS) ok = false;
      console.log(`| ${size} | ${name} | ${p50.toFixed(3)} | ${p99.toFixed(3)} |`);
    }
  }
  await cache.close();
  return ok;
}

const redis = await startRedis({});
if (redis.kind === 'none') throw new Error('npm run bench:waiting needs redis-server on PATH');
try {
  const quiet = TASKS > 0 ? await parkedOnRuntime(redis.url) : true;
  const flat = await cacheTimings(redis.url);
  console.log(
    `\n${quiet ? 'PASS' : 'FAIL'}: no dispatcher invocation while ${TASKS} tasks wait and nothing frees\n${flat ? 'PASS' : 'FAIL'}: every operation on the waiting set has p99 <= ${P99_LIMIT_MS} ms at ${SIZES.at(-1)} waiting`,
  );
  process.exitCode = quiet && flat ? 0 : 1;
} finally {
  await redis.stop();
}
// The handlers ran in this process, and their module-level clients (the cache's among them) outlive
// the runtime's stop and keep reconnecting to the stopped redis-server: end here, as npm run cost does.
process.exit(process.exitCode);
