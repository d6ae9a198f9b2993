/**
 * GET /tasks/{id}?wait=N (functions/app/wait-for-task.ts) on the in-memory stores and cache: woken
 * by the notice of the task's end, not by reading the table again; answered at N otherwise; and,
 * without a cache, by re-reading the task once a second. The waits are real time, kept short.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { finishTask } from '../../functions/app/finish-task';
import { cancelTask } from '../../functions/app/tasks';
import { waitForTask } from '../../functions/app/wait-for-task';
import { NotFoundError } from '@optiinfra/contract';
import { FALLBACK_REREAD_MS } from '../../functions/core/finish-notices';
import { type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world();
});

/** Counts the task store's reads, and resolves `firstRead` once the waiter has read the task. */
function watchReads(of: World) {
  let seen: () => void = () => undefined;
  const firstRead = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const original = of.tasks.get.bind(of.tasks);
  const get = vi.spyOn(of.tasks, 'get').mockImplementation(async (...args) => {
    const state = await original(...args);
    seen();
    return state;
  });
  return { get, firstRead };
}

const since = (start: number) => performance.now() - start;

describe('waitForTask', () => {
  it('answers a task that already ended at once', async () => {
    const task = await w.task({ status: 'completed', result: { saved: 1 }, completed_at: w.clock.iso() });
    const start = performance.now();
    expect(await waitForTask(w.deps, task.task_id, 20)).toMatchObject({ status: 'completed', result: { saved: 1 } });
    expect(since(start)).toBeLessThan(1_000);
  });

  it('is woken by the end of the task and answers it, with its result, from the cache: the table is read once', async () => {
    const task = await w.task({ status: 'sent', attempts: 1 });
    const { get, firstRead } = watchReads(w);
    const start = performance.now();
    const waiting = waitForTask(w.deps, task.task_id, 10);
    await firstRead;
    await finishTask(w.deps, task, 'completed', { set: { result: { saved: 42 } } });
    expect(await waiting).toMatchObject({ task_id: task.task_id, status: 'completed', result: { saved: 42 } });
    expect(since(start)).toBeLessThan(3_000);
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('answers a cancel made during the wait', async () => {
    const task = await w.task({ status: 'queued' });
    const { firstRead } = watchReads(w);
    const waiting = waitForTask(w.deps, task.task_id, 10);
    await firstRead;
    await cancelTask(w.deps, task.task_id);
    expect(await waiting).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
  });

  it('answers the current state at N when the task does not end, having read it twice', async () => {
    const task = await w.task({ status: 'queued' });
    const { get } = watchReads(w);
    const start = performance.now();
    expect(await waitForTask(w.deps, task.task_id, 1)).toMatchObject({ status: 'queued' });
    expect(since(start)).toBeGreaterThanOrEqual(990);
    expect(since(start)).toBeLessThan(3_000);
    expect(get).toHaveBeenCalledTimes(2);
  });

  it('does not wait for a task that does not exist: 404 at once', async () => {
    const start = performance.now();
    await expect(waitForTask(w.deps, '00000000-0000-4000-8000-00000000beef', 20)).rejects.toBeInstanceOf(NotFoundError);
    expect(since(start)).toBeLessThan(1_000);
  });

  it('with wait=0, is a plain read', async () => {
    const task = await w.task({ status: 'queued' });
    const { get } = watchReads(w);
    expect(await waitForTask(w.deps, task.task_id, 0)).toMatchObject({ status: 'queued' });
    expect(get).toHaveBeenCalledTimes(1);
  });
});

describe('waitForTask without a cache', () => {
  beforeEach(() => {
    w = world({}, { cacheDown: true });
  });

  it('reads the task again once a second, and answers it once it ended', async () => {
    const task = await w.task({ status: 'sent', attempts: 1 });
    const { get, firstRead } = watchReads(w);
    const start = performance.now();
    const waiting = waitForTask(w.deps, task.task_id, 10);
    await firstRead;
    await finishTask(w.deps, task, 'failed', { set: { error: 'agent said no' } });
    expect(await waiting).toMatchObject({ status: 'failed', error: 'agent said no' });
    expect(since(start)).toBeGreaterThanOrEqual(FALLBACK_REREAD_MS - 10);
    expect(since(start)).toBeLessThan(FALLBACK_REREAD_MS + 2_000);
    expect(get).toHaveBeenCalledTimes(2);
  });

  it('reads a task that does not end at most once a second, and answers its state at N', async () => {
    const task = await w.task({ status: 'queued' });
    const { get } = watchReads(w);
    expect(await waitForTask(w.deps, task.task_id, 2)).toMatchObject({ status: 'queued' });
    // Once at the start, then once a second, the last at N: never a read more, however late or
    // early (within a few milliseconds) the event loop runs the timers.
    expect(get).toHaveBeenCalledTimes(1 + (2 * 1000) / FALLBACK_REREAD_MS);
  });

  it('does not read again when a timer fires a little before N, on a busy event loop', async () => {
    const task = await w.task({ status: 'queued' });
    const { get } = watchReads(w);
    // Node's timers run on the loop's cached time, so on a busy loop one may fire before the
    // monotonic clock reaches its time. Reproduced by a clock that, after the wait's start, reads
    // 60 ms behind: each timer then appears to fire 60 ms early.
    const now = performance.now.bind(performance);
    let calls = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now() - (calls++ === 0 ? 0 : 60));
    try {
      expect(await waitForTask(w.deps, task.task_id, 2)).toMatchObject({ status: 'queued' });
    } finally {
      clock.mockRestore();
    }
    expect(get).toHaveBeenCalledTimes(1 + (2 * 1000) / FALLBACK_REREAD_MS);
  });
});
