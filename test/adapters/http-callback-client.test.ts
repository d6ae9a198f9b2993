/**
 * How the callback client sends and reads a receiver's answer (docs/api.md, "Told when it ends"),
 * against a real HTTP server on 127.0.0.1 and a real closed port, under a real network policy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAgentClient } from '../../functions/adapters/http-agent-client';
import { HttpCallbackClient } from '../../functions/adapters/http-callback-client';
import { parseNetworkPolicy } from '../../functions/core/network-policy';
import { freePort } from '../../harness/processes';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let server: http.Server;
let port: number;
const got: Array<{ path: string; headers: http.IncomingHttpHeaders; raw: string }> = [];
const client = new HttpCallbackClient(new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 262_144));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, raw });
      // The path names the answer: /status/503, /slow, /redirect.
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 2000);
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/status/200' }).end();
      res.writeHead(Number(new URL(req.url ?? '/', 'http://x').pathname.split('/')[2] ?? 200)).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const send = (url: string, timeoutMs = 5000) =>
  client.send({ url, secret: SECRET }, 'task-1:callback', '{"status":"completed"}', timeoutMs);

describe('HttpCallbackClient', () => {
  it('POSTs the body to the path and query of the URL, signed with the Standard Webhooks secret under the id given', async () => {
    expect(await send(`http://127.0.0.1:${port}/status/204?team=a`)).toEqual({ kind: 'delivered' });
    const last = got.at(-1)!;
    expect(last.path).toBe('/status/204?team=a');
    expect(last.headers['webhook-id']).toBe('task-1:callback');
    expect(new Webhook(SECRET).verify(last.raw, last.headers as Record<string, string>)).toEqual({ status: 'completed' });
  });

  it.each([
    [503, true],
    [429, true],
    [404, false],
  ])('reads HTTP %i as failed, retryable: %s', async (status, retryable) => {
    expect(await send(`http://127.0.0.1:${port}/status/${status}`)).toMatchObject({ kind: 'failed', retryable });
  });

  it('follows no redirect, and does not try one again', async () => {
    const before = got.length;
    expect(await send(`http://127.0.0.1:${port}/redirect`)).toEqual({
      kind: 'failed',
      error: 'the callback URL answered HTTP 302 (not retried)',
      retryable: false,
    });
    expect(got.length).toBe(before + 1);
  });

  it('tries again after no answer in time, or a refused connection', async () => {
    expect(await send(`http://127.0.0.1:${port}/slow`, 200)).toEqual({
      kind: 'failed',
      error: 'the callback URL gave no answer within 0.2 s',
      retryable: true,
    });
    const closed = await freePort();
    expect(await send(`http://127.0.0.1:${closed}/cb`)).toEqual({
      kind: 'failed',
      error: `could not reach the callback URL at 127.0.0.1:${closed} (ECONNREFUSED)`,
      retryable: true,
    });
  });

  it('refuses an address the network policy does not allow, without connecting, and for good', async () => {
    const before = got.length;
    expect(await send('http://169.254.169.254/latest/meta-data')).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/^callback URL blocked: 169\.254\.169\.254 is in the linkLocal range/),
      retryable: false,
    });
    // A name is refused at the socket's lookup, on the address it resolves to now, as deliveries are.
    const privateOnly = new HttpCallbackClient(new HttpAgentClient(parseNetworkPolicy('10.0.0.0/8', false), 262_144));
    expect(
      await privateOnly.send({ url: `http://localhost:${port}/status/200`, secret: SECRET }, 'task-1:callback', '{}', 5000),
    ).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/^callback URL blocked: (127\.0\.0\.1|::1) .*is not in ALLOWED_AGENT_NETWORKS/),
      retryable: false,
    });
    expect(got.length).toBe(before);
  });
});
