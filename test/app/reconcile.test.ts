/**
 * `reconcile` (functions/app/reconcile.ts): which unfinished tasks go back on the intake queue, read
 * through the status listing of the in-memory task store and sent to a recording queue. (How
 * DynamoTaskStore lists a task that its index shows under two statuses is in
 * test/adapters/dynamo-stores.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../functions/app/reconcile';
import type { TaskStatus } from '../../functions/core/task-model';
import { task as fixtureTask } from '../../harness/fixtures';
import { NOW, type World, world } from './world';

let w: World;
let tasks: World['tasks'];
let queue: World['queue'];
let clock: World['clock'];

// A fresh store per test, so each sees only its own tasks.
beforeEach(() => {
  w = world();
  ({ tasks, queue, clock } = w);
});

/** Every task id on the intake queue (and empties it). */
async function drainQueue(): Promise<string[]> {
  return queue.drain();
}

const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

async function stored(id: string, status: TaskStatus, options: { updatedSecondsAgo: number; leaseUntil?: number }): Promise<void> {
  const task = fixtureTask({
    task_id: id,
    status,
    created_at: ago(options.updatedSecondsAgo + 1),
    updated_at: ago(options.updatedSecondsAgo),
    attempts: status === 'pending' || status === 'queued' ? 0 : 1,
    ...(options.leaseUntil === undefined ? {} : { lease_until: options.leaseUntil }),
  });
  await tasks.create(task);
}

describe('reconcile', () => {
  it('requeues unfinished tasks nothing has touched for the stale time and whose lease is over; leaves the rest alone', async () => {
    await stored('stale-pending', 'pending', { updatedSecondsAgo: 600 });
    await stored('stale-sent', 'sent', { updatedSecondsAgo: 600, leaseUntil: NOW - 1000 });
    await stored('stale-retrying', 'retrying', { updatedSecondsAgo: 600 });
    await stored('fresh-queued', 'queued', { updatedSecondsAgo: 10 });
    await stored('leased-running', 'running', { updatedSecondsAgo: 600, leaseUntil: NOW + 60_000 });
    await stored('old-completed', 'completed', { updatedSecondsAgo: 600 });
    await stored('old-failed', 'failed', { updatedSecondsAgo: 600 });

    const out = await reconcile(
      { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
      120,
    );

    expect(out.requeued).toBe(3);
    expect([...out.task_ids].sort()).toEqual(['stale-pending', 'stale-retrying', 'stale-sent']);
    expect(await drainQueue()).toEqual(['stale-pending', 'stale-retrying', 'stale-sent']);
  });

  it('counts the stale time from the last write, on the clock: a task moved just now waits it out', async () => {
    await stored('moved', 'pending', { updatedSecondsAgo: 600 });
    await tasks.transition('moved', 'queued', { set: { queued_at: clock.iso() } });
    expect(
      (
        await reconcile(
          { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
          120,
        )
      ).requeued,
    ).toBe(0);
    clock.advance(119_999);
    expect(
      (
        await reconcile(
          { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
          120,
        )
      ).requeued,
    ).toBe(0);
    clock.advance(1);
    expect(
      await reconcile(
        { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
        120,
      ),
    ).toEqual({
      requeued: 1,
      task_ids: ['moved'],
      overdue: 0,
      lost_wake_ups: 0,
      attempts_ended: 0,
    });
    expect(await drainQueue()).toEqual(['moved']);
  });

  it('at start-up (stale time 0) requeues every unfinished task, fresh and leased ones too, and no finished one', async () => {
    await stored('fresh-queued', 'queued', { updatedSecondsAgo: 1 });
    await stored('leased-running', 'running', { updatedSecondsAgo: 1, leaseUntil: NOW + 60_000 });
    await stored('done', 'completed', { updatedSecondsAgo: 1 });

    expect(
      (
        await reconcile(
          { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
          0,
        )
      ).requeued,
    ).toBe(2);
    expect(await drainQueue()).toEqual(['fresh-queued', 'leased-running']);
  });

  it('a crowd of fresh tasks in one status hides no stale task in another', async () => {
    for (let i = 0; i < 30; i++) await stored(`fresh-${String(i).padStart(2, '0')}`, 'queued', { updatedSecondsAgo: 5 });
    await stored('stale-sent', 'sent', { updatedSecondsAgo: 600, leaseUntil: NOW - 1000 });

    // A budget of 10 that the 30 queued tasks would fill if they were read.
    expect(
      (
        await reconcile(
          { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
          120,
          10,
        )
      ).task_ids,
    ).toEqual(['stale-sent']);
    expect(await drainQueue()).toEqual(['stale-sent']);
  });

  it('each status has its own budget', async () => {
    for (let i = 0; i < 4; i++) await stored(`stale-pending-${i}`, 'pending', { updatedSecondsAgo: 600 });
    for (let i = 0; i < 4; i++) await stored(`stale-retrying-${i}`, 'retrying', { updatedSecondsAgo: 600 });

    const out = await reconcile(
      { tasks, queue, clock, cache: w.cache, settings: w.settings, metrics: w.metrics, activity: w.activity, agents: w.agents },
      120,
      2,
    );
    expect(out.requeued).toBe(4);
    expect((await drainQueue()).map((id) => id.replace(/-\d$/, ''))).toEqual([
      'stale-pending',
      'stale-pending',
      'stale-retrying',
      'stale-retrying',
    ]);
  });
});
