/**
 * RedisTaskCache in cluster mode against a real Redis Cluster (three masters, TLS), as on
 * ElastiCache Serverless: the TaskCache contract, the hash tags that keep each script on one slot
 * while spreading the rest, and an agent type's slot moved to another master in the middle of a run.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheObserver } from '../../functions/adapters/cache-fallbacks';
import { cacheKeys } from '../../functions/adapters/redis-cache-keys';
import { RedisTaskCache } from '../../functions/adapters/redis-task-cache';
import type { TaskCache } from '../../functions/core/cache-port';
import { waitingScore } from '../../functions/core/waiting-queue';
import { moveSlot, ownerOf, type RedisCluster, startRedisCluster } from '../../harness/redis-cluster';
import { describeFinishNoticesContract } from './finish-notices-contract';
import { describeTaskCacheContract } from './task-cache-contract';
import { describeTrackedAttemptsContract } from './tracked-attempts-contract';

let cluster: RedisCluster;
const opened: TaskCache[] = [];
const seen = { fallbacks: 0, warnings: [] as string[] };
const counting: CacheObserver = { warn: (message) => seen.warnings.push(message), fallback: () => seen.fallbacks++ };

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await cluster?.stop();
});

function clusterCache(observer: CacheObserver = counting): RedisTaskCache {
  const cache = RedisTaskCache.fromUrl(cluster.url, observer, { cluster: true, tls: { ca: cluster.ca } });
  opened.push(cache);
  return cache;
}

const clusterSubject = {
  name: 'RedisTaskCache (three-master Redis Cluster over TLS)',
  instances: (n: number) => Array.from({ length: n }, () => clusterCache()),
};
describeTaskCacheContract(clusterSubject);
describeTrackedAttemptsContract(clusterSubject);
describeFinishNoticesContract(clusterSubject);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('RedisTaskCache on a cluster', () => {
  it('ran the contract without one fallback, its keys spread over every master', async () => {
    expect(seen).toEqual({ fallbacks: 0, warnings: [] });
    const sizes = await Promise.all(cluster.nodes.map((n) => cluster.node(n.port).dbsize()));
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });

  it("keeps every key of an agent type's scripts in that type's slot, and per-task keys apart", async () => {
    const node = cluster.node(cluster.nodes[0]!.port);
    const slot = async (key: string) => Number(await node.cluster('KEYSLOT', key));
    const type = 'summarize';
    const typeSlot = await slot(`{${type}}`);
    const together = [
      cacheKeys.pending(type, 'agent-1'),
      cacheKeys.pending(type, 'agent-2'),
      cacheKeys.waiting(type, 'pool-a'),
      cacheKeys.parked(type),
      cacheKeys.woken(type),
      cacheKeys.handed(type),
      cacheKeys.dispatches(type, 'agent-1'),
      cacheKeys.failures(type, 'agent-1'),
      cacheKeys.circuits(type),
    ];
    for (const key of together) expect(await slot(key), key).toBe(typeSlot);
    const perTask = await Promise.all(['t1', 't2', 't3', 't4'].map((id) => slot(cacheKeys.result(id))));
    expect(new Set(perTask).size).toBeGreaterThan(1);
  });

  it('a plain client is redirected (MOVED) and falls back, counted and logged once', async () => {
    const warnings: Array<Record<string, unknown> | undefined> = [];
    let fallbacks = 0;
    const observer: CacheObserver = { warn: (_m, extra) => warnings.push(extra), fallback: () => fallbacks++ };
    // A key another master serves than the one this plain client talks to.
    const first = cluster.nodes[0]!;
    let id = 0;
    while ((await ownerOf(cluster, Number(await cluster.node(first.port).cluster('KEYSLOT', cacheKeys.result(`t${id}`))))).id === first.id)
      id++;
    const plain = RedisTaskCache.fromUrl(cluster.url, observer, { cluster: false, tls: { ca: cluster.ca } });
    opened.push(plain);
    for (let i = 0; i < 3; i++) expect(await plain.getResult(`t${id}`)).toBeUndefined();
    expect(fallbacks).toBe(3);
    expect(warnings).toEqual([expect.objectContaining({ cause: 'MOVED', operation: 'get result' })]);
  });

  it("hands out exact slots while the agent type's slot moves to another master mid-run", async () => {
    const observer = { fallbacks: 0, warnings: [] as string[] };
    const caches = Array.from({ length: 4 }, () =>
      clusterCache({ warn: (m, extra) => observer.warnings.push(`${m} ${JSON.stringify(extra)}`), fallback: () => observer.fallbacks++ }),
    );
    const type = `moving-${randomUUID().slice(0, 8)}`;
    const agents = [
      { agentId: 'a', capacity: 2, tier: 0 },
      { agentId: 'b', capacity: 1, tier: 0 },
    ];
    const slot = Number(await cluster.node(cluster.nodes[0]!.port).cluster('KEYSLOT', `{${type}}`));
    const source = await ownerOf(cluster, slot);
    const target = cluster.nodes.find((n) => n.id !== source.id)!;

    const held = new Map<string, number>();
    const maxHeld = new Map<string, number>();
    const acquired: string[] = [];
    let parked = 0;
    let phase: 'before' | 'moving' | 'after' = 'before';
    // Calls made while the slot is half moved: they meet ASK and TRYAGAIN, and ioredis retries them.
    let askedDuringMove = 0;
    let afterMove = 0;
    let next = 0;

    const worker = async (cache: TaskCache) => {
      while (!(phase === 'after' && afterMove >= 40)) {
        const taskId = `task-${next++}`;
        const queuedAt = Date.now();
        for (;;) {
          const now = Date.now();
          if (phase === 'moving') askedDuringMove++;
          const answer = await cache.acquireSlot({
            agentType: type,
            pool: 'p',
            taskId,
            score: waitingScore(5, queuedAt),
            nowMs: now,
            leaseUntilMs: now + 60_000,
            queueDeadlineMs: now + 600_000,
            token: randomUUID().slice(0, 8),
            eligible: agents,
          });
          expect(answer, 'the cache answered (no fallback)').toBeDefined();
          if (answer?.kind !== 'acquired') {
            parked++;
            await sleep(2);
            continue;
          }
          const agent = answer.agentId;
          held.set(agent, (held.get(agent) ?? 0) + 1);
          maxHeld.set(agent, Math.max(maxHeld.get(agent) ?? 0, held.get(agent)!));
          acquired.push(taskId);
          if (phase === 'after') afterMove++;
          await sleep(Math.random() * 3);
          held.set(agent, held.get(agent)! - 1);
          const capacity = agents.find((a) => a.agentId === agent)!.capacity;
          await cache.releaseSlot({ agentId: agent, type }, answer.slot, {
            agent: { agentId: agent, type },
            capacity,
            pools: ['p'],
            nowMs: Date.now(),
          });
          await cache.recordOutcome({ agentId: agent, type }, taskId, false, Date.now(), 600_000);
          break;
        }
      }
    };

    const migration = (async () => {
      while (acquired.length < 20) await sleep(5);
      phase = 'moving';
      const moved = await moveSlot(cluster, slot, target, () => sleep(20));
      phase = 'after';
      return moved;
    })();
    const [moved] = await Promise.all([migration, ...caches.map(worker)]);

    // The agents' outcome windows at least (their slots come and go with the tasks).
    expect(moved).toBeGreaterThanOrEqual(2);
    expect((await ownerOf(cluster, slot)).id).toBe(target.id);
    expect(Number(await cluster.node(source.port).cluster('COUNTKEYSINSLOT', slot))).toBe(0);
    expect(askedDuringMove).toBeGreaterThan(0);
    expect(observer).toEqual({ fallbacks: 0, warnings: [] });
    // Four workers for three slots: tasks had to wait, and no agent ever held more than its capacity.
    expect(maxHeld.get('a')).toBeLessThanOrEqual(2);
    expect(maxHeld.get('b')).toBeLessThanOrEqual(1);
    expect(parked).toBeGreaterThan(0);
    // Each task started once; nothing left held or waiting.
    expect(new Set(acquired).size).toBe(acquired.length);
    expect(acquired.length).toBe(next);
    const load = await caches[0]!.inFlight(
      agents.map((a) => ({ agentId: a.agentId, type })),
      Date.now(),
    );
    expect(Object.fromEntries(load!)).toEqual({ a: 0, b: 0 });
    expect((await caches[0]!.waiterStates(acquired.map((taskId) => ({ agentType: type, taskId }))))?.size).toBe(0);
    // Every outcome was counted once, across the move.
    const windows = await caches[0]!.circuits(
      agents.map((a) => ({ agentId: a.agentId, type })),
      Date.now(),
      600_000,
      true,
    );
    expect([...windows!.values()].reduce((sum, w) => sum + w.dispatches, 0)).toBe(acquired.length);
  });
});
