import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, AgentAbortedError, AgentConfigError, type AgentOptions, RegistrationError, type TaskContext } from '@optiinfra/sdk';
import { freePort } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { FakeOrchestrator } from './fake-orchestrator';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeOrchestrator(): Promise<FakeOrchestrator> {
  const fake = new FakeOrchestrator();
  await fake.listen();
  cleanups.push(() => fake.close());
  return fake;
}

/** The secret each agent got from its fake orchestrator: deliveries are signed with it unless a test says otherwise. */
const secrets = new WeakMap<Agent, string>();

function newAgent(fake: FakeOrchestrator, options: Partial<AgentOptions> = {}): Agent {
  const agent = new Agent({
    name: `test-agent-${randomUUID().slice(0, 8)}`,
    type: 'test',
    orchestratorUrl: fake.url,
    stopGraceMs: 2_000,
    ...options,
  });
  cleanups.push(() => agent.stop());
  secrets.set(agent, fake.signingSecret);
  return agent;
}

function taskBody(taskType: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: randomUUID(),
    task_type: taskType,
    parameters: { n: 1 },
    timeout_seconds: 30,
    priority: 5,
    metadata: { origin: 'test' },
    ...extra,
  };
}

interface Delivery {
  /** Signs with this secret instead of the agent's own. */
  secret?: string;
  /** Sends no signature at all. */
  unsigned?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The attempt named in the signed webhook-id. Default 1. */
  attempt?: number;
  /** Signing time. Default now. */
  at?: Date;
}

async function deliver(
  agent: Agent,
  body: Record<string, unknown> | string,
  delivery: Delivery = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const taskId = typeof body === 'string' ? randomUUID() : String(body.task_id);
  const now = delivery.at ?? new Date();
  const headers: Record<string, string> = { 'content-type': 'application/json', ...delivery.headers };
  const secret = delivery.unsigned ? undefined : (delivery.secret ?? secrets.get(agent));
  if (secret) {
    const id = `${taskId}:${delivery.attempt ?? 1}`;
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
    headers['webhook-signature'] = new Webhook(secret).sign(id, now, text);
  }
  const res = await fetch(`${agent.url}/task`, { method: 'POST', headers, body: text, signal: delivery.signal });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Agent registration', () => {
  it('registers its listening port, the task types it handles as capabilities, and the documented defaults', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake)
      .handle('analyze_cost', () => ({}))
      .handle('right_size', () => ({}));

    await agent.start();

    const [call] = fake.callsTo('POST', /^\/agents\/register$/);
    expect(call?.body).toEqual({
      name: agent.name,
      type: 'test',
      host: '127.0.0.1',
      port: agent.port,
      capabilities: ['analyze_cost', 'right_size'],
      version: '1.0.0',
      max_concurrency: 10,
      metadata: {},
    });
    expect(agent.id).toBe(fake.agents.keys().next().value);
    expect(agent.port).toBeGreaterThan(0);
    expect(agent.url).toBe(`http://127.0.0.1:${agent.port}`);
  });

  it('sends its apiToken as a bearer token on every call to the orchestrator, and none without one', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake, { apiToken: 'tok-0123456789abcdef' }).handle('work', () => 1);
    await agent.start();
    await fake.waitFor(() => fake.callsTo('POST', /heartbeat$/).length > 0, 'a heartbeat');
    await agent.stop();
    expect(fake.calls.length).toBeGreaterThanOrEqual(3);
    expect(fake.calls.map((c) => c.authorization)).toEqual(fake.calls.map(() => 'Bearer tok-0123456789abcdef'));

    const plain = await fakeOrchestrator();
    await newAgent(plain)
      .handle('work', () => 1)
      .start();
    // Registration, and the first heartbeat that shows the orchestrator the agent holds its token.
    expect(plain.calls.map((c) => `${c.method} ${c.path.replace(/[^/]+\/heartbeat$/, 'ID/heartbeat')} ${c.authorization}`)).toEqual([
      'POST /agents/register undefined',
      'POST /agents/ID/heartbeat undefined',
    ]);
  });

  it('sends the fleet token when registering, then acts with its own agent token (heartbeat, drain, unregister)', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake, { fleetToken: 'fleet-0123456789abcdef' }).handle('work', () => 1);
    await agent.start();
    await fake.waitFor(() => fake.callsTo('POST', /heartbeat$/).length > 0, 'a heartbeat');
    await agent.drain();
    await agent.stop();
    const register = fake.callsTo('POST', /register$/)[0]!;
    expect(register.fleetToken).toBe('fleet-0123456789abcdef');
    expect(register.agentToken).toBeUndefined();
    const later = fake.calls.filter((c) => c !== register);
    expect(later.map((c) => `${c.method} ${c.path.replace(agent.id!, 'ID')}`)).toEqual(
      expect.arrayContaining(['POST /agents/ID/heartbeat', 'POST /agents/ID/drain', 'DELETE /agents/ID']),
    );
    expect(later.map((c) => [c.agentToken, c.fleetToken])).toEqual(later.map(() => [`oat_fake-${agent.id}-1`, undefined]));
  });

  it('registers the advertised host and explicit capabilities instead of the listen address', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake, {
      advertiseHost: 'localhost',
      capabilities: ['analyze_cost'],
      metadata: { zone: 'a' },
      version: '2.1.0',
      maxConcurrency: 3,
    }).handle('analyze_cost', () => ({}));

    await agent.start();

    expect(fake.calls[0]?.body).toMatchObject({
      host: 'localhost',
      capabilities: ['analyze_cost'],
      metadata: { zone: 'a' },
      version: '2.1.0',
      max_concurrency: 3,
    });
    expect(agent.url).toBe(`http://localhost:${agent.port}`);
  });

  it('rejects with RegistrationError carrying the orchestrator message when registration is refused (4xx), and closes its server', async () => {
    const fake = await fakeOrchestrator();
    fake.refuseRegistration = {
      status: 400,
      body: { error: 'invalid agent registration: host "127.0.0.1" is not allowed: loopback', code: 'validation_error' },
    };
    const agent = newAgent(fake).handle('echo', () => ({}));

    const error = await agent.start().catch((err: unknown) => err);

    expect(error).toBeInstanceOf(RegistrationError);
    expect((error as RegistrationError).status).toBe(400);
    expect((error as RegistrationError).orchestratorCode).toBe('validation_error');
    expect((error as Error).message).toContain('host "127.0.0.1" is not allowed: loopback');
    expect(fake.callsTo('POST', /register/)).toHaveLength(1);
    await expect(fetch(`${agent.url}/health`)).rejects.toThrow();
  });

  it('keeps retrying registration with backoff until the orchestrator comes up', async () => {
    const port = await freePort();
    const fake = new FakeOrchestrator();
    cleanups.push(() => fake.close());
    const warnings: string[] = [];
    const agent = new Agent({
      name: 'late-agent',
      type: 'test',
      orchestratorUrl: `http://127.0.0.1:${port}`,
      registrationRetry: { initialDelayMs: 50, maxDelayMs: 200 },
      logger: { info: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined },
    }).handle('echo', () => ({}));
    cleanups.push(() => agent.stop());

    const started = agent.start();
    // Refused three times, each followed by a back-off: it keeps trying while nobody answers.
    await waitUntil(
      'three failed registration attempts',
      () => warnings.filter((w) => w.includes('registering again in')),
      (w) => w.length >= 3,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(agent.id).toBeUndefined();
    await fake.listen(port);
    await started;

    expect(agent.id).toBe(fake.agents.keys().next().value);
  });

  it('stops retrying when the start signal aborts, with AgentAbortedError', async () => {
    const port = await freePort();
    const agent = new Agent({
      name: 'never-agent',
      type: 'test',
      orchestratorUrl: `http://127.0.0.1:${port}`,
      registrationRetry: { initialDelayMs: 50, maxDelayMs: 100 },
    }).handle('echo', () => ({}));
    cleanups.push(() => agent.stop());

    await expect(agent.start({ signal: AbortSignal.timeout(300) })).rejects.toBeInstanceOf(AgentAbortedError);
    await expect(fetch(`${agent.url}/health`)).rejects.toThrow();
  });

  it('refuses options that cannot work before binding a port', async () => {
    const fake = await fakeOrchestrator();
    await expect(newAgent(fake).start()).rejects.toThrow(/no task handlers/);
    await expect(
      newAgent(fake, { name: 'bad name!' })
        .handle('echo', () => ({}))
        .start(),
    ).rejects.toThrow(AgentConfigError);
    await expect(
      newAgent(fake, { host: '0.0.0.0' })
        .handle('echo', () => ({}))
        .start(),
    ).rejects.toThrow(/advertiseHost/);
    expect(fake.calls).toHaveLength(0);
  });
});

describe('Agent heartbeats', () => {
  it('heartbeats at the interval the orchestrator gave, reporting the tasks in flight', async () => {
    const fake = await fakeOrchestrator();
    const release = deferred();
    const entered = deferred();
    const agent = newAgent(fake).handle('work', async () => {
      entered.resolve();
      await release.promise;
      return { done: true };
    });
    await agent.start();

    const answer = deliver(agent, taskBody('work'));
    await entered.promise;
    await fake.waitFor(
      () => fake.callsTo('POST', /heartbeat$/).some((c) => (c.body as { in_flight?: number }).in_flight === 1),
      'a heartbeat with in_flight 1',
    );
    release.resolve();
    expect((await answer).status).toBe(200);
    await fake.waitFor(
      () => (fake.callsTo('POST', /heartbeat$/).at(-1)?.body as { in_flight?: number }).in_flight === 0,
      'a heartbeat with in_flight 0',
    );

    const beats = fake.callsTo('POST', new RegExp(`^/agents/${agent.id}/heartbeat$`));
    const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(150);
  });

  it('registers again when a heartbeat answers 404, then resumes heartbeats', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake).handle('echo', () => ({}));
    await agent.start();
    const id = agent.id!;
    await fake.waitFor(() => fake.callsTo('POST', /heartbeat$/).length >= 1, 'a first heartbeat');

    fake.forget(id);
    await fake.waitFor(() => fake.callsTo('POST', /register$/).length === 2, 'a second registration');
    const reRegisteredAt = fake.callsTo('POST', /register$/)[1]!.at;
    await fake.waitFor(() => fake.callsTo('POST', /heartbeat$/).some((c) => c.at > reRegisteredAt), 'a heartbeat after registering again');

    const [first, second] = fake.callsTo('POST', /register$/);
    expect(second?.body).toEqual(first?.body);
    expect(agent.id).toBe(id);
    expect(fake.agents.has(id)).toBe(true);
  });
});

describe('Agent registering again', () => {
  it.each([
    [401, 'agent_token_required'],
    [403, 'agent_token_mismatch'],
  ])('registers again when a heartbeat answers %i (%s), sending the token it has, then resumes heartbeats', async (status, code) => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake).handle('echo', () => ({}));
    await agent.start();
    await fake.waitFor(() => fake.callsTo('POST', /heartbeat$/).length >= 1, 'a first heartbeat');
    const firstToken = fake.callsTo('POST', /heartbeat$/)[0]!.agentToken;

    fake.refuseHeartbeats = { status, body: { error: 'the X-Agent-Token is not accepted', code } };
    await fake.waitFor(() => fake.callsTo('POST', /register$/).length === 2, 'a second registration');
    const second = fake.callsTo('POST', /register$/)[1]!;
    // It proves it is the agent whose registration is live, so the orchestrator lets it register again.
    expect(second.agentToken).toBe(firstToken);
    await fake.waitFor(
      () => fake.callsTo('POST', /heartbeat$/).some((c) => c.at >= second.at && c.agentToken !== firstToken),
      'a heartbeat with the new token',
    );
    expect(fake.agents.has(agent.id!)).toBe(true);
  });

  it('while its id is held by a live registration (409 agent_id_in_use), keeps registering with backoff until it may', async () => {
    const fake = await fakeOrchestrator();
    const warnings: string[] = [];
    const agent = newAgent(fake, {
      registrationRetry: { initialDelayMs: 20, maxDelayMs: 40 },
      logger: { info: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
    }).handle('echo', () => ({}));
    fake.refuseRegistration = { status: 409, body: { error: 'agent x is registered and live', code: 'agent_id_in_use' } };
    const started = agent.start();
    await fake.waitFor(() => fake.callsTo('POST', /register$/).length >= 3, 'three refused registrations');
    fake.refuseRegistration = undefined;
    await started;
    expect(agent.id).toBeDefined();
    expect(warnings.filter((w) => w.includes('agent_id_in_use') && w.includes('registering again in'))).not.toHaveLength(0);
  });
});

describe('Agent stop', () => {
  it('unregisters, stops heartbeating, lets the running task answer, then closes', async () => {
    const fake = await fakeOrchestrator();
    // A second agent on the same orchestrator and heartbeat interval: its heartbeats show when the
    // stopped agent's own would have come, had they not stopped.
    const witness = newAgent(fake).handle('echo', () => ({}));
    await witness.start();
    const entered = deferred();
    const release = deferred();
    const agent = newAgent(fake).handle('slow', async () => {
      entered.resolve();
      await release.promise;
      return { finished: true };
    });
    await agent.start();
    const url = agent.url!;
    const answer = deliver(agent, taskBody('slow'));
    await entered.promise;

    const stopping = agent.stop();
    // Still running when the agent unregistered: the task finishes only then.
    await fake.waitFor(() => fake.callsTo('DELETE', new RegExp(`^/agents/${agent.id}$`)).length > 0, 'the agent unregistering');
    release.resolve();
    await stopping;

    expect(fake.callsTo('DELETE', new RegExp(`^/agents/${agent.id}$`))).toHaveLength(1);
    expect(await answer).toMatchObject({ status: 200, body: { status: 'completed', result: { finished: true } } });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const ownBeats = new RegExp(`^/agents/${agent.id}/heartbeat$`);
    const beatsAtStop = fake.callsTo('POST', ownBeats).length;
    const stoppedAt = Date.now();
    await fake.waitFor(
      () => fake.callsTo('POST', new RegExp(`^/agents/${witness.id}/heartbeat$`)).filter((c) => c.at > stoppedAt).length >= 3,
      'three heartbeats of the witness after the stop',
    );
    expect(fake.callsTo('POST', ownBeats)).toHaveLength(beatsAtStop);
  });

  it('aborts handlers still running after the grace period', async () => {
    const fake = await fakeOrchestrator();
    let seen: AbortSignal | undefined;
    const entered = deferred();
    const agent = newAgent(fake, { stopGraceMs: 100 }).handle('stuck', (_p, ctx) => {
      seen = ctx.signal;
      entered.resolve();
      return new Promise(() => undefined);
    });
    await agent.start();
    const answer = deliver(agent, taskBody('stuck')).catch((err: unknown) => err);
    await entered.promise;

    await agent.stop();

    expect(seen?.aborted).toBe(true);
    expect(await answer).toBeInstanceOf(Error);
  });
});

describe('Agent task endpoint', () => {
  it('runs the handler for a signed delivery and answers the seed TaskResponse', async () => {
    const fake = await fakeOrchestrator();
    let ctx: TaskContext | undefined;
    let params: Record<string, unknown> | undefined;
    const agent = newAgent(fake).handle('analyze_cost', (p, c) => {
      params = p;
      ctx = c;
      return { savings: 42 };
    });
    await agent.start();
    const body = taskBody('analyze_cost');
    const at = new Date();

    const res = await deliver(agent, body, {
      secret: fake.signingSecret,
      attempt: 2,
      at,
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      task_id: body.task_id,
      status: 'completed',
      result: { savings: 42 },
      error: null,
      execution_time_ms: expect.any(Number) as unknown,
    });
    expect(params).toEqual({ n: 1 });
    expect(ctx).toMatchObject({
      taskId: body.task_id,
      taskType: 'analyze_cost',
      attempt: 2,
      priority: 5,
      timeoutSeconds: 30,
      metadata: { origin: 'test' },
      verified: true,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    // The signing time (whole seconds) plus the signed timeout_seconds.
    expect(ctx?.deadline.getTime()).toBe(Math.floor(at.getTime() / 1000) * 1000 + 30_000);
    expect(ctx?.signal.aborted).toBe(false);
  });

  it('takes the attempt and the deadline only from signed values, never from the unsigned headers', async () => {
    const fake = await fakeOrchestrator();
    const seen: TaskContext[] = [];
    const agent = newAgent(fake).handle('echo', (_p, ctx) => void seen.push(ctx));
    await agent.start();
    const forged = { 'x-optiinfra-attempt': '7', 'x-optiinfra-deadline': new Date(Date.now() + 3_600_000).toISOString() };
    const before = Date.now();
    expect((await deliver(agent, taskBody('echo', { timeout_seconds: 20 }), { attempt: 3, headers: forged })).status).toBe(200);
    // An id that names another task says nothing about this one's attempt.
    const other = taskBody('echo', { timeout_seconds: 20 });
    expect((await deliver(agent, other, { headers: forged })).status).toBe(200);
    expect(seen.map((c) => c.attempt)).toEqual([3, 1]);
    for (const ctx of seen) expect(ctx.deadline.getTime()).toBeLessThanOrEqual(before + 21_000);
  });

  it('refuses a delivery sent again (409 duplicate_delivery) without running the handler again, also while it still runs', async () => {
    const fake = await fakeOrchestrator();
    let ran = 0;
    const entered = deferred();
    const release = deferred();
    const agent = newAgent(fake).handle('slow', async () => {
      ran++;
      entered.resolve();
      await release.promise;
      return { ran };
    });
    await agent.start();
    // A captured delivery: the same id, timestamp, signature and body each time.
    const text = JSON.stringify(taskBody('slow'));
    const now = new Date();
    const id = `${String((JSON.parse(text) as { task_id: string }).task_id)}:1`;
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(fake.signingSecret).sign(id, now, text),
    };
    const send = async () => {
      const res = await fetch(`${agent.url}/task`, { method: 'POST', headers, body: text });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const first = send();
    await entered.promise;
    const whileRunning = await send();
    release.resolve();
    expect(await first).toMatchObject({ status: 200, body: { status: 'completed', result: { ran: 1 } } });
    const replays = [whileRunning];
    for (let i = 0; i < 5; i++) replays.push(await send());
    for (const replay of replays)
      expect(replay).toMatchObject({
        status: 409,
        body: {
          status: 'failed',
          code: 'duplicate_delivery',
          error: expect.stringContaining(`delivery ${id} was already accepted`) as unknown,
        },
      });
    expect(ran).toBe(1);
  });

  it('rejects a delivery whose signature does not match with 401 and says why, without running the handler', async () => {
    const fake = await fakeOrchestrator();
    let calls = 0;
    const agent = newAgent(fake).handle('echo', () => ++calls);
    await agent.start();

    const wrongSecret = await deliver(agent, taskBody('echo'), { secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` });
    const body = taskBody('echo');
    const tampered = await (async () => {
      const now = new Date();
      const text = JSON.stringify(body);
      const res = await fetch(`${agent.url}/task`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': String(body.task_id),
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(fake.signingSecret).sign(String(body.task_id), now, text),
        },
        body: text.replace('"n":1', '"n":2'),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    })();

    for (const res of [wrongSecret, tampered]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        status: 'failed',
        code: 'invalid_signature',
        error: 'invalid webhook signature: No matching signature found',
      });
    }
    expect(calls).toBe(0);
  });

  it('refuses unsigned deliveries by default, and accepts them only with requireSignatures: false (a sender that does not sign)', async () => {
    const fake = await fakeOrchestrator();
    let ran = 0;
    const strict = newAgent(fake).handle('echo', () => ({ ran: ++ran }));
    const lenient = newAgent(fake, { requireSignatures: false }).handle('echo', (_p, ctx) => ({ verified: ctx.verified }));
    await strict.start();
    await lenient.start();

    expect(await deliver(strict, taskBody('echo'), { unsigned: true })).toMatchObject({
      status: 401,
      body: { status: 'failed', code: 'invalid_signature', error: expect.stringContaining('missing webhook-signature header') as unknown },
    });
    expect(ran).toBe(0);
    expect(await deliver(strict, taskBody('echo'))).toMatchObject({ status: 200, body: { result: { ran: 1 } } });
    expect(await deliver(lenient, taskBody('echo'), { unsigned: true })).toMatchObject({
      status: 200,
      body: { status: 'completed', result: { verified: false } },
    });
  });

  it('refuses a delivery signed more than 5 minutes ago (a replay)', async () => {
    const fake = await fakeOrchestrator();
    let ran = 0;
    const agent = newAgent(fake).handle('echo', () => ({ ran: ++ran }));
    await agent.start();
    const body = JSON.stringify(taskBody('echo'));
    const id = 'replayed:1';
    const then = new Date(Date.now() - 6 * 60_000);
    const res = await fetch(`${agent.url}/task`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(then.getTime() / 1000)),
        'webhook-signature': new Webhook(fake.signingSecret).sign(id, then, body),
      },
      body,
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      code: 'invalid_signature',
      error: expect.stringContaining('invalid webhook signature') as unknown,
    });
    expect(ran).toBe(0);
  });

  it('answers 400 for an unknown task type, as the seed does', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake).handle('echo', () => ({}));
    await agent.start();
    const body = taskBody('reserved_instances');

    const res = await deliver(agent, body, { secret: fake.signingSecret });

    expect(res).toEqual({
      status: 400,
      body: {
        task_id: body.task_id,
        status: 'failed',
        error: 'No handler registered for task type: reserved_instances',
        code: 'unknown_task_type',
      },
    });
  });

  it('answers 400 for a body that is not JSON or not a task request', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake).handle('echo', () => ({}));
    await agent.start();

    const notJson = await deliver(agent, '{"task_id": ');
    const noType = await deliver(agent, { task_id: 'abc', parameters: {}, timeout_seconds: 30, priority: 5 });

    expect(notJson).toMatchObject({ status: 400, body: { status: 'failed', code: 'invalid_json' } });
    expect(noType).toMatchObject({
      status: 400,
      body: { task_id: 'abc', status: 'failed', code: 'invalid_request', error: expect.stringContaining('task_type') as unknown },
    });
  });

  it('answers 500 with status failed and the error message when the handler throws', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake).handle('explode', () => {
      throw new Error('account 123 not found');
    });
    await agent.start();
    const body = taskBody('explode');

    const res = await deliver(agent, body, { secret: fake.signingSecret });

    expect(res).toEqual({
      status: 500,
      body: {
        task_id: body.task_id,
        status: 'failed',
        result: null,
        error: 'account 123 not found',
        execution_time_ms: expect.any(Number) as unknown,
      },
    });
  });

  it('answers 503 beyond maxConcurrency so the orchestrator can try another agent', async () => {
    const fake = await fakeOrchestrator();
    const release = deferred();
    const entered = deferred();
    const agent = newAgent(fake, { maxConcurrency: 1 }).handle('work', async () => {
      entered.resolve();
      await release.promise;
      return 'ok';
    });
    await agent.start();
    const first = deliver(agent, taskBody('work'));
    await entered.promise;

    const second = await deliver(agent, taskBody('work'));
    release.resolve();

    expect(second).toMatchObject({
      status: 503,
      body: { status: 'failed', code: 'agent_busy', error: expect.stringContaining('max_concurrency 1') as unknown },
    });
    expect(await first).toMatchObject({ status: 200, body: { result: 'ok' } });
  });

  it('aborts the handler signal when the orchestrator hangs up or the deadline passes', async () => {
    const fake = await fakeOrchestrator();
    const reasons: string[] = [];
    const entered = deferred();
    const agent = newAgent(fake).handle('wait', (_p, ctx) => {
      entered.resolve();
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(reasons.push((ctx.signal.reason as Error).name))));
    });
    await agent.start();

    const hangUp = new AbortController();
    const pending = deliver(agent, taskBody('wait'), { signal: hangUp.signal }).catch(() => 'hung up');
    await entered.promise;
    hangUp.abort();
    expect(await pending).toBe('hung up');
    // The deadline is the signing time plus the signed timeout_seconds.
    const late = await deliver(agent, taskBody('wait', { timeout_seconds: 1 }));

    expect(reasons).toEqual(['AbortError', 'TimeoutError']);
    expect(late.status).toBe(200);
  });

  it('serves GET /health with the task types it handles', async () => {
    const fake = await fakeOrchestrator();
    const agent = newAgent(fake)
      .handle('analyze_cost', () => ({}))
      .handle('echo', () => ({}));
    await agent.start();

    const res = await fetch(`${agent.url}/health`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'healthy', registered_tasks: ['analyze_cost', 'echo'], in_flight: 0, max_concurrency: 10 });
  });
});
