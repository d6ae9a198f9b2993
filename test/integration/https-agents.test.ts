/**
 * Deliveries over TLS: an SDK agent serves HTTPS with a certificate from a test CA made here with
 * openssl, registers the `https` scheme, and the orchestrator (trusting that CA through
 * NODE_EXTRA_CA_CERTS) verifies it for the registered host name. An agent whose certificate the
 * orchestrator does not trust fails its attempt with an error that says so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { Agent } from '@optiinfra/sdk';
import { call } from '../support/checked-call';

const dir = tempDir('optiinfra-tls-');
let orch: LocalOrchestrator;
const agents: Agent[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir.dir, stdio: 'pipe' });
}

/** A self-signed certificate (one day) with its key: a CA's own, or one nobody trusts. */
function selfSigned(name: string, subject: string, ...extra: string[]): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-subj',
    subject,
    ...extra,
  );
}

/** A CA, a certificate it issues for localhost and 127.0.0.1, and a self-signed certificate nobody trusts. */
function makeCertificates(): void {
  selfSigned('ca', '/CN=optiinfra test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'agent.key', '-out', 'agent.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir.dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'agent.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'agent.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  selfSigned('rogue', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost');
}

const read = (name: string) => readFileSync(path.join(dir.dir, name));

async function startTlsAgent(name: string, type: string, key: string, cert: string): Promise<Agent> {
  const agent = new Agent({
    name,
    type,
    advertiseHost: 'localhost',
    orchestratorUrl: orch.url,
    stopGraceMs: 500,
    tls: { key: read(key), cert: read(cert) },
  }).handle('greet', (params) => ({ hello: params.name }));
  agents.push(agent);
  await agent.start();
  return agent;
}

beforeAll(async () => {
  makeCertificates();
  orch = await startLocalOrchestrator({ NODE_EXTRA_CA_CERTS: path.join(dir.dir, 'ca.pem') });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
  dir.remove();
});

describe('agents that serve HTTPS', () => {
  it('register the https scheme and get their tasks over TLS, the certificate checked for the registered host', async () => {
    const agent = await startTlsAgent('tls-agent', 'tls', 'agent.key', 'agent.pem');
    expect(agent.url).toBe(`https://localhost:${agent.port}`);
    expect((await call(orch.url, 'GET', `/agents/${agent.id}`)).body).toMatchObject({ host: 'localhost', scheme: 'https' });
    const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
      task_type: 'greet',
      agent_type: 'tls',
      parameters: { name: 'tls' },
    });
    expect(submitted.status).toBe(201);
    const task = await waitForTask(orch.url, submitted.body.task_id, (t) => t.completed_at !== undefined);
    expect(task).toMatchObject({ status: 'completed', result: { hello: 'tls' } });
  });

  it('fail the attempt, saying why, when the certificate is not one the orchestrator trusts', async () => {
    const rogue = await startTlsAgent('rogue-agent', 'rogue', 'rogue.key', 'rogue.pem');
    const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
      task_type: 'greet',
      agent_type: 'rogue',
      agent_id: rogue.id,
      max_retries: 0,
    });
    expect(submitted.status).toBe(201);
    const task = await waitForTask(orch.url, submitted.body.task_id, (t) => t.completed_at !== undefined);
    expect(task.status).toBe('failed');
    expect(String(task.error)).toContain(`the TLS certificate of agent localhost:${rogue.port} was not accepted`);
    expect(String(task.error)).toContain('issued by a CA the orchestrator trusts');
  });

  it('keep plain HTTP the default for agents that do not say otherwise', async () => {
    const body = { name: 'plain-one', type: 'plain', host: '127.0.0.1', port: 9411, capabilities: ['greet'] };
    expect((await call(orch.url, 'POST', '/agents/register', body)).body).toMatchObject({ scheme: 'http' });
    const bad = await call(orch.url, 'POST', '/agents/register', { ...body, scheme: 'ftp' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'validation_error' } });
    expect(String(bad.body.error)).toContain('scheme must be "http" or "https"');
  });
});
