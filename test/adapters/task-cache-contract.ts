/**
 * The TaskCache contract (functions/core/cache-port.ts), one suite for every implementation: run on
 * MemoryTaskCache and RedisTaskCache on one redis-server by task-cache.test.ts, and on
 * RedisTaskCache on a three-master Redis Cluster over TLS by task-cache-cluster.test.ts. The slot
 * choice must be atomic across separate connections (several dispatchers), never exceed capacity,
 * spread ties, free expired slots, and serve waiting tasks by priority.
 */
import { describe, expect, it } from 'vitest';
import type { SlotRequest, TaskCache } from '../../functions/core/cache-port';
import { WAKE_RESERVATION_MS, waitingScore } from '../../functions/core/waiting-queue';

export interface TaskCacheSubject {
  name: string;
  /** Caches that share state, as several dispatchers share one Redis. */
  instances(n: number): TaskCache[];
}

let run = 0;

const NOW = 1_700_000_000_000;
let tokens = 0;

export function describeTaskCacheContract(impl: TaskCacheSubject): void {
  describe(`TaskCache contract: ${impl.name}`, () => {
    /** A fresh agent type per test, so tests do not see each other's keys. */
    const fresh = () => `type${++run}`;
    const request = (type: string, taskId: string, eligible: SlotRequest['eligible'], extra: Partial<SlotRequest> = {}): SlotRequest => ({
      agentType: type,
      pool: `${type}:work`,
      taskId,
      score: 5,
      nowMs: NOW,
      queueDeadlineMs: NOW + 600_000,
      token: `t${++tokens}`,
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

    it('counts the tasks of the type parked, in the answer that parks one or takes a slot for one that had parked', async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
      const running = await cache!.acquireSlot(request(type, 'running', one));
      // A task that never parked says nothing: the gauge costs nothing where nobody waits.
      expect(running).not.toHaveProperty('waiting');
      expect(await cache!.acquireSlot(request(type, 'w1', one, { score: 1 }))).toMatchObject({ kind: 'busy', waiting: 1 });
      expect(await cache!.acquireSlot(request(type, 'w2', one, { score: 2 }))).toMatchObject({ kind: 'busy', waiting: 2 });
      const woken = await cache!.releaseSlot({ agentId: 'solo', type }, running?.kind === 'acquired' ? running.slot : '', {
        agent: { agentId: 'solo', type },
        capacity: 1,
        pools: [`${type}:work`],
        nowMs: NOW,
      });
      expect(woken.map((w) => w.taskId)).toEqual(['w1']);
      expect(await cache!.acquireSlot(request(type, 'w1', one, { score: 1 }))).toMatchObject({ kind: 'acquired', waiting: 1 });
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
      const a = await cache!.acquireSlot(request(type, 'a', one));
      expect(a?.kind).toBe('acquired');
      expect((await cache!.acquireSlot(request(type, 'b', one)))?.kind).toBe('busy');
      await cache!.releaseSlot({ agentId: 'solo', type }, a?.kind === 'acquired' ? a.slot : '');
      expect((await cache!.acquireSlot(request(type, 'b', one)))?.kind).toBe('acquired');
      // 'b' was never released (its dispatcher died): after its lease end the slot is free again.
      expect((await cache!.acquireSlot(request(type, 'c', one, { nowMs: NOW + 59_000 })))?.kind).toBe('busy');
      expect((await cache!.acquireSlot(request(type, 'c', one, { nowMs: NOW + 60_001, leaseUntilMs: NOW + 120_000 })))?.kind).toBe(
        'acquired',
      );
      expect(Object.fromEntries((await cache!.inFlight([{ agentId: 'solo', type }], NOW + 60_001))!)).toEqual({ solo: 1 });
    });

    it("names each acquisition's slot: two executions of one task hold two slots, and a release frees only its own", async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const two = [{ agentId: 'pair', capacity: 2, tier: 0 }];
      const winner = await cache!.acquireSlot(request(type, 'raced', two));
      const loser = await cache!.acquireSlot(request(type, 'raced', two));
      if (winner?.kind !== 'acquired' || loser?.kind !== 'acquired') throw new Error('both should hold a slot');
      expect(winner.slot).not.toBe(loser.slot);
      expect((await cache!.inFlight([{ agentId: 'pair', type }], NOW))?.get('pair')).toBe(2);
      await cache!.releaseSlot({ agentId: 'pair', type }, loser.slot);
      expect((await cache!.inFlight([{ agentId: 'pair', type }], NOW))?.get('pair')).toBe(1);
    });

    it('parks waiters by score; a release hands the slot to the first of them, whom a newcomer cannot overtake', async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
      const wake = { agent: { agentId: 'solo', type }, capacity: 1, pools: ['solo', `${type}:work`], nowMs: NOW };
      const running = await cache!.acquireSlot(request(type, 'running', one));
      // Three normal tasks, oldest first, then a critical one (lower score), all parked.
      for (const [id, score] of [
        ['low1', waitingScore(5, NOW)],
        ['low2', waitingScore(5, NOW + 1)],
        ['low3', waitingScore(5, NOW + 2)],
        ['critical', waitingScore(15, NOW + 3)],
      ] as const) {
        expect(await cache!.acquireSlot(request(type, id, one, { score }))).toMatchObject({
          kind: 'busy',
          deadlineMs: NOW + 600_000,
          woken: [],
        });
      }
      const woken = await cache!.releaseSlot({ agentId: 'solo', type }, running?.kind === 'acquired' ? running.slot : '', wake);
      expect(woken).toEqual([{ taskId: 'critical', priority: 15 }]);
      // The slot is reserved: a newcomer (or another waiter) finds the agent full.
      expect((await cache!.acquireSlot(request(type, 'newcomer', one, { score: waitingScore(15, NOW) })))?.kind).toBe('busy');
      const critical = await cache!.acquireSlot(request(type, 'critical', one, { score: waitingScore(15, NOW + 3) }));
      expect(critical).toMatchObject({ kind: 'acquired', agentId: 'solo' });
      // Next: the newcomer (critical, parked just now), then the normal ones by age.
      const next = await cache!.releaseSlot({ agentId: 'solo', type }, critical?.kind === 'acquired' ? critical.slot : '', wake);
      expect(next).toEqual([{ taskId: 'newcomer', priority: 15 }]);
      await cache!.leaveQueue(type, `${type}:work`, 'newcomer');
      expect(await cache!.wakeWaiters(wake)).toEqual([{ taskId: 'low1', priority: 5 }]);
      // low1 is cancelled: the slot handed to it goes back, named by its agent, and low2 is next.
      expect(await cache!.leaveQueue(type, `${type}:work`, 'low1')).toBe('solo');
      expect(await cache!.leaveQueue(type, `${type}:work`, 'low1')).toBeUndefined();
      expect(await cache!.wakeWaiters(wake)).toEqual([{ taskId: 'low2', priority: 5 }]);
      expect((await cache!.acquireSlot(request(type, 'low2', one, { score: waitingScore(5, NOW + 1) })))?.kind).toBe('acquired');
    });

    it('a later task that finds a free slot hands it to the waiter ahead of it, and parks', async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
      // 'early' parked while no agent could take it.
      expect(await cache!.acquireSlot(request(type, 'early', [], { score: 1 }))).toMatchObject({ kind: 'busy', woken: [] });
      expect(await cache!.acquireSlot(request(type, 'late', one, { score: 2 }))).toMatchObject({
        kind: 'behind',
        position: 1,
        freeSlots: 1,
        woken: [{ taskId: 'early' }],
      });
      expect(await cache!.acquireSlot(request(type, 'early', one, { score: 1 }))).toMatchObject({ kind: 'acquired', agentId: 'solo' });
    });

    it("hands out nothing while the agent's circuit is open, and one slot while it is half-open", async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const many = [{ agentId: 'flaky', capacity: 3, tier: 0 }];
      for (const id of ['w1', 'w2', 'w3']) await cache!.acquireSlot(request(type, id, [], { score: Number(id.slice(1)) }));
      await cache!.setCircuit({ agentId: 'flaky', type }, { openedAtMs: NOW, openUntilMs: NOW + 30_000, trips: 1 });
      const wake = { agent: { agentId: 'flaky', type }, capacity: 3, pools: [`${type}:work`], nowMs: NOW };
      expect(await cache!.wakeWaiters(wake)).toEqual([]);
      expect((await cache!.wakeWaiters({ ...wake, nowMs: NOW + 30_000 })).map((w) => w.taskId)).toEqual(['w1']);
      await cache!.setCircuit({ agentId: 'flaky', type }, undefined);
      expect((await cache!.wakeWaiters({ ...wake, nowMs: NOW + 30_001 })).map((w) => w.taskId)).toEqual(['w2', 'w3']);
      expect((await cache!.acquireSlot(request(type, 'w2', many, { nowMs: NOW + 30_002 })))?.kind).toBe('acquired');
    });

    it('a wake-up also answers waiters past their queue deadline, once per reservation period, even when nothing is free', async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const one = [{ agentId: 'solo', capacity: 1, tier: 0 }];
      await cache!.acquireSlot(request(type, 'running', one));
      await cache!.acquireSlot(request(type, 'late', one, { queueDeadlineMs: NOW + 5_000 }));
      const wake = { agent: { agentId: 'solo', type }, capacity: 1, pools: [`${type}:work`], nowMs: NOW + 4_999 };
      expect(await cache!.wakeWaiters(wake)).toEqual([]);
      expect(await cache!.wakeWaiters({ ...wake, nowMs: NOW + 5_000 })).toEqual([{ taskId: 'late', priority: 5 }]);
      expect(await cache!.wakeWaiters({ ...wake, nowMs: NOW + 6_000 })).toEqual([]);
      // It came (and its step failed it): nothing more to answer.
      await cache!.acquireSlot(request(type, 'late', one, { nowMs: NOW + 6_000 }));
      await cache!.leaveQueue(type, `${type}:work`, 'late');
      expect(await cache!.wakeWaiters({ ...wake, nowMs: NOW + 10 * WAKE_RESERVATION_MS })).toEqual([]);
    });

    it('a woken task whose agent is no longer eligible gives the slot back and parks again in its place', async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      await cache!.acquireSlot(request(type, 'first', [], { score: 1 }));
      await cache!.acquireSlot(request(type, 'second', [], { score: 2 }));
      const wake = { agent: { agentId: 'gone', type }, capacity: 1, pools: [`${type}:work`], nowMs: NOW };
      expect((await cache!.wakeWaiters(wake)).map((w) => w.taskId)).toEqual(['first']);
      expect((await cache!.inFlight([{ agentId: 'gone', type }], NOW))?.get('gone')).toBe(1);
      // 'gone' drained meanwhile: another agent, busy, is all 'first' may use.
      expect(await cache!.acquireSlot(request(type, 'first', [], { score: 1 }))).toMatchObject({ kind: 'busy', deadlineMs: NOW + 600_000 });
      expect((await cache!.inFlight([{ agentId: 'gone', type }], NOW))?.get('gone')).toBe(0);
      expect((await cache!.wakeWaiters(wake)).map((w) => w.taskId)).toEqual(['first']);
    });

    it("keeps a waiter's first queue deadline, says who waits, and sweeps overdue waiters and lost wake-ups", async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      await cache!.acquireSlot(request(type, 'patient', [], { score: 1, queueDeadlineMs: NOW + 600_000 }));
      await cache!.acquireSlot(request(type, 'hasty', [], { score: 2, queueDeadlineMs: NOW + 20_000 }));
      // Looking again does not move the deadline.
      expect(await cache!.acquireSlot(request(type, 'hasty', [], { score: 2, queueDeadlineMs: NOW + 90_000 }))).toMatchObject({
        deadlineMs: NOW + 20_000,
      });
      const wake = { agent: { agentId: 'solo', type }, capacity: 1, pools: [`${type}:work`], nowMs: NOW };
      expect((await cache!.wakeWaiters(wake)).map((w) => w.taskId)).toEqual(['patient']);
      const states = await cache!.waiterStates([
        { agentType: type, taskId: 'patient' },
        { agentType: type, taskId: 'hasty' },
        { agentType: type, taskId: 'stranger' },
      ]);
      expect(Object.fromEntries(states!)).toEqual({
        patient: { deadlineMs: NOW + 600_000, wokenUntilMs: NOW + WAKE_RESERVATION_MS },
        hasty: { deadlineMs: NOW + 20_000 },
      });
      const ours = ['patient', 'hasty'];
      const mine = async (at: number) => {
        const sweep = (await cache!.sweepWaiters(at, 100))!;
        return { overdue: sweep.overdue.filter((id) => ours.includes(id)), lost: sweep.lostWakeUps.filter((id) => ours.includes(id)) };
      };
      expect(await mine(NOW + 19_999)).toEqual({ overdue: [], lost: [] });
      expect(await mine(NOW + 20_000)).toEqual({ overdue: ['hasty'], lost: [] });
      // Each is answered once per reservation period: its start is under way.
      expect(await mine(NOW + 20_001)).toEqual({ overdue: [], lost: [] });
      // 'patient' never came for its slot: its wake-up was lost.
      expect(await mine(NOW + WAKE_RESERVATION_MS)).toEqual({ overdue: [], lost: ['patient'] });
      expect(await mine(NOW + WAKE_RESERVATION_MS + 1)).toEqual({ overdue: [], lost: [] });
      // Nor did 'hasty' come to be failed: answered again.
      expect(await mine(NOW + 20_000 + WAKE_RESERVATION_MS)).toEqual({ overdue: [], lost: ['hasty'] });
      await cache!.leaveQueue(type, `${type}:work`, 'hasty');
      await cache!.leaveQueue(type, `${type}:work`, 'patient');
      expect(await mine(NOW + 10 * WAKE_RESERVATION_MS)).toEqual({ overdue: [], lost: [] });
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
}
