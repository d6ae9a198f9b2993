/**
 * The TaskCache contract, run against both implementations: MemoryTaskCache (the in-process
 * stand-in) and RedisTaskCache on a real redis-server. The slot choice must be atomic across
 * separate connections (several dispatchers), never exceed capacity, spread ties, free expired
 * slots, and serve waiting tasks by priority.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import { RedisTaskCache } from '../../functions/adapters/redis-task-cache';
import type { SlotRequest, TaskCache } from '../../functions/core/ports';
import { freePort } from '../../harness/processes';
import { type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';

let redis: Extract<RedisInstance, { kind: 'spawned' | 'external' }>;
const opened: TaskCache[] = [];
const quiet = { warn: () => undefined };

beforeAll(async () => {
  const started = await startRedis({ env: { PATH: process.env.PATH } });
  if (started.kind === 'none') throw new Error('these tests need redis-server on PATH (apt-get install -y redis-server)');
  redis = started;
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await redis?.stop();
});

let run = 0;
interface Impl {
  name: string;
  /** Caches that share state, as several dispatchers share one Redis. */
  instances(n: number): TaskCache[];
}
const impls: Impl[] = [
  {
    name: 'MemoryTaskCache',
    instances: (n) => {
      const one = new MemoryTaskCache();
      opened.push(one);
      return Array.from({ length: n }, () => one);
    },
  },
  {
    name: 'RedisTaskCache (real redis-server)',
    instances: (n) =>
      Array.from({ length: n }, () => {
        const c = RedisTaskCache.fromUrl(redis.url, quiet);
        opened.push(c);
        return c;
      }),
  },
];

const NOW = 1_700_000_000_000;

describe.each(impls)('$name', (impl) => {
  /** A fresh agent type per test, so tests do not see each other's keys. */
  const fresh = () => `type${++run}`;
  const request = (type: string, taskId: string, eligible: SlotRequest['eligible'], extra: Partial<SlotRequest> = {}): SlotRequest => ({
    agentType: type,
    pool: `${type}:work`,
    taskId,
    score: 5,
    nowMs: NOW,
    staleMs: 60_000,
    leaseUntilMs: NOW + 60_000,
    eligible,
    ...extra,
  });
  const agents = (n: number, capacity: number) => Array.from({ length: n }, (_, i) => ({ agentId: `agent-${i}`, capacity, tier: 0 }));

  it('takes a slot on the least-loaded agent by in-flight/capacity, and reports the loads it saw', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const eligible = [
      { agentId: 'small', capacity: 2, tier: 0 },
      { agentId: 'big', capacity: 10, tier: 0 },
    ];
    // Fill: small 1 of 2, big 3 of 10 → big (0.3) beats small (0.5).
    await cache!.acquireSlot(request(type, 'f1', [eligible[0]!]));
    for (const t of ['f2', 'f3', 'f4']) await cache!.acquireSlot(request(type, t, [eligible[1]!]));
    const answer = await cache!.acquireSlot(request(type, 'task', eligible));
    expect(answer?.kind).toBe('acquired');
    expect(answer?.kind === 'acquired' && answer.agentId).toBe('big');
    expect(Object.fromEntries(answer!.loads)).toEqual({ small: 1, big: 3 });
    expect(
      Object.fromEntries(
        (await cache!.inFlight(
          [
            { agentId: 'small', type },
            { agentId: 'big', type },
          ],
          NOW,
        ))!,
      ),
    ).toEqual({ small: 1, big: 4 });
  });

  it('never exceeds capacity under 50 concurrent requests from several instances', async () => {
    const caches = impl.instances(5);
    const type = fresh();
    const eligible = agents(3, 2);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => caches[i % caches.length]!.acquireSlot(request(type, `t${i}`, eligible, { score: i }))),
    );
    expect(answers.filter((a) => a?.kind === 'acquired')).toHaveLength(6);
    const load = await caches[0]!.inFlight(
      eligible.map((e) => ({ agentId: e.agentId, type })),
      NOW,
    );
    expect(Object.fromEntries(load!)).toEqual({ 'agent-0': 2, 'agent-1': 2, 'agent-2': 2 });
  });

  it('spreads 9 tasks over 3 equal agents 3/3/3', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const eligible = agents(3, 10);
    const counts = new Map<string, number>();
    for (let i = 0; i < 9; i++) {
      const answer = await cache!.acquireSlot(request(type, `t${i}`, eligible));
      if (answer?.kind !== 'acquired') throw new Error(`not acquired: ${answer?.kind}`);
      counts.set(answer.agentId, (counts.get(answer.agentId) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([3, 3, 3]);
  });

  it('frees a slot when it is released or when its lease has ended', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
    expect((await cache!.acquireSlot(request(type, 'a', one)))?.kind).toBe('acquired');
    expect((await cache!.acquireSlot(request(type, 'b', one)))?.kind).toBe('busy');
    await cache!.releaseSlot({ agentId: 'solo', type }, 'a');
    expect((await cache!.acquireSlot(request(type, 'b', one)))?.kind).toBe('acquired');
    // 'b' was never released (its dispatcher died): after its lease end the slot is free again.
    expect((await cache!.acquireSlot(request(type, 'c', one, { nowMs: NOW + 59_000 })))?.kind).toBe('busy');
    expect((await cache!.acquireSlot(request(type, 'c', one, { nowMs: NOW + 60_001, leaseUntilMs: NOW + 120_000 })))?.kind).toBe(
      'acquired',
    );
    expect(Object.fromEntries((await cache!.inFlight([{ agentId: 'solo', type }], NOW + 60_001))!)).toEqual({ solo: 1 });
  });

  it('serves waiting tasks by score (priority, then age), and a task may leave the queue', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
    expect((await cache!.acquireSlot(request(type, 'running', one)))?.kind).toBe('acquired');
    // Three low tasks, then a critical one (lower score), all waiting for the busy agent.
    for (const [id, score] of [
      ['low1', 100],
      ['low2', 101],
      ['low3', 102],
      ['critical', 1],
    ] as const) {
      expect((await cache!.acquireSlot(request(type, id, one, { score })))?.kind).toBe('busy');
    }
    await cache!.releaseSlot({ agentId: 'solo', type }, 'running');
    const low = await cache!.acquireSlot(request(type, 'low1', one, { score: 100 }));
    expect(low).toMatchObject({ kind: 'behind', freeSlots: 1, position: 1 });
    expect((await cache!.acquireSlot(request(type, 'critical', one, { score: 1 })))?.kind).toBe('acquired');
    await cache!.releaseSlot({ agentId: 'solo', type }, 'critical');
    // low1 is next; low2 behind it. low1 leaves (cancelled), so low2 moves up.
    expect(await cache!.acquireSlot(request(type, 'low2', one, { score: 101 }))).toMatchObject({ kind: 'behind', position: 1 });
    await cache!.leaveQueue(type, `${type}:work`, 'low1');
    expect((await cache!.acquireSlot(request(type, 'low2', one, { score: 101 })))?.kind).toBe('acquired');
  });

  it('queues a task with no eligible agent, so it keeps its place, and drops waiters not seen for staleMs', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
    expect((await cache!.acquireSlot(request(type, 'early', [], { score: 1 })))?.kind).toBe('busy');
    expect(await cache!.acquireSlot(request(type, 'late', one, { score: 2 }))).toMatchObject({ kind: 'behind', position: 1 });
    // 'early' is not seen again: after staleMs it no longer holds 'late' back.
    expect((await cache!.acquireSlot(request(type, 'late', one, { score: 2, nowMs: NOW + 61_000 })))?.kind).toBe('acquired');
  });

  it('prefers a lower tier even when it is busier', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    await cache!.acquireSlot(request(type, 'x', [{ agentId: 'fresh', capacity: 4, tier: 0 }]));
    const answer = await cache!.acquireSlot(
      request(type, 'y', [
        { agentId: 'failed-before', capacity: 4, tier: 1 },
        { agentId: 'fresh', capacity: 4, tier: 0 },
      ]),
    );
    expect(answer?.kind === 'acquired' && answer.agentId).toBe('fresh');
  });

  it('counts dispatch outcomes in the window and forgets older ones', async () => {
    const [cache] = impl.instances(1);
    const agent = { agentId: 'a', type: fresh() };
    expect(await cache!.recordOutcome(agent, 'd1', true, NOW, 60_000)).toEqual({ dispatches: 1, failures: 1 });
    expect(await cache!.recordOutcome(agent, 'd2', false, NOW + 1_000, 60_000)).toEqual({ dispatches: 2, failures: 1 });
    expect(await cache!.recordOutcome(agent, 'd3', true, NOW + 30_000, 60_000)).toEqual({ dispatches: 3, failures: 2 });
    // d1 and d2 fall out of the window.
    expect(await cache!.recordOutcome(agent, 'd4', false, NOW + 62_000, 60_000)).toEqual({ dispatches: 2, failures: 1 });
    const stats = await cache!.circuits([agent], NOW + 62_000, 60_000, true);
    expect(stats?.get('a')).toEqual({ dispatches: 2, failures: 1 });
  });

  it('opens and closes a circuit; closing clears the window', async () => {
    const [cache] = impl.instances(1);
    const type = fresh();
    const a = { agentId: 'a', type };
    const b = { agentId: 'b', type };
    await cache!.recordOutcome(a, 'd1', true, NOW, 60_000);
    const open = { openedAtMs: NOW, openUntilMs: NOW + 30_000, trips: 1 };
    await cache!.setCircuit(a, open);
    expect(await cache!.recordOutcome(a, 'd2', true, NOW + 1, 60_000)).toEqual({ dispatches: 2, failures: 2, open });
    const withoutCounts = await cache!.circuits([a, b], NOW + 1, 60_000, false);
    expect(Object.fromEntries(withoutCounts!)).toEqual({ a: { dispatches: 0, failures: 0, open }, b: { dispatches: 0, failures: 0 } });
    await cache!.setCircuit(a, undefined);
    expect(Object.fromEntries((await cache!.circuits([a], NOW + 2, 60_000, true))!)).toEqual({ a: { dispatches: 0, failures: 0 } });
  });
});

describe('RedisTaskCache without a server', () => {
  it('degrades: reads answer undefined, writes do nothing, nothing throws', async () => {
    const port = await freePort();
    const cache = RedisTaskCache.fromUrl(`redis://127.0.0.1:${port}`, quiet);
    opened.push(cache);
    const agent = { agentId: 'a', type: 't' };
    expect(
      await cache.acquireSlot({
        agentType: 't',
        pool: 'p',
        taskId: 'x',
        score: 1,
        nowMs: NOW,
        staleMs: 1,
        leaseUntilMs: NOW + 1,
        eligible: [{ agentId: 'a', capacity: 1, tier: 0 }],
      }),
    ).toBeUndefined();
    expect(await cache.inFlight([agent], NOW)).toBeUndefined();
    expect(await cache.circuits([agent], NOW, 1, true)).toBeUndefined();
    expect(await cache.recordOutcome(agent, 'd', true, NOW, 1)).toBeUndefined();
    await expect(cache.releaseSlot(agent, 'x')).resolves.toBeUndefined();
    await expect(cache.setCircuit(agent, undefined)).resolves.toBeUndefined();
    await expect(cache.leaveQueue('t', 'p', 'x')).resolves.toBeUndefined();
  });
});
