import { ApiError, ConfigurationError, createClient, NetworkError, TimeoutError } from '@optiinfra/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RecordingServer, startRecordingServer } from './recording-server';

const TASK_ID = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function task(status: string, extra: Record<string, unknown> = {}) {
  return {
    task_id: TASK_ID,
    status,
    agent_id: '',
    task_type: 'analyze_cost',
    agent_type: 'cost',
    priority: 5,
    created_at: '2026-12-01T00:00:00.000Z',
    retry_count: 0,
    attempts: status === 'pending' ? 0 : 1,
    progress: null,
    progress_message: null,
    last_progress_at: null,
    ...extra,
  };
}
const SUBMITTED = {
  task_id: TASK_ID,
  status: 'pending',
  agent_id: '',
  created_at: '2026-12-01T00:00:00.000Z',
  status_url: `/tasks/${TASK_ID}`,
};

let server: RecordingServer;
beforeEach(async () => {
  server = await startRecordingServer();
});
afterEach(async () => {
  await server.close();
});

/** Retries at once, so tests need not wait out a backoff. */
const fast = () => createClient({ apiUrl: server.url, retryBaseDelayMs: 1, retryMaxDelayMs: 1 });

describe('submit', () => {
  it('posts the task as JSON with a new Idempotency-Key per call and answers the 201', async () => {
    server.reply({ status: 201, body: SUBMITTED }, { status: 201, body: SUBMITTED });
    const client = fast();
    await expect(client.submit({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '123' } })).resolves.toEqual(
      SUBMITTED,
    );
    await client.submit({ task_type: 'analyze_cost', agent_type: 'cost' });
    const [first, second] = server.requests;
    expect(first).toMatchObject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(first!.body)).toEqual({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '123' } });
    expect(first!.headers['idempotency-key']).toMatch(UUID);
    expect(second!.headers['idempotency-key']).toMatch(UUID);
    expect(second!.headers['idempotency-key']).not.toBe(first!.headers['idempotency-key']);
  });

  it('sends the same Idempotency-Key again on each retry of a 503, a 429 and a lost answer', async () => {
    server.reply(
      { status: 503, body: { error: 'retry', code: 'dependency_error' } },
      { status: 429, body: { message: 'Too Many Requests' } },
      { hangUp: true },
      { status: 201, body: SUBMITTED },
    );
    await expect(fast().submit({ task_type: 'analyze_cost', agent_type: 'cost' })).resolves.toEqual(SUBMITTED);
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);
  });

  it('sends a caller-chosen key, or none with idempotencyKey: false, and then does not repeat a lost submit', async () => {
    server.reply({ status: 201, body: SUBMITTED }, { hangUp: true });
    const client = fast();
    await client.submit({ task_type: 'a', agent_type: 'b' }, { idempotencyKey: 'order-42' });
    await expect(client.submit({ task_type: 'a', agent_type: 'b' }, { idempotencyKey: false })).rejects.toBeInstanceOf(NetworkError);
    expect(server.requests.map((r) => r.headers['idempotency-key'])).toEqual(['order-42', undefined]);
  });

  it('raises the API error with its status, code and details, without retrying a 400 or a no_capable_agent 503', async () => {
    const details = [{ field: 'priority', message: 'must be an integer from 1 to 15' }];
    server.reply(
      { status: 400, body: { error: 'invalid task: priority must be an integer', code: 'validation_error', details } },
      { status: 503, body: { error: 'no cost agent offers tune_inference', code: 'no_capable_agent' } },
    );
    const client = fast();
    const bad = await client.submit({ task_type: 'a', agent_type: 'b', priority: 99 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad).toMatchObject({ status: 400, code: 'validation_error', message: 'invalid task: priority must be an integer', details });
    await expect(client.submit({ task_type: 'tune_inference', agent_type: 'cost' })).rejects.toMatchObject({
      status: 503,
      code: 'no_capable_agent',
    });
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxRetries and raises the last answer', async () => {
    server.reply(...Array.from({ length: 3 }, () => ({ status: 503, body: { error: 'busy', code: 'dependency_error' } })));
    const client = createClient({ apiUrl: server.url, maxRetries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 1 });
    await expect(client.submit({ task_type: 'a', agent_type: 'b' })).rejects.toMatchObject({ status: 503, code: 'dependency_error' });
    expect(server.requests).toHaveLength(3);
  });
});

describe('reads', () => {
  it('sends the bearer token and reads a task and an agent', async () => {
    server.reply({ status: 200, body: task('completed') }, { status: 200, body: { id: 'a1', name: 'cost-agent-1' } });
    const client = createClient({ apiUrl: `${server.url}/`, token: 'secret-1' });
    await expect(client.get(TASK_ID)).resolves.toMatchObject({ status: 'completed' });
    await expect(client.agent('a1')).resolves.toMatchObject({ name: 'cost-agent-1' });
    expect(server.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', `/tasks/${TASK_ID}`, 'Bearer secret-1'],
      ['GET', '/agents/a1', 'Bearer secret-1'],
    ]);
  });

  it('keeps a base path of the API URL and escapes ids in paths', async () => {
    server.reply({ status: 404, body: { error: 'task not found', code: 'task_not_found' } });
    await expect(createClient({ apiUrl: `${server.url}/prod` }).get('../agents')).rejects.toMatchObject({
      status: 404,
      code: 'task_not_found',
    });
    expect(server.requests[0]?.url).toBe('/prod/tasks/..%2Fagents');
  });

  it('lists every page by following next_token with the same filters', async () => {
    server.reply(
      { status: 200, body: { tasks: [task('failed')], count: 1, next_token: 'page2' } },
      { status: 200, body: { tasks: [], count: 0, next_token: 'page3' } },
      { status: 200, body: { tasks: [task('failed')], count: 1 } },
    );
    const counts: number[] = [];
    for await (const page of fast().list({ status: 'failed', agent_type: 'cost', limit: 1 })) counts.push(page.count);
    expect(counts).toEqual([1, 0, 1]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/tasks?status=failed&agent_type=cost&limit=1',
      '/tasks?status=failed&agent_type=cost&limit=1&next_token=page2',
      '/tasks?status=failed&agent_type=cost&limit=1&next_token=page3',
    ]);
  });

  it('lists agents a page at a time', async () => {
    server.reply(
      { status: 200, body: { agents: [{ name: 'a' }], count: 1, next_token: 'n1' } },
      { status: 200, body: { agents: [{ name: 'b' }], count: 1 } },
    );
    const names: string[] = [];
    for await (const page of fast().agents({ type: 'cost', status: 'healthy' })) names.push(...page.agents.map((a) => a.name));
    expect(names).toEqual(['a', 'b']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/agents?type=cost&status=healthy',
      '/agents?type=cost&status=healthy&next_token=n1',
    ]);
  });

  it('cancels with DELETE and does not repeat it after a lost answer', async () => {
    server.reply({ status: 200, body: { message: 'cancelled', task_id: TASK_ID, status: 'cancelled' } }, { hangUp: true });
    const client = fast();
    await expect(client.cancel(TASK_ID)).resolves.toMatchObject({ status: 'cancelled' });
    await expect(client.cancel(TASK_ID)).rejects.toBeInstanceOf(NetworkError);
    expect(server.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
  });
});

describe('failures to reach the API', () => {
  it('raises a NetworkError naming the address when nothing listens', async () => {
    const url = server.url;
    await server.close();
    server = await startRecordingServer();
    const err = await createClient({ apiUrl: url, maxRetries: 0 })
      .get(TASK_ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toContain(`could not reach the API at ${url} (ECONNREFUSED)`);
  });

  it('counts a request with no answer within requestTimeoutMs as a network error', async () => {
    server.reply({ silent: true });
    const err = await createClient({ apiUrl: server.url, maxRetries: 0, requestTimeoutMs: 200 })
      .get(TASK_ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/no answer .* within 200 ms/);
  });

  it('refuses a URL that is not http(s) before sending anything', () => {
    expect(() => createClient({ apiUrl: 'ftp://example.com' })).toThrow(ConfigurationError);
    expect(() => createClient({ apiUrl: '127.0.0.1:8080' })).toThrow(/apiUrl must be an http\(s\) URL/);
  });

  it('rejects with the signal reason when the caller aborts', async () => {
    server.reply({ silent: true });
    const abort = new AbortController();
    const pending = fast().get(TASK_ID, { signal: abort.signal });
    await server.received(1);
    const reason = new Error('caller gave up');
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('wait and run', () => {
  it('long-polls with ?wait until the task is terminal, reporting each state seen', async () => {
    server.reply({ status: 200, body: task('running') }, { status: 200, body: task('completed', { result: { savings: 12 } }) });
    const seen: string[] = [];
    const done = await fast().wait(TASK_ID, { onUpdate: (t) => seen.push(t.status) });
    expect(done).toMatchObject({ status: 'completed', result: { savings: 12 } });
    expect(seen).toEqual(['running']);
    expect(server.requests.map((r) => r.url)).toEqual([`/tasks/${TASK_ID}?wait=20`, `/tasks/${TASK_ID}?wait=20`]);
  });

  it('resolves with a failed, timed out or cancelled task too', async () => {
    server.reply({ status: 200, body: task('timeout', { error: 'no answer within 30 s' }) });
    await expect(fast().wait(TASK_ID, { pollSeconds: 99 })).resolves.toMatchObject({ status: 'timeout' });
    expect(server.requests[0]?.url).toBe(`/tasks/${TASK_ID}?wait=20`);
  });

  it('paces a server that ignores ?wait at one request a second, and gives up at timeoutMs with the last state', async () => {
    const fallback = await startRecordingServer(() => ({ status: 200, body: task('running') }));
    try {
      const started = Date.now();
      const err = await createClient({ apiUrl: fallback.url })
        .wait(TASK_ID, { timeoutMs: 2_500 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).task).toMatchObject({ status: 'running' });
      expect((err as Error).message).toContain('it was running after 1 attempt(s)');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
      // Three or four polls in 2.5 s, not hundreds; each asks the server to hold it no longer than is left.
      expect(fallback.requests.length).toBeLessThanOrEqual(4);
      expect(fallback.requests[0]?.url).toBe(`/tasks/${TASK_ID}?wait=3`);
    } finally {
      await fallback.close();
    }
  });

  it('run submits with an Idempotency-Key, then waits for the task it created', async () => {
    server.reply({ status: 201, body: SUBMITTED }, { status: 200, body: task('completed', { result: { ok: true } }) });
    await expect(fast().run({ task_type: 'analyze_cost', agent_type: 'cost' }, { pollSeconds: 3 })).resolves.toMatchObject({
      result: { ok: true },
    });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /tasks', `GET /tasks/${TASK_ID}?wait=3`]);
    expect(server.requests[0]?.headers['idempotency-key']).toMatch(UUID);
  });
});
