/**
 * Private mode (ALLOW_PUBLIC_AGENTS=false, the local default) on the local runtime, in this process:
 * the functions in the VPC reach only the services the template routes, the agents API reads the
 * fleet tokens from the template's secret through the local Secrets Manager. Without the template's
 * Secrets Manager endpoint the read times out, as it would on AWS, and registration answers 503;
 * with it, an agent registers with its fleet token and runs a task.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, expect, it, vi } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { FAST_SETTINGS, waitForTask } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { RECORD_AWS_CALLS_ENV, type RecordedCall } from '../../local/aws-call-guard';
import type { Runtime } from '../../local/runtime';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { call } from '../support/checked-call';

const FLEET = 'fleet-private-0123456789abcdef';
const stops: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function start(template: CfnTemplate, extraEnv: Record<string, string> = {}): Promise<Runtime> {
  // The handlers read their configuration once, at import, and the runtime sets it in process.env:
  // each runtime in this process gets its own modules and leaves the environment as it found it.
  vi.resetModules();
  const env = { ...process.env };
  stops.push(() => {
    process.env = env;
  });
  Object.assign(process.env, extraEnv);
  const { startRuntime } = await import('../../local/runtime');
  const data = tempDir('optiinfra-private-');
  const runtime = await startRuntime({
    host: '127.0.0.1',
    port: 0,
    dataDir: data.dir,
    log: () => undefined,
    // ERROR: the 503's reason (a connection timeout to Secrets Manager) is a WARN line, expected here.
    env: { ...FAST_SETTINGS, FLEET_TOKENS: FLEET, CACHE_URL: 'memory://local', LOG_LEVEL: 'ERROR' },
    template,
  });
  stops.push(
    () => data.remove(),
    () => runtime.stop(),
  );
  return runtime;
}

const agent = { name: 'private-1', type: 'private', host: '127.0.0.1', port: 9411, capabilities: ['work'] };

it('cannot register agents when the template routes no Secrets Manager endpoint: the read times out, 503', async () => {
  const template = structuredClone(await synthesizedTemplate({ allowPublicAgents: false }));
  const endpoint = Object.keys(template.Resources).find(
    (id) => /SecretsManager/.test(id) && template.Resources[id]!.Type === 'AWS::EC2::VPCEndpoint',
  );
  expect(endpoint).toBeDefined();
  delete template.Resources[endpoint!];
  const recorded = tempDir('optiinfra-private-calls-');
  stops.push(() => recorded.remove());
  const runtime = await start(template, { [RECORD_AWS_CALLS_ENV]: recorded.dir });
  const res = await call<{ code: string }>(runtime.url, 'POST', '/agents/register', agent, { 'x-fleet-token': FLEET });
  expect(res).toMatchObject({ status: 503, body: { code: 'dependency_error' } });
  // The function did call Secrets Manager (the call was recorded); the next test, with the endpoint, registers.
  const calls = readdirSync(recorded.dir).flatMap((f) => readFileSync(path.join(recorded.dir, f), 'utf8').split('\n').filter(Boolean));
  expect(calls.map((c) => JSON.parse(c) as RecordedCall)).toContainEqual({
    principal: expect.stringMatching(/^AgentsApi/) as unknown,
    action: 'secretsmanager:GetSecretValue',
    resource: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:FleetTokens/) as unknown,
  });
});

it('registers an agent with its fleet token through the Secrets Manager endpoint, and gives it a task', async () => {
  const runtime = await start(await synthesizedTemplate({ allowPublicAgents: false }));
  expect((await call(runtime.url, 'POST', '/agents/register', agent)).status).toBe(401);
  const worker: AgentProcess = await startFaultAgent(runtime.url, { mode: 'ok', type: 'private', fleetToken: FLEET });
  stops.push(() => worker.stop());
  const submitted = await call<{ task_id: string }>(runtime.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'private' });
  expect(submitted.status).toBe(201);
  const task = await waitForTask(runtime.url, submitted.body.task_id, (t) => t.status === 'completed');
  expect(task.agent_id).toBe(worker.id);
  expect(worker.deliveries()).toHaveLength(1);
});

it("rebuilds a type's offers summary that lost a live agent's capability, from the tasks API", async () => {
  // A leave seen through the lagging type index can drop a capability a live agent still offers. A
  // submit for it then reads the registry and rebuilds the summary: the tasks API's only write to the
  // agents table (test/iam checks that its role allows it; before, the role could only read).
  const runtime = await start(await synthesizedTemplate({ allowPublicAgents: false }));
  const worker: AgentProcess = await startFaultAgent(runtime.url, { mode: 'ok', type: 'private', fleetToken: FLEET });
  stops.push(() => worker.stop());
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
  stops.push(() => doc.destroy());
  const summary = { TableName: process.env.AGENTS_TABLE, Key: { agent_id: 'offers#private' } };
  await doc.send(
    new UpdateCommand({
      ...summary,
      UpdateExpression: 'SET capabilities = :other, changed_at_ms = :long_ago',
      ExpressionAttributeValues: { ':other': new Set(['something-else']), ':long_ago': 0 },
    }),
  );
  const submitted = await call<{ task_id: string }>(runtime.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'private' });
  expect(submitted.status).toBe(201);
  const rebuilt = await doc.send(new GetCommand({ ...summary, ConsistentRead: true }));
  expect(rebuilt.Item?.capabilities).toEqual(new Set(['work']));
  await waitForTask(runtime.url, submitted.body.task_id, (t) => t.status === 'completed');
});
