/**
 * The CallbackStore contract (functions/core/callback-port.ts), one suite for every implementation:
 * run on MemoryTaskStore by memory-stores.test.ts and on DynamoCallbackStore over dynalite (the
 * table as the CDK app defines it, the callbacks index included) by dynamo-stores.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallbackStore } from '../../functions/core/callback-port';
import type { Clock, TaskStore } from '../../functions/core/ports';
import type { Task } from '../../functions/core/task-model';
import { task as fixtureTask } from '../../harness/fixtures';
import { FakeClock } from '../support/fake-clock';

export interface CallbackStoreSubject {
  name: string;
  /** An empty task table, through its task store and its callback store. */
  make(clock: Clock): Promise<{ tasks: TaskStore; callbacks: CallbackStore }>;
}

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const LEASE = 15_000;

export function describeCallbackStoreContract(subject: CallbackStoreSubject): void {
  describe(`CallbackStore contract: ${subject.name}`, () => {
    let tasks: TaskStore;
    let callbacks: CallbackStore;
    let clock: FakeClock;
    let count = 0;

    beforeEach(async () => {
      clock = new FakeClock(NOW);
      ({ tasks, callbacks } = await subject.make(clock));
    });

    /** A running task with a callback, finished now (the terminal write lists it, due at `dueAt`). */
    async function finished(dueAt = NOW, overrides: Partial<Task> = {}): Promise<string> {
      const id = `00000000-0000-4000-8000-${String(++count).padStart(12, '0')}`;
      await tasks.create(fixtureTask({ task_id: id, status: 'running', attempts: 1, callback_url: 'http://10.0.0.1/cb', ...overrides }));
      const done = await tasks.transition(id, 'completed', {
        set: { result: { ok: true }, callback_status: 'pending', callback_attempts: 0 },
        callbackDueAt: dueAt,
      });
      expect(done).toBeDefined();
      return id;
    }

    it('lists a finished task whose callback is pending, by when it is due, and not its index keys in its state', async () => {
      const late = await finished(NOW + 60_000);
      const early = await finished(NOW - 60_000);
      expect(await callbacks.listDue(undefined, 10)).toEqual([
        { taskId: early, dueAt: NOW - 60_000 },
        { taskId: late, dueAt: NOW + 60_000 },
      ]);
      expect(await callbacks.listDue(NOW, 10)).toEqual([{ taskId: early, dueAt: NOW - 60_000 }]);
      const state = await tasks.get(early);
      expect(state).not.toHaveProperty('callback_shard');
      expect(state).not.toHaveProperty('callback_due');
    });

    it('lets one sender claim an attempt: not twice, not while its lease runs, and again once it is over', async () => {
      const id = await finished();
      expect(await callbacks.claim(id, 0, NOW, NOW + LEASE)).toBe(true);
      expect(await callbacks.claim(id, 0, NOW, NOW + LEASE)).toBe(false);
      expect(await callbacks.claim(id, 1, NOW + 1000, NOW + 1000 + LEASE)).toBe(false);
      expect(await tasks.get(id)).toMatchObject({ callback_attempts: 1, callback_lease_until: NOW + LEASE });
      expect(await callbacks.listDue(undefined, 10)).toEqual([{ taskId: id, dueAt: NOW + LEASE }]);
      expect(await callbacks.claim(id, 1, NOW + LEASE, NOW + 2 * LEASE)).toBe(true);
      expect((await tasks.get(id))?.callback_attempts).toBe(2);
    });

    it('claims nothing for a task without a pending callback, or no task at all', async () => {
      const id = `00000000-0000-4000-8000-${String(++count).padStart(12, '0')}`;
      await tasks.create(fixtureTask({ task_id: id, status: 'completed' }));
      expect(await callbacks.claim(id, 0, NOW, NOW + LEASE)).toBe(false);
      expect(await callbacks.claim('00000000-0000-4000-8000-999999999999', 0, NOW, NOW + LEASE)).toBe(false);
      expect(await tasks.get('00000000-0000-4000-8000-999999999999')).toBeUndefined();
    });

    it('records a retry: the error kept, the next claim held off until then, and the index entry moved there', async () => {
      const id = await finished();
      await callbacks.claim(id, 0, NOW, NOW + LEASE);
      expect(await callbacks.settle(id, 1, { status: 'pending', error: 'attempt 1: HTTP 503', retryAt: NOW + 5000 })).toBe(true);
      expect(await tasks.get(id)).toMatchObject({
        callback_status: 'pending',
        callback_error: 'attempt 1: HTTP 503',
        callback_lease_until: NOW + 5000,
      });
      expect(await callbacks.listDue(undefined, 10)).toEqual([{ taskId: id, dueAt: NOW + 5000 }]);
      expect(await callbacks.claim(id, 1, NOW + 4999, NOW + 4999 + LEASE)).toBe(false);
      expect(await callbacks.claim(id, 1, NOW + 5000, NOW + 5000 + LEASE)).toBe(true);
    });

    it('records it sent or failed once, by the attempt that holds it, and drops it from the index', async () => {
      const sent = await finished();
      const failed = await finished();
      await callbacks.claim(sent, 0, NOW, NOW + LEASE);
      await callbacks.claim(failed, 0, NOW, NOW + LEASE);
      expect(await callbacks.settle(sent, 2, { status: 'sent', at: '2026-06-15T12:00:01.000Z' })).toBe(false);
      expect(await callbacks.settle(sent, 1, { status: 'sent', at: '2026-06-15T12:00:01.000Z' })).toBe(true);
      expect(await callbacks.settle(sent, 1, { status: 'sent', at: '2026-06-15T12:00:02.000Z' })).toBe(false);
      expect(await callbacks.settle(failed, 1, { status: 'failed', error: 'attempt 1: HTTP 404' })).toBe(true);
      const s = await tasks.get(sent);
      expect(s).toMatchObject({ status: 'completed', callback_status: 'sent', callback_sent_at: '2026-06-15T12:00:01.000Z' });
      expect(s).not.toHaveProperty('callback_lease_until');
      expect(await tasks.get(failed)).toMatchObject({ callback_status: 'failed', callback_error: 'attempt 1: HTTP 404' });
      expect(await callbacks.listDue(undefined, 10)).toEqual([]);
      expect(await callbacks.claim(sent, 1, NOW + LEASE, NOW + 2 * LEASE)).toBe(false);
    });
  });
}
