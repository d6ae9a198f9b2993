/**
 * How the dispatcher's HTTP client reads an agent's answer (docs/routing.md, "Which failures are retried"),
 * against a real HTTP server on 127.0.0.1 answering each case.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAgentClient } from '../../functions/adapters/http-agent-client';
import { parseNetworkPolicy } from '../../functions/core/network-policy';

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

let server: http.Server;
let port: number;
const replies = new Map<string, Reply>();
/** Cancel notices the server got: path, headers and body. */
const notices: Array<{ path: string; headers: http.IncomingHttpHeaders; body: unknown }> = [];
const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 262_144);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url?.endsWith('/cancel')) {
        notices.push({ path: req.url, headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(req.url.includes('unknown') ? 404 : 200).end();
        return;
      }
      const { task_id } = JSON.parse(raw) as { task_id: string };
      const reply = replies.get(task_id) ?? { status: 500 };
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function deliver(taskId: string, reply: Reply) {
  replies.set(taskId, reply);
  const request = { task_id: taskId, task_type: 'work', parameters: {}, timeout_seconds: 5, priority: 5, metadata: {} };
  return client.deliver({ agentId: 'a', host: '127.0.0.1', port, signingSecret: '' }, request, 1, Date.now() + 5_000);
}

describe('HttpAgentClient classifies failed attempts', () => {
  it.each([
    ['500', { status: 500 }, true, 'failure', undefined],
    ['502', { status: 502 }, true, 'failure', undefined],
    ['503 without Retry-After', { status: 503 }, true, 'failure', undefined],
    ['503 with Retry-After: 7', { status: 503, headers: { 'retry-after': '7' } }, true, 'neutral', 7],
    ['429 with Retry-After: 2', { status: 429, headers: { 'retry-after': '2' } }, true, 'neutral', 2],
    ['429 without Retry-After', { status: 429 }, true, 'neutral', undefined],
    ['408', { status: 408 }, true, 'failure', undefined],
    ['401 (cannot verify the delivery)', { status: 401 }, true, 'failure', undefined],
    ['400 (refused the task)', { status: 400 }, false, 'neutral', undefined],
    ['404', { status: 404 }, false, 'neutral', undefined],
    ['422', { status: 422 }, false, 'neutral', undefined],
    ['200 with a body that is not JSON', { status: 200, body: 'ok!' }, true, 'failure', undefined],
    ['200 failed', { status: 200, body: { status: 'failed', error: 'quota' } }, true, 'neutral', undefined],
    [
      '200 failed, retryable false',
      { status: 200, body: { status: 'failed', error: 'no such account', retryable: false } },
      false,
      'neutral',
      undefined,
    ],
  ] as Array<[string, Reply, boolean, string, number | undefined]>)('%s', async (label, reply, retryable, health, retryAfter) => {
    const result = await deliver(`t-${label}`, reply);
    expect(result.kind).toBe('failed');
    if (result.kind !== 'failed') return;
    expect(result).toMatchObject({ retryable, health });
    expect(result.retryAfterSeconds).toBe(retryAfter);
    // The attempts_log names a non-200 answer http_error with its status; a 200 the agent failed stays `failed`.
    if (reply.status === 200) expect(result.outcome).toBeUndefined();
    else expect(result).toMatchObject({ outcome: 'http_error', httpStatus: reply.status });
  });

  it('says in the error when a refusal is not retried, and what the agent said', async () => {
    const refused = await deliver('t-refused', { status: 422, body: { error: 'account_id is required' } });
    expect(refused.kind === 'failed' && refused.error).toBe(
      'agent answered HTTP 422 (a 4xx refusal is not retried): {"error":"account_id is required"}',
    );
    const rejected = await deliver('t-rejected', { status: 200, body: { status: 'failed', error: 'no such account', retryable: false } });
    expect(rejected.kind === 'failed' && rejected.error).toBe('agent reported failure (marked not retryable): no such account');
  });

  it('reads an HTTP-date Retry-After as seconds from now', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const result = await deliver('t-date', { status: 503, headers: { 'retry-after': at } });
    expect(result.kind === 'failed' && result.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(result.kind === 'failed' && result.retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it('a refused connection is retryable and counts against the agent', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const request = { task_id: 't-refused-conn', task_type: 'work', parameters: {}, timeout_seconds: 5, priority: 5, metadata: {} };
    const result = await client.deliver(
      { agentId: 'a', host: '127.0.0.1', port: closedPort, signingSecret: '' },
      request,
      1,
      Date.now() + 5_000,
    );
    expect(result).toMatchObject({
      kind: 'failed',
      retryable: true,
      health: 'failure',
      error: expect.stringContaining('ECONNREFUSED') as unknown,
      outcome: 'unreachable',
    });
  });

  it('fails, without retry, an answer over the size limit or a result nested deeper than the store keeps', async () => {
    const small = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 1_024);
    replies.set('t-big', { status: 200, body: { status: 'completed', result: { blob: 'x'.repeat(5_000) } } });
    const request = { task_id: 't-big', task_type: 'work', parameters: {}, timeout_seconds: 5, priority: 5, metadata: {} };
    const big = await small.deliver({ agentId: 'a', host: '127.0.0.1', port, signingSecret: '' }, request, 1, Date.now() + 5_000);
    expect(big).toEqual({
      kind: 'failed',
      error:
        "the agent's answer is larger than the 1024-byte limit (MAX_AGENT_ANSWER_BYTES); return a reference to large results instead (not retried)",
      retryable: false,
      health: 'neutral',
    });

    // Written as text: JSON.stringify itself would overflow the stack on it.
    const deepBody = `{"status":"completed","result":${'{"next":'.repeat(5_000)}"leaf"${'}'.repeat(5_000)}}`;
    const deepAnswer = await deliver('t-deep', { status: 200, body: deepBody });
    expect(deepAnswer).toMatchObject({
      kind: 'failed',
      retryable: false,
      health: 'neutral',
      error: expect.stringContaining('nests more than 16 levels') as unknown,
    });

    let ok: unknown = 'leaf';
    for (let i = 0; i < 16; i++) ok = { next: ok };
    expect(await deliver('t-deep-ok', { status: 200, body: { status: 'completed', result: ok } })).toMatchObject({ kind: 'completed' });
  });

  it("keeps at most 2 000 characters of an agent's own error", async () => {
    const result = await deliver('t-long-error', { status: 200, body: { status: 'failed', error: 'e'.repeat(10_000) } });
    expect(result.kind === 'failed' && result.error.length).toBe('agent reported failure: '.length + 2_000);
  });

  it('a 202, with any body or none, is an accepted attempt', async () => {
    expect(await deliver('t-accepted', { status: 202, body: { task_id: 't-accepted', status: 'running' } })).toEqual({ kind: 'accepted' });
    expect(await deliver('t-accepted-any', { status: 202, body: 'queued' })).toEqual({ kind: 'accepted' });
  });

  it('sends a cancel notice signed as a delivery, to POST /task/{id}/cancel; a 404 (unknown task) is fine too', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const target = { agentId: 'a', host: '127.0.0.1', port, signingSecret: secret };
    expect(await client.notifyCancel(target, 'task-1', 2, 1_000)).toEqual({ ok: true, detail: 'agent answered HTTP 200' });
    expect(await client.notifyCancel(target, 'unknown', 1, 1_000)).toMatchObject({ ok: true });
    const [notice] = notices;
    expect(notice?.path).toBe('/task/task-1/cancel');
    expect(notice?.body).toEqual({ task_id: 'task-1', attempt: 2, reason: 'cancelled' });
    expect(notice?.headers['webhook-id']).toBe('task-1:2:cancel');
    const { Webhook } = await import('standardwebhooks');
    const raw = JSON.stringify(notice?.body);
    expect(() => new Webhook(secret).verify(raw, notice!.headers as Record<string, string>)).not.toThrow();
    expect(await client.notifyCancel({ ...target, port: 1 }, 'task-1', 2, 1_000)).toMatchObject({ ok: false });
  });

  it('a completed answer is a success', async () => {
    expect(await deliver('t-ok', { status: 200, body: { status: 'completed', result: { n: 1 }, execution_time_ms: 3 } })).toEqual({
      kind: 'completed',
      result: { n: 1 },
      executionTimeMs: 3,
    });
  });
});

describe('HttpAgentClient over https', () => {
  const request = { task_id: 't-tls', task_type: 'work', parameters: {}, timeout_seconds: 5, priority: 5, metadata: {} };

  it('still checks the resolved address against the network policy before any TLS', async () => {
    const guarded = new HttpAgentClient(parseNetworkPolicy('10.0.0.0/8', false), 262_144);
    const result = await guarded.deliver(
      { agentId: 'a', host: 'localhost', port, scheme: 'https', signingSecret: '' },
      request,
      1,
      Date.now() + 5_000,
    );
    expect(result).toMatchObject({ kind: 'failed', error: expect.stringContaining('agent address blocked') as unknown });
  });

  it('a plain HTTP server behind an https registration fails the attempt, retryably', async () => {
    const result = await client.deliver(
      { agentId: 'a', host: '127.0.0.1', port, scheme: 'https', signingSecret: '' },
      request,
      1,
      Date.now() + 5_000,
    );
    expect(result).toMatchObject({ kind: 'failed', retryable: true, health: 'failure' });
  });
});
