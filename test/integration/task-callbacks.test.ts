/**
 * `callback_url` end to end on the local runtime (a real orchestrator process, a real agent, a real
 * receiving HTTP server): the finished task is POSTed once, signed with the secret the submit
 * answered; 500s are retried; a URL the outbound guard refuses is a 400; and a callback pending
 * when the process is killed is delivered after its restart.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { type CallbackReceiver, type ReceivedCallback, startCallbackReceiver } from '../../harness/callback-receiver';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let agent: AgentProcess;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await startCallbackReceiver();
  // Backoff from 3 s: a retry comes 2-3 s after a failure, long enough to kill the process in between.
  orch = await startLocalOrchestrator({ CALLBACK_RETRY_BASE_SECONDS: '3', CALLBACK_MAX_ATTEMPTS: '4' });
  agent = await startFaultAgent(orch.url, { mode: 'ok', type: 'callbacks' });
});

afterAll(async () => {
  await agent?.stop();
  await orch?.dispose();
  await receiver?.stop();
});

async function submit(path: string): Promise<{ task_id: string; callback_secret: string }> {
  const res = await call<{ task_id: string; callback_secret: string }>(orch.url, 'POST', '/tasks', {
    task_type: 'work',
    agent_type: 'callbacks',
    parameters: { path },
    callback_url: receiver.url(path),
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** The callback verified as a receiver would: Standard Webhooks, with the task's own secret. */
function verified(received: ReceivedCallback, secret: string): unknown {
  return new Webhook(secret).verify(received.raw, received.headers);
}

describe('callback_url', () => {
  it('POSTs the finished task, as GET /tasks/{id} shows it, once, signed with the secret the submit answered', async () => {
    const { task_id, callback_secret } = await submit('/once');
    expect(callback_secret).toMatch(/^whsec_/);
    const [got] = await receiver.waitFor(1, 60_000, '/once');
    expect(got?.headers['webhook-id']).toBe(`${task_id}:callback`);
    expect(verified(got!, callback_secret)).toEqual((await call(orch.url, 'GET', `/tasks/${task_id}`)).body);
    expect(got?.body).toMatchObject({ task_id, status: 'completed', result: { echo: { path: '/once' } } });
    expect(() => verified(got!, 'whsec_b3RoZXItc2VjcmV0LW9mLWFub3RoZXItdGFzaw==')).toThrow();
    // A callback of a task submitted after this one was delivered comes, and this one came no second time.
    await submit('/after-once');
    await receiver.waitFor(1, 60_000, '/after-once');
    expect(receiver.received.filter((r) => r.path === '/once')).toHaveLength(1);
  });

  it('tries again after 500s, under the same id and signature, until the receiver takes it', async () => {
    receiver.answer(500, 500);
    const { task_id, callback_secret } = await submit('/flaky');
    const got = await receiver.waitFor(3, 60_000, '/flaky');
    expect(got.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([`${task_id}:callback`]));
    for (const r of got) expect(verified(r, callback_secret)).toMatchObject({ task_id, status: 'completed' });
  });

  it.each([
    [
      'http://169.254.169.254/latest/meta-data',
      /^invalid callback_url: the orchestrator may not call it: 169\.254\.169\.254 is in the linkLocal range/,
    ],
    ['self', /^invalid callback_url: the orchestrator may not call it: 127\.0\.0\.1 port \d+ is a service of the orchestrator itself/],
    ['ftp://127.0.0.1/x', /callback_url.*must be an http:\/\/ or https:\/\/ URL/],
  ])('refuses %s with a 400 that says what to send, and accepts no task', async (url, message) => {
    const before = (await call<{ count: number }>(orch.url, 'GET', '/tasks?agent_type=callbacks&limit=100')).body.count;
    const res = await call<{ error: string; code: string }>(orch.url, 'POST', '/tasks', {
      task_type: 'work',
      agent_type: 'callbacks',
      callback_url: url === 'self' ? `${orch.url}/health` : url,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect((await call<{ count: number }>(orch.url, 'GET', '/tasks?agent_type=callbacks&limit=100')).body.count).toBe(before);
  });

  it('delivers a callback that was pending when the process was killed, after the restart', async () => {
    receiver.answer(500);
    const { task_id, callback_secret } = await submit('/restart');
    const [failed] = await receiver.waitFor(1, 60_000, '/restart');
    expect(failed?.status).toBe(500);
    // The retry waits in the (in-memory) queue, which the kill loses: only the callbacks index keeps it.
    await orch.stop('SIGKILL');
    const killedAt = Date.now();
    await orch.restart();
    const got = await receiver.waitFor(2, 60_000, '/restart');
    expect(got.map((r) => r.status)).toEqual([500, 200]);
    expect(got[1]!.at).toBeGreaterThan(killedAt);
    expect(verified(got[1]!, callback_secret)).toMatchObject({ task_id, status: 'completed' });
  });
});
