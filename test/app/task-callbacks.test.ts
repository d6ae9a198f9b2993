/**
 * The submitter's callback (functions/app/task-callbacks.ts) on the in-memory task store, a
 * recording queue, a scripted receiver and a fake clock: accepted or refused at submit, queued by
 * the terminal write, sent once, tried again with backoff, given up, and resumed from the index.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { finishTask } from '../../functions/app/finish-task';
import { deliverCallback, resumeCallbacks } from '../../functions/app/task-callbacks';
import { submitTask } from '../../functions/app/tasks';
import { taskSubmitRequestSchema } from '@optiinfra/contract';
import { ValidationError } from '@optiinfra/contract';
import { CALLBACK_LEASE_MS } from '../../functions/core/task-callback';
import { type Task, toStatusResponse } from '../../functions/core/task-model';
import { type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world({ callbackPolicy: { maxAttempts: 3, retryBaseSeconds: 10 } });
});

const URL_OK = 'http://10.0.5.5:9000/hooks/optiinfra';
const unexpected = (err: unknown) => {
  throw err;
};
const delivered = { kind: 'delivered' } as const;
const down = { kind: 'failed', error: 'the callback URL answered HTTP 503', retryable: true } as const;

/** A running task with a callback, finished as completed now. */
async function finished(overrides: Partial<Task> = {}): Promise<Task> {
  const task = await w.task({ status: 'running', attempts: 1, callback_url: URL_OK, callback_secret: 'whsec_c2VjcmV0', ...overrides });
  await finishTask(w.deps, task, 'completed', { set: { result: { saved: 42 } } });
  return task;
}

describe('submit with a callback_url', () => {
  it('stores the URL with a secret of its own, and answers that secret once', async () => {
    await w.agent();
    const req = taskSubmitRequestSchema.parse({ task_type: 'analyze_cost', agent_type: 'cost', callback_url: URL_OK });
    const answer = await submitTask(w.deps, req, unexpected);
    expect(answer.callback_secret).toMatch(/^whsec_/);
    expect(await w.tasks.get(answer.task_id)).toMatchObject({ callback_url: URL_OK, callback_secret: answer.callback_secret });
    expect(toStatusResponse((await w.tasks.get(answer.task_id))!)).not.toHaveProperty('callback_secret');
  });

  it.each([
    [
      'http://127.0.0.1:9000/cb',
      /^invalid callback_url: the orchestrator may not call it: 127\.0\.0\.1 \(loopback\) is not in ALLOWED_AGENT_NETWORKS/,
    ],
    [
      'http://169.254.169.254/latest',
      /^invalid callback_url: the orchestrator may not call it: 169\.254\.169\.254 is in the linkLocal range/,
    ],
    [
      'https://nowhere.invalid/cb',
      /^invalid callback_url: its host "nowhere\.invalid" does not resolve; send a URL the orchestrator can reach/,
    ],
  ])('refuses %s with a 400 that says why, and stores nothing', async (url, message) => {
    await w.agent();
    const req = taskSubmitRequestSchema.parse({ task_type: 'analyze_cost', agent_type: 'cost', callback_url: url });
    const refused = submitTask(w.deps, req, unexpected);
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(message);
    expect(w.queue.sent).toEqual([]);
    expect((await w.tasks.list({ limit: 10 })).tasks).toEqual([]);
  });

  it('resolves a host name and checks each of its addresses', async () => {
    await w.agent();
    w.hosts.set('hooks.internal', ['10.0.9.9', '127.0.0.1']);
    const req = taskSubmitRequestSchema.parse({ task_type: 'analyze_cost', agent_type: 'cost', callback_url: 'http://hooks.internal/cb' });
    await expect(submitTask(w.deps, req, unexpected)).rejects.toThrow(/127\.0\.0\.1 \(loopback\)/);
    w.hosts.set('hooks.internal', ['10.0.9.9']);
    expect((await submitTask(w.deps, req, unexpected)).callback_secret).toMatch(/^whsec_/);
  });
});

describe('the terminal write', () => {
  it('marks the callback pending, lists it as due now, and queues it; a task without one queues nothing', async () => {
    const task = await finished();
    expect(await w.tasks.get(task.task_id)).toMatchObject({ status: 'completed', callback_status: 'pending', callback_attempts: 0 });
    expect(await w.tasks.listDue(undefined, 10)).toEqual([{ taskId: task.task_id, dueAt: w.clock.now() }]);
    expect(w.queue.callbacks).toEqual([{ taskId: task.task_id }]);

    const plain = await w.task({ status: 'running', attempts: 1 });
    await finishTask(w.deps, plain, 'failed', { set: { error: 'x' } });
    expect(w.queue.callbacks).toHaveLength(1);
  });

  it('still finishes the task when the queue is down: the reconciler resumes the callback from the index', async () => {
    w.queue.failWith = new Error('queue unreachable');
    const task = await finished();
    expect((await w.tasks.get(task.task_id))?.status).toBe('completed');
    expect(w.metrics.total('CallbacksDeferred')).toBe(1);
    w.clock.advance(300_000);
    expect(await resumeCallbacks(w.deps, w.clock.now() - 120_000, 100)).toEqual([task.task_id]);
    expect(w.queue.callbacks).toEqual([{ taskId: task.task_id, delaySeconds: 0 }]);
  });
});

describe('deliverCallback', () => {
  it('POSTs the task as GET /tasks/{id} shows it, signed with its secret under one id, and records it sent', async () => {
    const task = await finished();
    w.callbackClient.answer(delivered);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('sent');
    const [sent] = w.callbackClient.sent;
    expect(sent?.target).toEqual({ url: URL_OK, secret: 'whsec_c2VjcmV0' });
    expect(sent?.webhookId).toBe(`${task.task_id}:callback`);
    expect(JSON.parse(sent?.body ?? '')).toEqual(toStatusResponse((await w.tasks.get(task.task_id))!));
    expect(await w.tasks.get(task.task_id)).toMatchObject({
      callback_status: 'sent',
      callback_attempts: 1,
      callback_sent_at: w.clock.iso(),
    });
    expect(await w.tasks.listDue(undefined, 10)).toEqual([]);
  });

  it('never sends twice: a repeated message, or two at once, find it claimed or sent', async () => {
    const task = await finished();
    w.callbackClient.answer(delivered, delivered);
    const reports = await Promise.all([deliverCallback(w.deps, task.task_id), deliverCallback(w.deps, task.task_id)]);
    expect(reports.map((r) => r.outcome).sort()).toEqual(['claimed_elsewhere', 'sent']);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('not_pending');
    expect(w.callbackClient.sent).toHaveLength(1);
  });

  it('tries again after a backoff while attempts remain, then gives up with the last error', async () => {
    const task = await finished();
    w.callbackClient.answer(down, down, down);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('retrying');
    const retry = w.queue.callbacks.at(-1)!;
    expect(retry.delaySeconds).toBeGreaterThanOrEqual(5);
    expect(retry.delaySeconds).toBeLessThanOrEqual(10);
    // Early (a duplicate of the first message): the backoff holds it off.
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('not_due');
    w.clock.advance(retry.delaySeconds! * 1000);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('retrying');
    w.clock.advance(w.queue.callbacks.at(-1)!.delaySeconds! * 1000);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('failed');
    expect(await w.tasks.get(task.task_id)).toMatchObject({
      callback_status: 'failed',
      callback_attempts: 3,
      callback_error: 'attempt 3: the callback URL answered HTTP 503',
    });
    expect(w.metrics.totals()).toMatchObject({ CallbacksRetried: 2, CallbacksFailed: 1 });
    expect(await w.tasks.listDue(undefined, 10)).toEqual([]);
  });

  it('gives up at once on an answer another attempt would not change', async () => {
    const task = await finished();
    w.callbackClient.answer({ kind: 'failed', error: 'the callback URL answered HTTP 404 (not retried)', retryable: false });
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('failed');
    expect(w.queue.callbacks).toHaveLength(1);
  });

  it('takes over an attempt whose sender died once its lease is over', async () => {
    const task = await finished();
    // A sender claimed the first attempt and was never heard of again.
    expect(await w.tasks.claim(task.task_id, 0, w.clock.now(), w.clock.now() + CALLBACK_LEASE_MS)).toBe(true);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('not_due');
    w.clock.advance(CALLBACK_LEASE_MS);
    w.callbackClient.answer(delivered);
    expect((await deliverCallback(w.deps, task.task_id)).outcome).toBe('sent');
    expect((await w.tasks.get(task.task_id))?.callback_attempts).toBe(2);
  });
});

describe('resumeCallbacks', () => {
  it('at start-up puts every pending callback back, each delayed until it is due; later only the overdue ones', async () => {
    const fresh = await finished();
    const backingOff = await finished();
    w.callbackClient.answer(down);
    await deliverCallback(w.deps, backingOff.task_id);
    const wait = w.queue.callbacks.at(-1)!.delaySeconds!;
    w.queue.callbacks.splice(0);

    expect((await resumeCallbacks(w.deps, undefined, 100)).sort()).toEqual([fresh.task_id, backingOff.task_id].sort());
    expect(w.queue.callbacks).toEqual(
      expect.arrayContaining([
        { taskId: fresh.task_id, delaySeconds: 0 },
        { taskId: backingOff.task_id, delaySeconds: wait },
      ]),
    );
    expect(await resumeCallbacks(w.deps, w.clock.now() - 120_000, 100)).toEqual([]);
  });
});
