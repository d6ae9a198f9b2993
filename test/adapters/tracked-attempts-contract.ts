/**
 * The TaskCache contract for accepted attempts (trackAttempt, untrackAttempt, sweepAttempts), run on
 * every implementation by task-cache.test.ts: the attempt's slot outlives its lease only while it is
 * held, and the sweep answers the attempts due, per agent type, each until it is untracked or moved.
 */
import { describe, expect, it } from 'vitest';
import type { TaskCache } from '../../functions/core/cache-port';
import type { TaskCacheSubject } from './task-cache-contract';

const NOW = 1_700_000_000_000;
let run = 0;

export function describeTrackedAttemptsContract(impl: TaskCacheSubject): void {
  describe(`TaskCache accepted attempts: ${impl.name}`, () => {
    const fresh = () => `tracked${++run}-${Date.now()}`;
    const take = async (cache: TaskCache, type: string, taskId: string) => {
      const answer = await cache.acquireSlot({
        agentType: type,
        pool: `${type}:work`,
        taskId,
        score: 5,
        nowMs: NOW,
        queueDeadlineMs: NOW + 600_000,
        token: 'tok',
        leaseUntilMs: NOW + 60_000,
        eligible: [{ agentId: 'a', capacity: 5, tier: 0 }],
      });
      expect(answer?.kind).toBe('acquired');
      return answer?.kind === 'acquired' ? answer.slot : '';
    };
    const load = async (cache: TaskCache, type: string, atMs: number) => (await cache.inFlight([{ agentId: 'a', type }], atMs))?.get('a');

    it("keeps a held slot until the attempt's new end, and never takes a released one again", async () => {
      const [cache] = impl.instances(1);
      const type = fresh();
      const held = await take(cache!, type, 'held');
      const released = await take(cache!, type, 'released');
      await cache!.releaseSlot({ agentId: 'a', type }, released);
      for (const [taskId, slot] of [
        ['held', held],
        ['released', released],
      ] as const)
        await cache!.trackAttempt({ agentId: 'a', type }, slot, { agentType: type, taskId, attempt: 1 }, NOW + 300_000, NOW + 420_000);
      expect(await load(cache!, type, NOW + 120_000)).toBe(1);
      expect(await load(cache!, type, NOW + 420_001)).toBe(0);
    });

    it('sweeps the attempts due by now, of every type; a moved deadline or an untracked attempt is not answered', async () => {
      const [cache, other] = impl.instances(2);
      const [t1, t2] = [fresh(), fresh()];
      const track = (type: string, taskId: string, attempt: number, due: number) =>
        cache!.trackAttempt({ agentId: 'a', type }, 'none', { agentType: type, taskId, attempt }, due, due + 1000);
      await track(t1, 'due', 1, NOW + 10_000);
      await track(t1, 'later', 2, NOW + 90_000);
      await track(t2, 'moved', 1, NOW + 5_000);
      await track(t2, 'moved', 1, NOW + 80_000);
      await track(t2, 'ended', 3, NOW + 1_000);
      await other!.untrackAttempt({ agentType: t2, taskId: 'ended', attempt: 3 });
      const mine = (list: Awaited<ReturnType<TaskCache['sweepAttempts']>>) =>
        (list ?? [])
          .filter((a) => a.agentType === t1 || a.agentType === t2)
          .map((a) => `${a.agentType === t1 ? 't1' : 't2'} ${a.taskId}:${a.attempt}`);
      expect(mine(await other!.sweepAttempts(NOW + 60_000, 100))).toEqual(['t1 due:1']);
      expect(mine(await other!.sweepAttempts(NOW + 100_000, 100)).sort()).toEqual(['t1 due:1', 't1 later:2', 't2 moved:1']);
      expect(mine(await other!.sweepAttempts(NOW + 100_000, 1)).sort()).toEqual(['t1 due:1', 't2 moved:1']);
    });
  });
}
