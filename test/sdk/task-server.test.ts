/**
 * The agent's task server against slow and oversized senders: the signature headers are checked
 * before the body is read, a body is cut off at maxBodyBytes, and slow headers or bodies time out.
 * A real Agent behind a fake orchestrator, spoken to over raw connections.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TASK_REQUEST_MAX_BYTES } from '@optiinfra/contract';
import { statusLine } from '../../harness/raw-http';
import { Agent } from '@optiinfra/sdk';
import { FakeOrchestrator } from './fake-orchestrator';

let fake: FakeOrchestrator;
let agent: Agent;
let ran = 0;

beforeAll(async () => {
  fake = new FakeOrchestrator();
  await fake.listen();
  agent = new Agent({
    name: `slow-check-${randomUUID().slice(0, 8)}`,
    type: 'test',
    orchestratorUrl: fake.url,
    stopGraceMs: 500,
    serverTimeouts: { headersMs: 1_000, requestMs: 1_500 },
  }).handle('echo', () => ({ ran: ++ran }));
  await agent.start();
});
afterAll(async () => {
  await agent?.stop();
  await fake?.close();
});

function signedHead(length: number, at = new Date(), id = `${randomUUID()}:1`): string {
  const signature = new Webhook(fake.signingSecret).sign(id, at, 'not the body that follows');
  return [
    'POST /task HTTP/1.1',
    'host: agent',
    'content-type: application/json',
    `content-length: ${length}`,
    `webhook-id: ${id}`,
    `webhook-timestamp: ${Math.floor(at.getTime() / 1000)}`,
    `webhook-signature: ${signature}`,
    '',
    '',
  ].join('\r\n');
}

describe('the agent task server', () => {
  it('refuses an unsigned delivery on its headers, before reading its body', async () => {
    const head = 'POST /task HTTP/1.1\r\nhost: agent\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n';
    expect(await statusLine(agent.port!, head, 5_000)).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('refuses a stale signing time on the headers, before reading the body', async () => {
    const head = signedHead(5_000_000, new Date(Date.now() - 10 * 60_000));
    expect(await statusLine(agent.port!, head, 5_000)).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('refuses a Content-Length above maxBodyBytes at once', async () => {
    expect(await statusLine(agent.port!, signedHead(AGENT_TASK_REQUEST_MAX_BYTES + 1), 5_000)).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('cuts off a body that arrives too slowly', async () => {
    const line = await statusLine(agent.port!, signedHead(100), 10_000, { byte: ' ', everyMs: 200 });
    expect(line).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('cuts off headers that arrive too slowly', async () => {
    const line = await statusLine(agent.port!, 'POST /task HTTP/1.1\r\nhost: agent\r\n', 10_000, { byte: 'x', everyMs: 200 });
    expect(line).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('refuses a replay on its headers, before reading its body', async () => {
    const id = `${randomUUID()}:1`;
    const at = new Date();
    const text = JSON.stringify({
      task_id: id.split(':')[0],
      task_type: 'echo',
      parameters: {},
      timeout_seconds: 5,
      priority: 5,
      metadata: {},
    });
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(fake.signingSecret).sign(id, at, text),
    };
    expect((await fetch(`${agent.url}/task`, { method: 'POST', headers, body: text })).status).toBe(200);
    const before = ran;
    expect(await statusLine(agent.port!, signedHead(5_000_000, at, id), 5_000)).toBe('HTTP/1.1 409 Conflict');
    expect(ran).toBe(before);
  });
});
