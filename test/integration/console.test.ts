/**
 * The console as `npm start` serves it: the URL printed at start, the page bundled from the
 * sources with its security headers, and GET /ui/metrics behind the same token as the API.
 * The browser tests drive the page itself.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { startCliConsole } from '../support/cli-console';

const TOKEN = 'console-it-token-0123456789';
let orch: LocalOrchestrator;

beforeAll(async () => {
  orch = await startLocalOrchestrator({ API_TOKENS: TOKEN });
});
afterAll(() => orch?.dispose());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${orch.url}${path}`, { headers, redirect: 'manual' });

describe('the console on the local runtime', () => {
  it('prints its URL at start', () => {
    expect(orch.proc.output()).toContain(`Console   ${orch.url}/ui/`);
  });

  it('serves the page without a token: it holds no data', async () => {
    const res = await get('/ui/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="app.css" />');
    const redirect = await get('/ui');
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/ui/']);
  });

  it('serves the script as JavaScript and the style as CSS, with the page security headers', async () => {
    for (const [path, type] of [
      ['/ui/', 'text/html; charset=utf-8'],
      ['/ui/app.js', 'text/javascript; charset=utf-8'],
      ['/ui/app.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';/,
      );
    }
  });

  it('serves the page bundled from its sources, small, with no schema library in it', async () => {
    const js = Buffer.from(await (await get('/ui/app.js')).arrayBuffer());
    const text = js.toString('utf8');
    for (const hook of ['tasks-page', 'task-page', 'agents-page', 'metrics-page', 'token-form', 'submit-form'])
      expect(text).toContain(hook);
    expect(text).not.toContain('zod');
    expect(gzipSync(js).length).toBeLessThan(20_000);
  });

  it('asks for the bearer token on /ui/metrics, and checks the window asked for', async () => {
    const none = await get('/ui/metrics?minutes=60');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('unauthorized');
    const wrong = await get('/ui/metrics?minutes=500', { authorization: `Bearer ${TOKEN}` });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({
      error: 'minutes must be a whole number from 1 to 180, given once, such as ?minutes=60 (got "500")',
      code: 'bad_request',
    });
  });
});

describe('optiinfra console --api against the local runtime', () => {
  it("forwards the page's token when given none, so the page asks for it as on the runtime itself", async () => {
    const proxy = await startCliConsole(orch.url, []);
    try {
      expect(proxy.lines[0]).toBe(`Console ${proxy.url}/ui/ -> ${orch.url}/ (with the page's own token, if any)`);
      const refused = await fetch(`${proxy.url}/agents`);
      expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
      const agents = await fetch(`${proxy.url}/agents`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(agents.status).toBe(200);
      // The runtime's own recorder answers GET /ui/metrics, through the proxy.
      const metrics = await fetch(`${proxy.url}/ui/metrics?minutes=15`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([metrics.status, ((await metrics.json()) as { source: string }).source]).toEqual([200, 'local']);
      expect((await fetch(`${proxy.url}/ui/`)).status).toBe(200);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });

  it("sends --token with every call, and gives back the runtime's answers as they are", async () => {
    const proxy = await startCliConsole(orch.url, ['--token', TOKEN]);
    try {
      const origin = proxy.url;
      const listed = await fetch(`${proxy.url}/tasks?limit=5`);
      expect(listed.status).toBe(200);
      // No agent runs here: the runtime refuses a submit with its reason, and the page shows it.
      const task = JSON.stringify({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '1' } });
      const submitted = await fetch(`${proxy.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'console-cli-1', origin },
        body: task,
      });
      const direct = await fetch(`${orch.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'console-cli-2', authorization: `Bearer ${TOKEN}` },
        body: task,
      });
      expect(submitted.status).toBe(503);
      expect(await submitted.json()).toEqual(await direct.json());
      const cancel = await fetch(`${proxy.url}/tasks/00000000-0000-4000-8000-000000000000`, { method: 'DELETE', headers: { origin } });
      expect([cancel.status, ((await cancel.json()) as { code: string }).code]).toEqual([404, 'task_not_found']);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });
});
