/**
 * Caller authentication on one machine: with API_TOKENS set, every route but GET /health needs
 * `Authorization: Bearer <token>`, any listed token works (rotation), and agents that send a token
 * register and run tasks. (On AWS, API Gateway's IAM or JWT authorizer does this job.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/api/routes';
import { startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { NODE, startProcess } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { call } from '../support/checked-call';

const OLD = 'old-token-0123456789abcdef';
const NEW = 'new-token-fedcba9876543210';
const FLEET_OLD = 'fleet-old-0123456789abcdef';
const FLEET_NEW = 'fleet-new-fedcba9876543210';
const UNKNOWN = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';
let orch: LocalOrchestrator;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  // With the example cost agents: they are started with the first token.
  orch = await startLocalOrchestrator({ API_TOKENS: `${OLD}, ${NEW}`, FLEET_TOKENS: `${FLEET_OLD},${FLEET_NEW}` }, []);
});

afterAll(async () => {
  await Promise.all(stops.map((s) => s()));
  await orch?.dispose();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('bearer tokens on the local API', () => {
  it('says at start that a token is required', () => {
    expect(orch.proc.output()).toContain('Auth      bearer token required on every route but GET /health (2 accepted, from API_TOKENS)');
  });

  it('keeps GET /health open', async () => {
    expect((await call(orch.url, 'GET', '/health')).status).toBe(200);
  });

  it.each(API_ROUTES.filter((r) => !r.public).map((r) => [r.method, r.path.replace('{id}', UNKNOWN)]))(
    'refuses %s %s without a token, or with a wrong one, saying what to send',
    async (method, path) => {
      const body = method === 'POST' ? {} : undefined;
      const none = await call(orch.url, method, path, body);
      expect(none.status).toBe(401);
      expect(none.body).toEqual({
        error:
          'no bearer token was sent: send "Authorization: Bearer <token>" with a token from API_TOKENS (only GET /health and GET /openapi.json are open)',
        code: 'unauthorized',
      });
      for (const header of [
        bearer('not-the-token-0123456789'),
        { authorization: OLD },
        { authorization: `Basic ${OLD}` },
        bearer(`${OLD}x`),
      ]) {
        const wrong = await call(orch.url, method, path, body, header);
        expect(wrong.status).toBe(401);
        expect(String(wrong.body.error)).toContain('the bearer token is not one this orchestrator accepts');
      }
    },
  );

  it('accepts either listed token, so a token can be rotated without downtime', async () => {
    for (const token of [OLD, NEW]) {
      const res = await call<{ agents: Array<{ name: string; status: string }> }>(
        orch.url,
        'GET',
        '/agents?type=cost',
        undefined,
        bearer(token),
      );
      expect(res.status).toBe(200);
      // The example agents registered with the first token.
      expect(res.body.agents.map((a) => [a.name, a.status])).toEqual([
        ['cost-agent-1', 'healthy'],
        ['cost-agent-2', 'healthy'],
      ]);
    }
    const submitted = await call<{ task_id: string }>(
      orch.url,
      'POST',
      '/tasks',
      { task_type: 'analyze_cost', agent_type: 'cost' },
      bearer(NEW),
    );
    expect(submitted.status).toBe(201);
    // Read back with the other token.
    const status = await waitUntil(
      'the task completes',
      async () => String((await call(orch.url, 'GET', `/tasks/${submitted.body.task_id}`, undefined, bearer(OLD))).body.status),
      (s) => s === 'completed',
      { timeoutMs: 30_000 },
    );
    expect(status).toBe('completed');
  }, 60_000);

  it('keeps Idempotency-Keys per token: the same key from two tokens makes two tasks', async () => {
    const submit = (token: string) =>
      call<{ task_id: string }>(
        orch.url,
        'POST',
        '/tasks',
        { task_type: 'analyze_cost', agent_type: 'cost' },
        { ...bearer(token), 'idempotency-key': 'shared-key-1' },
      );
    const first = await submit(OLD);
    const second = await submit(NEW);
    const again = await submit(OLD);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.task_id).not.toBe(first.body.task_id);
    // The same caller with the same key still gets its own task back.
    expect(again.body.task_id).toBe(first.body.task_id);
  });

  it('lets an agent that sends a token register; one without is refused and says why', async () => {
    const withToken = await startFaultAgent(orch.url, { mode: 'ok', type: 'authed', apiToken: NEW, fleetToken: FLEET_NEW });
    stops.push(() => withToken.stop());
    expect((await call(orch.url, 'GET', `/agents/${withToken.id}`, undefined, bearer(OLD))).body).toMatchObject({ status: 'healthy' });

    const without = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/fault-agent.ts',
      '--name',
      'no-token',
      '--type',
      'authed',
      '--orchestrator',
      orch.url,
    ]);
    stops.push(() => without.stop());
    const code = await new Promise<number | null>((resolve) => without.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(without.output()).toContain('HTTP 401 unauthorized');
  });

  it('needs a fleet token to register an agent (either of two, for rotation), and says which header', async () => {
    const body = { name: 'fleet-check', type: 'fleet', host: '127.0.0.1', port: 9301, capabilities: ['work'] };
    const none = await call(orch.url, 'POST', '/agents/register', body, bearer(OLD));
    expect(none).toMatchObject({
      status: 401,
      body: { code: 'fleet_token_required', error: expect.stringContaining('X-Fleet-Token') as unknown },
    });
    const wrong = await call(orch.url, 'POST', '/agents/register', body, { ...bearer(OLD), 'x-fleet-token': 'not-the-fleet-token-000' });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'fleet_token_invalid' } });
    // One agent per token: registering a live agent again would need its own token as well.
    for (const [i, fleet] of [FLEET_OLD, FLEET_NEW].entries()) {
      const agent = { ...body, name: `fleet-check-${i}` };
      expect((await call(orch.url, 'POST', '/agents/register', agent, { ...bearer(OLD), 'x-fleet-token': fleet })).status).toBe(201);
    }
    expect(orch.proc.output()).toContain('registration needs X-Fleet-Token (2 accepted, from FLEET_TOKENS)');
  });

  it('refuses to start with a weak token', async () => {
    const proc = startProcess(
      NODE,
      ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'local/main.ts', '--port', '0', '--no-agents'],
      { API_TOKENS: 'short' },
    );
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(proc.output()).toContain('API_TOKENS must list tokens of at least 16 characters');
  });
});
