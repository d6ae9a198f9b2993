/**
 * The Lambda handlers called in-process, as Lambda calls them, against real stand-ins: dynalite,
 * fauxqs, a real redis-server and the local Step Functions server. Whole responses are asserted.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { LOCAL_AWS, LOCAL_CREDENTIALS, provisionFromTemplate } from '../../local/provision';
import { startDynamo } from '../../local/stand-ins/dynamodb';
import { startRedis } from '../../local/stand-ins/redis-launcher';
import { startSqs } from '../../local/stand-ins/sqs';
import { fakeLambdaContext } from '../../local/stand-ins/sqs-event-source';
import { startStepFunctionsServer } from '../../local/stand-ins/step-functions-server';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { waitUntil } from '../../harness/wait';

type Api = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type Fn = (event: unknown, context: Context) => Promise<unknown>;

const stops: Array<() => Promise<unknown>> = [];
let health: Api;
let agents: Api;
let tasks: Api;
let starter: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let dispatcher: Fn;
let sqs: SQSClient;
let queueUrl: string;

function event(
  method: string,
  path: string,
  options: { body?: unknown; query?: Record<string, string>; params?: Record<string, string>; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    queryStringParameters: options.query,
    pathParameters: options.params,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '0',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

async function invoke(api: Api, e: APIGatewayProxyEventV2) {
  const out = await api(e, fakeLambdaContext('api', 10_000));
  return { statusCode: out.statusCode, headers: out.headers, body: JSON.parse(out.body ?? '{}') as Record<string, unknown> };
}

/** GET /tasks/{id} until `done` holds (the event), failing after `timeoutMs` with the last status seen. */
function taskWhen(taskId: string, done: (status: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return waitUntil(
    `task ${taskId} reaches the expected state`,
    async () => (await invoke(tasks, event('GET', `/tasks/${taskId}`, { params: { id: taskId } }))).body,
    done,
    { timeoutMs },
  );
}

/** The task's executions (Standard and Express) on the local Step Functions server, with their status. */
async function executionsOf(taskId: string): Promise<string[]> {
  const sfn = new SFNClient({ endpoint: process.env.AWS_ENDPOINT_URL_SFN, region: 'us-east-1' });
  try {
    const found: string[] = [];
    for (const stateMachineArn of [process.env.STATE_MACHINE_ARN, process.env.EXPRESS_STATE_MACHINE_ARN]) {
      const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
      for (const e of executions) if (e.name === taskId || e.name?.startsWith(`${taskId}.`)) found.push(String(e.status));
    }
    return found;
  } finally {
    sfn.destroy();
  }
}

beforeAll(async () => {
  const template = await synthesizedTemplate();
  const dynamo = await startDynamo();
  stops.push(() => dynamo.stop());
  const sqsServer = await startSqs();
  stops.push(() => sqsServer.stop());
  const redis = await startRedis();
  if (redis.kind === 'none') throw new Error('these tests need redis-server on PATH');
  stops.push(() => redis.stop());

  const stack = await provisionFromTemplate(template, { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint });
  queueUrl = stack.intakeQueueUrl;
  sqs = new SQSClient({
    endpoint: sqsServer.endpoint,
    region: LOCAL_AWS.region,
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  Object.assign(process.env, {
    ...stack.env,
    CACHE_URL: redis.url,
    ALLOWED_AGENT_NETWORKS: '127.0.0.0/8',
    ALLOW_PUBLIC_AGENTS: 'false',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    RETRY_BASE_DELAY_SECONDS: '1',
    AGENT_POLL_SECONDS: '1',
  });
  dispatcher = (await import('../../functions/handlers/dispatcher')).handler;
  const sfn = await startStepFunctionsServer({
    machines: [stack.machines.standard, stack.machines.express].map((m) => ({
      arn: m.arn,
      definition: m.definition,
      // As on AWS: Express runs every start, Standard refuses a name in use.
      type: m.stateMachineType,
      handlers: Object.fromEntries(
        m.taskStates.map((t) => [t.stateName, (input: unknown) => dispatcher(input, fakeLambdaContext('dispatcher', 330_000))]),
      ),
    })),
  });
  stops.push(() => sfn.stop());
  process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
  health = (await import('../../functions/handlers/api-health')).handler;
  agents = (await import('../../functions/handlers/api-agents')).handler;
  tasks = (await import('../../functions/handlers/api-tasks')).handler;
  starter = (await import('../../functions/handlers/starter')).handler;
}, 90_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

describe('the API handlers', () => {
  it('GET /health answers 200 with the service status', async () => {
    expect(await invoke(health, event('GET', '/health'))).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: { status: 'healthy', service: 'optiinfra-orchestrator', timestamp: expect.any(String), heartbeat_interval_seconds: 10 },
    });
  });

  it('POST /agents/register answers 201 with the agent, the heartbeat interval and a signing secret', async () => {
    const res = await invoke(
      agents,
      event('POST', '/agents/register', {
        body: { name: 'reg-1', type: 'cost', host: '127.0.0.1', port: 9101, capabilities: ['analyze_cost'] },
      }),
    );
    expect(res).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      body: {
        id: expect.any(String),
        name: 'reg-1',
        type: 'cost',
        host: '127.0.0.1',
        port: 9101,
        scheme: 'http',
        capabilities: ['analyze_cost'],
        status: 'healthy',
        version: '1.0.0',
        registered_at: expect.any(String),
        last_heartbeat: expect.any(String),
        in_flight: 0,
        max_concurrency: 10,
        metadata: {},
        circuit: { state: 'closed', recent_dispatches: 0, recent_failures: 0, window_seconds: 60 },
        heartbeat_interval_seconds: 10,
        agent_token: expect.stringMatching(/^oat_/),
        signing_secret: expect.stringMatching(/^whsec_/),
      },
    });
    const body = { name: 'reg-1', type: 'cost', host: '127.0.0.1', port: 9101, capabilities: ['analyze_cost', 'right_size'] };
    // While it is live, only the agent itself (its current token) may register it again.
    const takeover = await invoke(agents, event('POST', '/agents/register', { body }));
    expect(takeover).toMatchObject({ statusCode: 409, body: { code: 'agent_id_in_use' } });
    const again = await invoke(
      agents,
      event('POST', '/agents/register', { body, headers: { 'x-agent-token': String(res.body.agent_token) } }),
    );
    // Registering again keeps the id and the first registration time, and issues a new token and secret.
    expect(again.body).toMatchObject({
      id: res.body.id,
      registered_at: res.body.registered_at,
      capabilities: ['analyze_cost', 'right_size'],
    });
    expect(again.body.agent_token).not.toBe(res.body.agent_token);
  });

  it('POST /tasks answers 201 with the seed TaskSubmitResponse and puts the task on the intake queue', async () => {
    const res = await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'analyze_cost', agent_type: 'cost' } }));
    expect(res).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      body: {
        task_id: expect.any(String),
        status: 'pending',
        agent_id: '',
        created_at: expect.any(String),
        status_url: `/tasks/${String(res.body.task_id)}`,
      },
    });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }));
    // With what the starter needs to start the first execution without reading the task: Express, as its
    // attempts and retries fit in it.
    expect((received.Messages ?? []).map((m) => JSON.parse(m.Body!) as unknown)).toContainEqual({
      task_id: res.body.task_id,
      first_start: { workflow: 'express', timeout_seconds: 30 },
    });
  });

  it('answers bad input with a 400 naming each field, and writes nothing', async () => {
    const before = await invoke(tasks, event('GET', '/tasks', { query: { limit: '100' } }));
    const res = await invoke(
      tasks,
      event('POST', '/tasks', { body: { task_type: 'analyze_cost', agent_type: 'cost', priority: 0, extra: true } }),
    );
    expect(res).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: {
        code: 'validation_error',
        error: expect.stringContaining('priority must be an integer from 1 to 15'),
        details: [
          { field: 'priority', message: expect.stringContaining('(got number 0)') },
          { field: 'extra', message: expect.stringContaining('unknown field "extra"') },
        ],
      },
    });
    const after = await invoke(tasks, event('GET', '/tasks', { query: { limit: '100' } }));
    expect(after.body.count).toBe(before.body.count);
  });

  it('POST /agents/{id}/drain keeps the agent listed as draining, refuses a body with fields, and 404s an unknown agent', async () => {
    const reg = await invoke(
      agents,
      event('POST', '/agents/register', {
        body: { name: 'drain-me', type: 'drainers', host: '127.0.0.1', port: 9111, capabilities: ['work'] },
      }),
    );
    const id = String(reg.body.id);
    const asAgent = { 'x-agent-token': String(reg.body.agent_token) };
    const bad = await invoke(agents, event('POST', `/agents/${id}/drain`, { params: { id }, body: { now: true }, headers: asAgent }));
    expect(bad.statusCode).toBe(400);
    expect((await invoke(agents, event('GET', `/agents/${id}`, { params: { id } }))).body).toMatchObject({ status: 'healthy' });

    const drained = await invoke(agents, event('POST', `/agents/${id}/drain`, { params: { id }, headers: asAgent }));
    expect(drained.statusCode).toBe(200);
    expect(drained.body).toMatchObject({ message: expect.stringContaining('receives no new tasks'), agent: { id, status: 'draining' } });
    expect((await invoke(agents, event('GET', `/agents/${id}`, { params: { id } }))).body).toMatchObject({ status: 'draining' });
    // Draining twice is fine; new work for what only it offered is refused.
    expect((await invoke(agents, event('POST', `/agents/${id}/drain`, { params: { id }, body: {}, headers: asAgent }))).statusCode).toBe(
      200,
    );
    expect((await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'work', agent_type: 'drainers' } }))).statusCode).toBe(503);
    // Registering again (with its token: it is still live) brings it back.
    await invoke(
      agents,
      event('POST', '/agents/register', {
        body: { name: 'drain-me', type: 'drainers', host: '127.0.0.1', port: 9111, capabilities: ['work'] },
        headers: asAgent,
      }),
    );
    expect((await invoke(agents, event('GET', `/agents/${id}`, { params: { id } }))).body).toMatchObject({ status: 'healthy' });

    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(
      (await invoke(agents, event('POST', `/agents/${unknown}/drain`, { params: { id: unknown }, headers: asAgent }))).statusCode,
    ).toBe(404);
  });

  it('lets an agent act only for itself: its token (shown once) on heartbeat, drain and unregister; registering again replaces it', async () => {
    const register = (name: string, port: number, token?: string) =>
      invoke(
        agents,
        event('POST', '/agents/register', {
          body: { name, type: 'identity', host: '127.0.0.1', port, capabilities: ['work'] },
          headers: token ? { 'x-agent-token': token } : {},
        }),
      );
    const a = await register('identity-a', 9121);
    const b = await register('identity-b', 9122);
    const aId = String(a.body.id);
    const aToken = String(a.body.agent_token);
    const bToken = String(b.body.agent_token);
    expect(aToken).toMatch(/^oat_[A-Za-z0-9_-]{43}$/);
    // Never shown again, and not part of the agent JSON.
    const listed = JSON.stringify((await invoke(agents, event('GET', '/agents', { query: { type: 'identity' } }))).body);
    expect(listed).not.toContain(aToken);
    expect(listed).not.toContain('token_hash');
    expect(listed).not.toContain('whsec_');

    const beat = (token?: string) =>
      invoke(
        agents,
        event('POST', `/agents/${aId}/heartbeat`, { params: { id: aId }, body: {}, headers: token ? { 'x-agent-token': token } : {} }),
      );
    expect(await beat(bToken)).toMatchObject({
      statusCode: 403,
      body: { code: 'agent_token_mismatch', error: expect.stringContaining('an agent may act only for itself') as unknown },
    });
    expect((await beat(aToken)).statusCode).toBe(200);
    // Having shown its token once, the agent must always send it (tokenless is only for seed-protocol agents).
    expect(await beat()).toMatchObject({
      statusCode: 401,
      body: { code: 'agent_token_required', error: expect.stringContaining('X-Agent-Token') as unknown },
    });
    for (const [method, path] of [
      ['POST', `/agents/${aId}/drain`],
      ['DELETE', `/agents/${aId}`],
    ] as const) {
      expect((await invoke(agents, event(method, path, { params: { id: aId }, headers: { 'x-agent-token': bToken } }))).statusCode).toBe(
        403,
      );
    }
    expect((await invoke(agents, event('GET', `/agents/${aId}`, { params: { id: aId } }))).body).toMatchObject({ status: 'healthy' });

    // Registering again while live needs its token; it gets a new token and signing secret; the old token stops working.
    expect(await register('identity-a', 9121)).toMatchObject({ statusCode: 409, body: { code: 'agent_id_in_use' } });
    const again = await register('identity-a', 9121, aToken);
    expect(again.body.id).toBe(aId);
    expect(again.body.agent_token).not.toBe(aToken);
    expect(again.body.signing_secret).not.toBe(a.body.signing_secret);
    expect((await beat(aToken)).statusCode).toBe(403);
    expect((await beat(String(again.body.agent_token))).statusCode).toBe(200);
    expect(
      (
        await invoke(
          agents,
          event('DELETE', `/agents/${aId}`, { params: { id: aId }, headers: { 'x-agent-token': String(again.body.agent_token) } }),
        )
      ).statusCode,
    ).toBe(200);
  });

  it('POST /tasks with an Idempotency-Key returns the same task for a repeat, refuses another body with that key, and keeps keys per caller', async () => {
    const body = { task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: 'idem' } };
    const key = { 'idempotency-key': `key-${Date.now()}` };
    const first = await invoke(tasks, event('POST', '/tasks', { body, headers: key }));
    const again = await invoke(tasks, event('POST', '/tasks', { body, headers: key }));
    expect(first.statusCode).toBe(201);
    expect(again).toEqual(first);

    const changed = await invoke(tasks, event('POST', '/tasks', { body: { ...body, priority: 10 }, headers: key }));
    expect(changed.statusCode).toBe(422);
    expect(changed.body).toMatchObject({
      code: 'idempotency_key_reused',
      error: expect.stringContaining('was already used in the last 24 h with a different body') as unknown,
    });

    const other = await invoke(tasks, event('POST', '/tasks', { body, headers: { 'idempotency-key': `${key['idempotency-key']}-2` } }));
    expect(other.statusCode).toBe(201);
    expect(other.body.task_id).not.toBe(first.body.task_id);
    const without = await invoke(tasks, event('POST', '/tasks', { body }));
    expect(without.body.task_id).not.toBe(first.body.task_id);

    // Another caller (another IAM principal) with the same key gets its own task.
    const asOther = event('POST', '/tasks', { body, headers: key });
    (asOther.requestContext as unknown as { authorizer: unknown }).authorizer = {
      iam: { userArn: 'arn:aws:iam::111111111111:user/other' },
    };
    const otherCaller = await invoke(tasks, asOther);
    expect(otherCaller.statusCode).toBe(201);
    expect(otherCaller.body.task_id).not.toBe(first.body.task_id);

    // Only one task was stored for the repeated key.
    const listed = await invoke(tasks, event('GET', '/tasks', { query: { agent_type: 'cost', limit: '100' } }));
    const ids = (listed.body.tasks as Array<{ task_id: string }>).map((t) => t.task_id);
    expect(ids.filter((id) => id === first.body.task_id)).toHaveLength(1);
  });

  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'my key'],
    ['with non-ASCII', 'clé-1'],
    ['empty', ''],
  ])('refuses an Idempotency-Key %s with a 400, and stores nothing', async (_label, value) => {
    const before = await invoke(tasks, event('GET', '/tasks', { query: { agent_type: 'cost', limit: '100' } }));
    const res = await invoke(
      tasks,
      event('POST', '/tasks', { body: { task_type: 'analyze_cost', agent_type: 'cost' }, headers: { 'idempotency-key': value } }),
    );
    expect(res.statusCode).toBe(400);
    expect(String(res.body.error)).toContain('invalid Idempotency-Key header: it must be 1-255 visible ASCII characters');
    const after = await invoke(tasks, event('GET', '/tasks', { query: { agent_type: 'cost', limit: '100' } }));
    expect(after.body.count).toBe(before.body.count);
  });

  it('answers an unknown task 404 and a malformed id 400', async () => {
    expect(
      await invoke(
        tasks,
        event('GET', '/tasks/0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f', { params: { id: '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f' } }),
      ),
    ).toMatchObject({ statusCode: 404, body: { code: 'task_not_found' } });
    expect(await invoke(tasks, event('GET', '/tasks/abc', { params: { id: 'abc' } }))).toMatchObject({
      statusCode: 400,
      body: { code: 'validation_error' },
    });
  });
});

describe('the starter and the dispatcher', () => {
  it('start an execution per task, dispatch it to a registered agent and record the result', async () => {
    // A plain seed-protocol agent, registered through the agents handler.
    const agentServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const task = JSON.parse(body) as { task_id: string; parameters: unknown };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ task_id: task.task_id, status: 'completed', result: { echoed: task.parameters }, execution_time_ms: 1 }));
      });
    });
    await new Promise<void>((r) => agentServer.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => agentServer.close(r)));
    const agentPort = (agentServer.address() as { port: number }).port;
    const registered = await invoke(
      agents,
      event('POST', '/agents/register', {
        body: { name: 'echo-agent', type: 'handlers', host: '127.0.0.1', port: agentPort, capabilities: ['echo'] },
      }),
    );
    expect(registered.statusCode).toBe(201);

    const submitted = await invoke(
      tasks,
      event('POST', '/tasks', { body: { task_type: 'echo', agent_type: 'handlers', parameters: { n: 7 } } }),
    );
    const taskId = String(submitted.body.task_id);
    const sqsEvent: SQSEvent = {
      Records: [
        {
          messageId: 'm1',
          receiptHandle: 'h1',
          // As POST /tasks sends it: a first start, on Express.
          body: JSON.stringify({ task_id: taskId, first_start: { workflow: 'express', timeout_seconds: 30 } }),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn',
          awsRegion: 'us-east-1',
        },
        {
          messageId: 'm2',
          receiptHandle: 'h2',
          body: 'not json',
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn',
          awsRegion: 'us-east-1',
        },
      ],
    };
    // The malformed record alone is reported for redelivery; the good one is not.
    expect(await starter(sqsEvent, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });

    const status = await taskWhen(taskId, (t) => t.status === 'completed', 5_000);
    expect(status).toMatchObject({
      status: 'completed',
      agent_id: registered.body.id,
      result: { echoed: { n: 7 } },
      attempts: 1,
      retry_count: 0,
    });
    // Why this agent: the decision is recorded with the loads seen.
    expect(status.routing).toEqual({
      attempt: 1,
      agent_id: registered.body.id,
      agent_name: 'echo-agent',
      decided_at: expect.any(String),
      reason: 'least loaded of 1 eligible agent (0 of 10 slots in use before this task)',
      candidates: 1,
      eligible: 1,
      load_seen: [
        { agent_id: registered.body.id, name: 'echo-agent', in_flight: 0, max_concurrency: 10, status: 'healthy', circuit: 'closed' },
      ],
    });
  });

  it('the dispatcher ends at once, without calling an agent, for a cancelled task', async () => {
    const submitted = await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'echo', agent_type: 'handlers' } }));
    const taskId = String(submitted.body.task_id);
    expect((await invoke(tasks, event('DELETE', `/tasks/${taskId}`, { params: { id: taskId } }))).statusCode).toBe(200);
    const step = await dispatcher(
      { action: 'dispatch', state: { task_id: taskId, state_timeout_seconds: 50 } },
      fakeLambdaContext('dispatcher', 330_000),
    );
    expect(step).toEqual({ outcome: 'done', delay_seconds: 0, status: 'cancelled', attempts: 0, fault_count: 0, loop: 1 });
  });

  it('the dispatcher refuses an input that is not a step of the state machine', async () => {
    await expect(dispatcher({ action: 'dance', state: {} }, fakeLambdaContext('dispatcher', 1000))).rejects.toThrow();
  });
});

describe('duplicates are harmless (at-least-once queue, repeated starts)', () => {
  /** A seed-protocol agent that counts deliveries per task and takes `delayMs` to answer. */
  async function countingAgent(type: string, delayMs: number): Promise<{ id: string; deliveries: Map<string, number> }> {
    const deliveries = new Map<string, number>();
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const task = JSON.parse(body) as { task_id: string };
        deliveries.set(task.task_id, (deliveries.get(task.task_id) ?? 0) + 1);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ task_id: task.task_id, status: 'completed', result: { ok: true } }));
        }, delayMs);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const registered = await invoke(
      agents,
      event('POST', '/agents/register', { body: { name: `${type}-agent`, type, host: '127.0.0.1', port, capabilities: ['work'] } }),
    );
    return { id: String(registered.body.id), deliveries };
  }

  const record = (messageId: string, taskId: string) => ({
    messageId,
    receiptHandle: messageId,
    body: JSON.stringify({ task_id: taskId }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn',
    awsRegion: 'us-east-1',
  });

  function finished(taskId: string): Promise<Record<string, unknown>> {
    return taskWhen(taskId, (t) => ['completed', 'failed', 'timeout', 'cancelled'].includes(String(t.status)), 10_000);
  }

  it('the same queue message delivered twice (in one batch and again later) delivers the task once (Express runs each start; the lease lets one deliver)', async () => {
    const agent = await countingAgent('dupmsg', 300);
    const taskId = String(
      (await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'work', agent_type: 'dupmsg' } }))).body.task_id,
    );
    const batch: SQSEvent = { Records: [record('a', taskId), record('b', taskId)] };
    expect(await starter(batch, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [] });
    expect(await starter({ Records: [record('c', taskId)] }, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [] });
    expect(await finished(taskId)).toMatchObject({ status: 'completed', attempts: 1, agent_id: agent.id });
    // Once more after it finished: nothing happens. Only an execution delivers, and the starter
    // has returned: it started none for the finished task, and every execution of the task has ended.
    const ended = (statuses: string[]) => statuses.length > 0 && statuses.every((s) => s !== 'RUNNING');
    const before = await waitUntil('every execution of the task ended', () => executionsOf(taskId), ended, { timeoutMs: 10_000 });
    expect(await starter({ Records: [record('d', taskId)] }, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [] });
    expect(await executionsOf(taskId)).toEqual(before);
    expect(agent.deliveries.get(taskId)).toBe(1);
  });

  it('the starter logs a first start at DEBUG (every task has one, and INFO is the deployed level), a redelivery at INFO', async () => {
    await countingAgent('quietstart', 300);
    // The handlers' own logger, watched (it still logs): its level here is ERROR, and the middleware
    // sets it again on every invocation, so the level each line is logged at is what is checked.
    const { logger } = await import('../../functions/composition/observability');
    const info = vi.spyOn(logger, 'info');
    const debug = vi.spyOn(logger, 'debug');
    const intake = (spy: typeof info) =>
      spy.mock.calls.map(([line]) => line).filter((l) => typeof l === 'object' && l.message === 'intake');
    try {
      const taskId = String(
        (await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'work', agent_type: 'quietstart' } }))).body.task_id,
      );
      expect(await starter({ Records: [record('q1', taskId)] }, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [] });
      expect(intake(info)).toEqual([]);
      expect(intake(debug)).toEqual([expect.objectContaining({ task_id: taskId, outcome: 'started', receive_count: '1' })]);
      const again = record('q2', taskId);
      again.attributes.ApproximateReceiveCount = '2';
      expect(await starter({ Records: [again] }, fakeLambdaContext('starter', 30_000))).toEqual({ batchItemFailures: [] });
      expect(intake(info)).toEqual([expect.objectContaining({ task_id: taskId, receive_count: '2' })]);
      expect(await finished(taskId)).toMatchObject({ status: 'completed' });
    } finally {
      info.mockRestore();
      debug.mockRestore();
    }
  });

  it('two executions driving the same task (a duplicate start) deliver its attempt once', async () => {
    const agent = await countingAgent('dupexec', 500);
    const taskId = String(
      (await invoke(tasks, event('POST', '/tasks', { body: { task_type: 'work', agent_type: 'dupexec', max_retries: 0 } }))).body.task_id,
    );
    // Five dispatch steps at once, as five executions (or retried invocations) would run them.
    const steps = await Promise.all(
      Array.from({ length: 5 }, () =>
        dispatcher({ action: 'dispatch', state: { task_id: taskId, state_timeout_seconds: 60 } }, fakeLambdaContext('dispatcher', 330_000)),
      ),
    );
    const outcomes = (steps as Array<{ outcome: string; status: string }>).map((s) => `${s.outcome}:${s.status}`).sort();
    expect(outcomes.filter((o) => o === 'done:completed')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'done:completed').every((o) => o.startsWith('wait:') || o === 'done:completed')).toBe(true);
    expect(await finished(taskId)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(agent.deliveries.get(taskId)).toBe(1);
  });
});
