/**
 * The TaskCache contract (task-cache-contract.ts, finish-notices-contract.ts) on MemoryTaskCache (the in-process stand-in) and
 * RedisTaskCache on a real redis-server; and what RedisTaskCache does when the server fails it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import { RedisTaskCache } from '../../functions/adapters/redis-task-cache';
import type { TaskCache } from '../../functions/core/cache-port';
import { freePort } from '../../harness/processes';
import { type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';
import { describeFinishNoticesContract } from './finish-notices-contract';
import { describeTaskCacheContract } from './task-cache-contract';
import { describeTrackedAttemptsContract } from './tracked-attempts-contract';

let redis: Extract<RedisInstance, { kind: 'spawned' | 'external' }>;
const opened: TaskCache[] = [];
const quiet = { warn: () => undefined, fallback: () => undefined };

beforeAll(async () => {
  const started = await startRedis({ env: { PATH: process.env.PATH } });
  if (started.kind === 'none') throw new Error('these tests need redis-server on PATH (apt-get install -y redis-server)');
  redis = started;
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await redis?.stop();
});

const memorySubject = {
  name: 'MemoryTaskCache',
  instances: (n: number) => {
    const one = new MemoryTaskCache();
    opened.push(one);
    return Array.from({ length: n }, () => one);
  },
};
const redisSubject = {
  name: 'RedisTaskCache (real redis-server)',
  instances: (n: number) =>
    Array.from({ length: n }, () => {
      const c = RedisTaskCache.fromUrl(redis.url, quiet);
      opened.push(c);
      return c;
    }),
};
describeTaskCacheContract(memorySubject);
describeTaskCacheContract(redisSubject);
describeTrackedAttemptsContract(memorySubject);
describeTrackedAttemptsContract(redisSubject);
describeFinishNoticesContract(memorySubject);
describeFinishNoticesContract(redisSubject);

const NOW = 1_700_000_000_000;

/** What the adapter reported: its warnings and its fallback count. */
function recorder() {
  const seen = { warnings: [] as Array<{ message: string; extra?: Record<string, unknown> }>, fallbacks: 0 };
  return {
    seen,
    observer: {
      warn: (message: string, extra?: Record<string, unknown>) => seen.warnings.push({ message, extra }),
      fallback: () => seen.fallbacks++,
    },
  };
}

describe('RedisTaskCache falling back', () => {
  it('counts every fallback and logs each cause once, not once per call', async () => {
    const { seen, observer } = recorder();
    const cache = RedisTaskCache.fromUrl(redis.url, observer);
    opened.push(cache);
    // A key of the wrong type: each read of it fails with WRONGTYPE, a cause of its own; and a result that is not JSON.
    const raw = new Redis(redis.url);
    await raw.set('task:pending:{wrongtype}:a', 'not a sorted set');
    await raw.set('task:result:corrupt', 'not JSON');
    raw.disconnect();
    const agent = { agentId: 'a', type: 'wrongtype' };
    for (let i = 0; i < 5; i++) expect(await cache.inFlight([agent], NOW)).toBeUndefined();
    await expect(cache.releaseSlot(agent, 'x', { agent, capacity: 1, pools: ['p'], nowMs: NOW })).resolves.toEqual([]);
    expect(seen.fallbacks).toBe(6);
    expect(seen.warnings).toHaveLength(1);
    expect(seen.warnings[0]!.extra).toMatchObject({ cause: 'WRONGTYPE', operation: 'read load' });
    expect(seen.warnings[0]!.message).toMatch(/logged once per cause/i);
    // Another cause is logged once too, the first one not again.
    for (let i = 0; i < 3; i++) expect(await cache.getResult('corrupt')).toBeUndefined();
    await cache.inFlight([agent], NOW);
    expect(seen.fallbacks).toBe(10);
    expect(seen.warnings.map((w) => w.extra?.cause)).toEqual(['WRONGTYPE', 'SyntaxError']);
  });
});

describe('RedisTaskCache without a server', () => {
  // Cluster mode first waits out the call deadline (its slot map cannot be read); both then fail fast while reconnecting.
  it.concurrent.for([
    ['one server', false],
    ['a cluster', true],
  ] as const)('%s: reads answer undefined, writes do nothing, nothing throws, each call counted', async ([, cluster], { expect }) => {
    const port = await freePort();
    const { seen, observer } = recorder();
    const cache = RedisTaskCache.fromUrl(`redis://127.0.0.1:${port}`, observer, { cluster });
    opened.push(cache);
    const agent = { agentId: 'a', type: 't' };
    expect(
      await cache.acquireSlot({
        agentType: 't',
        pool: 'p',
        taskId: 'x',
        score: 1,
        nowMs: NOW,
        queueDeadlineMs: NOW + 600_000,
        token: 'fill',
        leaseUntilMs: NOW + 1,
        eligible: [{ agentId: 'a', capacity: 1, tier: 0 }],
      }),
    ).toBeUndefined();
    expect(await cache.inFlight([agent], NOW)).toBeUndefined();
    expect(await cache.circuits([agent], NOW, 1, true)).toBeUndefined();
    expect(await cache.recordOutcome(agent, 'd', true, NOW, 1)).toBeUndefined();
    await expect(cache.releaseSlot(agent, 'x')).resolves.toEqual([]);
    await expect(cache.wakeWaiters({ agent, capacity: 1, pools: ['p'], nowMs: NOW })).resolves.toEqual([]);
    await expect(cache.setCircuit(agent, undefined)).resolves.toBeUndefined();
    await expect(cache.leaveQueue('t', 'p', 'x')).resolves.toBeUndefined();
    expect(await cache.waiterStates([{ agentType: 't', taskId: 'x' }])).toBeUndefined();
    expect(await cache.sweepWaiters(NOW, 10)).toBeUndefined();
    // A waiting read cannot listen (it re-reads the task instead), and an end is announced to nobody.
    expect(await cache.listenForFinish('x')).toBeUndefined();
    await expect(cache.announceFinished('x', 'completed')).resolves.toBeUndefined();
    expect(seen.fallbacks).toBe(12);
    const causes = seen.warnings.map((w) => w.extra?.cause);
    expect(new Set(causes).size).toBe(causes.length);
  });
});
