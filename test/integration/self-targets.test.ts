/**
 * The orchestrator never delivers to its own services: found by an attacker with a fleet token, who
 * registered "agents" on the local stand-ins' ports and read their replies from the tasks' errors.
 * Refused at registration (400, saying why) and at delivery (the outbound guard, on resolved addresses).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAgentClient } from '../../functions/adapters/http-agent-client';
import { parseNetworkPolicy } from '../../functions/core/network-policy';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

const SECRET = 'secret-of-a-service-that-is-not-an-agent';

describe('npm start refuses its own services as agents', () => {
  let orch: LocalOrchestrator;
  const services: Record<string, number> = {};
  beforeAll(async () => {
    orch = await startLocalOrchestrator();
    const out = orch.proc.output();
    const portIn = (pattern: RegExp) => Number(out.match(pattern)?.[1]);
    services.api = Number(new URL(orch.url).port);
    services.dynalite = portIn(/DynamoDB {2}dynalite on http:\/\/127\.0\.0\.1:(\d+)/);
    services.fauxqs = portIn(/SQS {7}fauxqs on http:\/\/127\.0\.0\.1:(\d+)/);
    services['step functions'] = portIn(/behind http:\/\/127\.0\.0\.1:(\d+)/);
    services.redis = portIn(/Cache .* on redis:\/\/(?:[^@\s]*@)?127\.0\.0\.1:(\d+)/);
    for (const [name, port] of Object.entries(services)) expect(port, `the port of ${name} in:\n${out}`).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await orch?.dispose();
  });

  it.each([['127.0.0.1'], ['localhost'], ['2130706433'], ['127.0.0.3'], ['::1'], ['::ffff:127.0.0.1']])(
    'refuses every service of the runtime on %s',
    async (host) => {
      for (const [name, port] of Object.entries(services)) {
        const res = await call(orch.url, 'POST', '/agents/register', {
          name: `probe-${name.replace(' ', '-')}`,
          type: 'probe',
          host,
          port,
          capabilities: ['probe'],
        });
        expect(res.status, `${name} on ${host}:${port}`).toBe(400);
        expect(String(res.body.error)).toContain(`port ${port} is a service of the orchestrator itself`);
      }
    },
  );

  it('registers an agent on another loopback port', async () => {
    const res = await call(orch.url, 'POST', '/agents/register', {
      name: 'ok',
      type: 'probe',
      host: '127.0.0.1',
      port: 45_678,
      capabilities: ['probe'],
    });
    expect(res.status).toBe(201);
  });

  it('never prints the password of the redis-server it started', () => {
    expect(orch.proc.output()).toMatch(/Cache {5}redis-server started \(pid \d+\) on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    expect(orch.proc.output()).not.toMatch(/[0-9a-f]{48}/);
  });
});

describe('the outbound guard refuses a denied port on every address it resolves to', () => {
  let server: http.Server;
  let port: number;
  let requests = 0;
  let reply = { status: 200, type: 'application/json', body: '{"status":"completed","result":{}}' };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(reply.status, { 'content-type': reply.type });
      res.end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const deliver = (client: HttpAgentClient, host: string) =>
    client.deliver(
      { agentId: 'a', host, port, signingSecret: '' },
      { task_id: 't-1', task_type: 'probe', parameters: {}, timeout_seconds: 5, priority: 5, metadata: {} },
      1,
      Date.now() + 5_000,
    );

  it.each([['127.0.0.1'], ['localhost'], ['2130706433'], ['[::ffff:127.0.0.1]']])(
    'a delivery to %s on the denied port is never sent',
    async (host) => {
      const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8,::1/128', false, `127.0.0.0/8:${port},[::1]:${port}`), 262_144);
      const before = requests;
      const result = await deliver(client, host);
      expect(result.kind).toBe('failed');
      expect(result).toMatchObject({ error: expect.stringContaining(`port ${port} is a service of the orchestrator itself`) });
      expect(requests).toBe(before);
    },
  );

  it('a denied host name (the cache by its endpoint) is compared on what it resolves to', async () => {
    const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false, `localhost:${port}`), 262_144);
    const before = requests;
    expect(await deliver(client, '127.0.0.1')).toMatchObject({
      kind: 'failed',
      error: expect.stringContaining('(listed in DENIED_AGENT_TARGETS)'),
    });
    expect(requests).toBe(before);
  });

  it('the same port is delivered to when it is not denied', async () => {
    const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 262_144);
    expect(await deliver(client, 'localhost')).toMatchObject({ kind: 'completed' });
  });

  it('a refusal that is not JSON shows its size and type, not its content', async () => {
    reply = { status: 500, type: 'text/html; charset=utf-8', body: `<html>${SECRET}</html>` };
    const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 262_144);
    const result = await deliver(client, '127.0.0.1');
    expect(result).toMatchObject({
      kind: 'failed',
      error: `agent answered HTTP 500 (a ${reply.body.length}-byte text/html body that is not JSON, not shown)`,
    });
    reply = { status: 422, type: 'application/json', body: JSON.stringify({ error: 'account_id is required', pad: 'x'.repeat(400) }) };
    const json = await deliver(client, '127.0.0.1');
    expect(json).toMatchObject({ kind: 'failed', error: expect.stringContaining(': {"error":"account_id is required"') });
    expect(json.kind === 'failed' && json.error.length).toBeLessThan(400);
  });
});
