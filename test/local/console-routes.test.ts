/**
 * The console's paths on the local API server: the page's files open to all with a page's security
 * headers and revalidation, /ui/metrics behind the API's bearer token with its window checked. The
 * server, its sockets and the HTTP are real; the files and the metrics source are the test's.
 */
import type { ConsoleMetrics } from '@optiinfra/console';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiLambda } from '../../local/api-server';
import { startApiServer } from '../../local/api-server';
import { CONSOLE_SECURITY_HEADERS } from '@optiinfra/console';

const TOKEN = 'console-token-0123456789';
const notApi: ApiLambda = async () => ({ statusCode: 404, headers: { 'content-type': 'application/json' }, body: '{"code":"not_found"}' });
const handlers = { health: notApi, agents: notApi, tasks: notApi };
const file = (type: string, text: string) => ({ type, body: Buffer.from(text) });
const assets = new Map([
  ['index.html', file('text/html; charset=utf-8', '<!doctype html><div id="app"></div>')],
  ['app.js', file('text/javascript; charset=utf-8', 'console.log(1)')],
  ['app.css', file('text/css; charset=utf-8', 'body{}')],
]);
const asked: number[] = [];
const metrics = async (minutes: number): Promise<ConsoleMetrics> => {
  asked.push(minutes);
  return { source: 'local', minutes, period_seconds: 60, end: '2026-12-02T10:00:00.000Z', series: [] };
};

type Server = Awaited<ReturnType<typeof startApiServer>>;
let guarded: Server;
let open: Server;

beforeAll(async () => {
  guarded = await startApiServer({ host: '127.0.0.1', port: 0, handlers, bearerTokens: [TOKEN], console: { assets, metrics } });
  open = await startApiServer({ host: '127.0.0.1', port: 0, handlers, console: { assets } });
});
afterAll(async () => {
  await guarded?.stop();
  await open?.stop();
});

const get = (server: Server, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${server.url}${path}`, { method, headers, redirect: 'manual' });
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('the console on the local API server', () => {
  it('serves the page at /ui/ without a token, as HTML revalidated on every load', async () => {
    const res = await get(guarded, '/ui/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe('<!doctype html><div id="app"></div>');
  });

  it('sends the page security headers with every answer of /ui', async () => {
    for (const [path, status] of [
      ['/ui/', 200],
      ['/ui/app.js', 200],
      ['/ui', 302],
      ['/ui/metrics', 401],
      ['/ui/missing.js', 404],
    ] as const) {
      const res = await get(guarded, path);
      expect(res.status).toBe(status);
      for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
    }
    expect(CONSOLE_SECURITY_HEADERS['content-security-policy']).toContain("script-src 'self'");
    expect(CONSOLE_SECURITY_HEADERS['content-security-policy']).toContain("connect-src 'self'");
    expect(CONSOLE_SECURITY_HEADERS['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('sends each file with its type, and answers 304 to a browser that has it', async () => {
    const js = await get(guarded, '/ui/app.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
    const etag = js.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await get(guarded, '/ui/app.js', { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await get(guarded, '/ui/app.css', { 'if-none-match': etag! })).status).toBe(200);
    const head = await get(guarded, '/ui/app.css', {}, 'HEAD');
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '6', '']);
  });

  it('sends /ui to /ui/, keeping its query', async () => {
    const res = await get(guarded, '/ui?x=1');
    expect([res.status, res.headers.get('location')]).toEqual([302, '/ui/?x=1']);
  });

  it('names the files it has when asked for another, and allows GET only', async () => {
    const missing = await get(guarded, '/ui/secret.txt');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: 'the console has no file "secret.txt": open /ui/ (its files are index.html, app.js, app.css)',
      code: 'not_found',
    });
    const post = await fetch(`${guarded.url}/ui/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual({
      error: "POST is not allowed on /ui/: the console's paths answer GET only",
      code: 'method_not_allowed',
    });
  });

  it('keeps /ui/metrics behind the bearer token, as the API', async () => {
    const none = await get(guarded, '/ui/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { code: string }).code).toBe('unauthorized');
    expect((await get(guarded, '/ui/metrics', { authorization: 'Bearer not-the-token-0123' })).status).toBe(401);
    const res = await get(guarded, '/ui/metrics?minutes=15', bearer);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ source: 'local', minutes: 15, period_seconds: 60, end: '2026-12-02T10:00:00.000Z', series: [] });
  });

  it('reads the last hour when no window is given, and from 1 to 180 minutes', async () => {
    asked.length = 0;
    for (const query of ['', '?minutes=1', '?minutes=180']) expect((await get(guarded, `/ui/metrics${query}`, bearer)).status).toBe(200);
    expect(asked).toEqual([60, 1, 180]);
  });

  it.each([
    ['?minutes=0', '(got "0")'],
    ['?minutes=181', '(got "181")'],
    ['?minutes=1.5', '(got "1.5")'],
    ['?minutes=', '(got "")'],
    ['?minutes=abc', '(got "abc")'],
    ['?minutes=5&minutes=6', '(got 2 values)'],
  ])('answers 400 to %s, saying what to send', async (query, got) => {
    const res = await get(guarded, `/ui/metrics${query}`, bearer);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: `minutes must be a whole number from 1 to 180, given once, such as ?minutes=60 ${got}`,
      code: 'bad_request',
    });
  });

  it('answers 404 to /ui/metrics where no metrics are kept, and needs no token where the API needs none', async () => {
    expect((await get(open, '/ui/')).status).toBe(200);
    const res = await get(open, '/ui/metrics');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: 'this server keeps no metrics for the console: GET /ui/metrics has nothing to answer',
      code: 'not_found',
    });
  });

  it('leaves the API paths to the API, token and all', async () => {
    expect((await get(guarded, '/tasks')).status).toBe(401);
    expect((await get(guarded, '/uix')).status).toBe(404);
  });
});
