/**
 * Every bad input of DESIGN.md §3 gets a 4xx whose message says what to fix, changes nothing, and
 * reaches no agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { allExecutions } from '../../harness/workflow';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let agent: AgentProcess;
const UNKNOWN = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';

beforeAll(async () => {
  orch = await startLocalOrchestrator();
  agent = await startFaultAgent(orch.url, { mode: 'ok', type: 'guarded', capabilities: ['work'] });
});

afterAll(async () => {
  await agent?.stop();
  await orch?.dispose();
});

const valid = { task_type: 'work', agent_type: 'guarded' };

function nestedObject(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { next: value };
  return value;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const REGISTRATION = '"name":"a","type":"t","host":"127.0.0.1","port":8099,"capabilities":["c"]';
const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Values the task store cannot keep, sent as raw JSON (JSON.stringify cannot write 1e400): each a 400 naming the path. */
function unstorableValueCases(): Case[] {
  const submit = (extra: string) => `{"task_type":"work","agent_type":"guarded",${extra}}`;
  return [
    [
      'nested __proto__ in parameters',
      submit('"parameters":{"a":{"b":{"__proto__":{"x":1}}}}'),
      'parameters.a.b.__proto__ is a key named "__proto__"',
    ],
    [
      'top-level __proto__ in parameters',
      submit('"parameters":{"__proto__":{"admin":true}}'),
      'parameters.__proto__ is a key named "__proto__"',
    ],
    ['1e400 in parameters', submit('"parameters":{"a":{"b":1e400}}'), 'parameters.a.b is not a finite number'],
    ['1e126 in metadata', submit('"metadata":{"n":1e126}'), 'metadata.n is 1e+126 as a double, beyond ±9007199254740991'],
    ['2^64 in parameters', submit('"parameters":{"list":[18446744073709551616]}'), 'parameters.list.0 is 18446744073709552000 as a double'],
    ['1e-200 in parameters', submit('"parameters":{"tiny":1e-200}'), 'parameters.tiny is 1e-200, closer to 0 than 1e-130'],
    ['__proto__ in registration metadata', `{${REGISTRATION},"metadata":{"__proto__":1}}`, 'metadata.__proto__ is a key named "__proto__"'],
    ['2^64 in registration metadata', `{${REGISTRATION},"metadata":{"n":18446744073709551616}}`, 'metadata.n is 18446744073709552000'],
    ['1e400 in heartbeat metadata', '{"metadata":{"load":1e400}}', 'metadata.load is not a finite number'],
    ['__proto__ in heartbeat metadata', '{"metadata":{"a":{"__proto__":[]}}}', 'metadata.a.__proto__ is a key named "__proto__"'],
  ].map(([label, body, fragment]) => {
    const path = label!.includes('registration')
      ? '/agents/register'
      : label!.includes('heartbeat')
        ? `/agents/${UNKNOWN}/heartbeat`
        : '/tasks';
    return [label!, 'POST', path, body, 400, 'validation_error', fragment!, JSON_HEADERS] as Case;
  });
}

/** Ids with broken percent-encoding and page tokens of other listings: each a 400 that says what to send. */
function malformedIdAndTokenCases(): Case[] {
  const ids: Case[] = [
    ['task id %zz', 'GET', '/tasks/%zz', undefined, 400, 'validation_error', 'task ids are UUIDs'],
    ['task id cut in a UTF-8 sequence', 'GET', '/tasks/%E0%A4%A', undefined, 400, 'validation_error', 'task ids are UUIDs'],
    ['cancel task id %zz', 'DELETE', '/tasks/%zz', undefined, 400, 'validation_error', 'task ids are UUIDs'],
    ['agent id %zz', 'GET', '/agents/%zz', undefined, 400, 'validation_error', 'agent ids are UUIDs'],
    [
      'unregister agent id cut in a UTF-8 sequence',
      'DELETE',
      '/agents/%E0%A4%A',
      undefined,
      400,
      'validation_error',
      'agent ids are UUIDs',
    ],
    ['heartbeat agent id %', 'POST', '/agents/%/heartbeat', '{}', 400, 'validation_error', 'agent ids are UUIDs', JSON_HEADERS],
    ['drain agent id %E0%A4%A', 'POST', '/agents/%E0%A4%A/drain', '{}', 400, 'validation_error', 'agent ids are UUIDs', JSON_HEADERS],
  ];
  const at = '2026-06-15T12:00:00.000Z';
  const tokens: Array<[string, string, unknown]> = [
    ['a key with other attributes', 'status=queued', { k: { a: 'b' } }],
    ['an agent-type key on a status listing', 'status=queued', { k: { task_id: UNKNOWN, agent_type: 'guarded', created_at: at } }],
    ['a status key on an agent-type listing', 'agent_type=guarded', { k: { task_id: UNKNOWN, status: 'queued', created_at: at } }],
    ['a key of another status', 'status=queued', { k: { task_id: UNKNOWN, status: 'failed', created_at: at } }],
    ['a status key on the unfiltered listing', '', { k: { task_id: UNKNOWN, status: 'queued', created_at: at } }],
    ['a month key (tokens have none)', '', { m: '2026-06', k: { task_id: UNKNOWN, created_month: '2026-05', created_at: at } }],
    [
      'an unfiltered token on a status listing',
      'status=queued',
      { m: '2026-06', k: { task_id: UNKNOWN, created_month: '2026-06', created_at: at } },
    ],
    ['an extra key attribute', 'status=queued', { k: { task_id: UNKNOWN, status: 'queued', created_at: at, agent_type: 'x' } }],
    ['an empty task_id', 'status=queued', { k: { task_id: '', status: 'queued', created_at: at } }],
  ];
  return [
    ...ids,
    ...tokens.map(
      ([label, filter, value]): Case => [
        `next_token with ${label}`,
        'GET',
        `/tasks?${filter ? `${filter}&` : ''}next_token=${token(value)}`,
        undefined,
        400,
        'validation_error',
        'pass the next_token of the previous page unchanged, with the same filters',
      ],
    ),
  ];
}

type Case = [
  label: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
  code: string,
  fragment: string,
  headers?: Record<string, string>,
];

const cases: Case[] = [
  ['missing task_type', 'POST', '/tasks', { agent_type: 'guarded' }, 400, 'validation_error', 'task_type is required'],
  ['missing agent_type', 'POST', '/tasks', { task_type: 'work' }, 400, 'validation_error', 'agent_type is required'],
  ['unknown field', 'POST', '/tasks', { ...valid, timeout: 5 }, 400, 'validation_error', 'unknown field "timeout"'],
  [
    'wrong type for priority',
    'POST',
    '/tasks',
    { ...valid, priority: 'high' },
    400,
    'validation_error',
    'priority must be an integer from 1 to 15',
  ],
  [
    'priority out of range',
    'POST',
    '/tasks',
    { ...valid, priority: 99 },
    400,
    'validation_error',
    'priority must be an integer from 1 to 15',
  ],
  [
    'timeout above the maximum',
    'POST',
    '/tasks',
    { ...valid, timeout_seconds: 43_201 },
    400,
    'validation_error',
    'timeout_seconds must be an integer from 0 to 43200',
  ],
  [
    'negative max_retries',
    'POST',
    '/tasks',
    { ...valid, max_retries: -1 },
    400,
    'validation_error',
    'max_retries must be an integer from 0 to 10',
  ],
  [
    'queue_timeout_seconds above the maximum',
    'POST',
    '/tasks',
    { ...valid, queue_timeout_seconds: 86_401 },
    400,
    'validation_error',
    'queue_timeout_seconds must be an integer from 0 to 86400',
  ],
  [
    'queue_timeout_seconds not an integer',
    'POST',
    '/tasks',
    { ...valid, queue_timeout_seconds: 2.5 },
    400,
    'validation_error',
    'queue_timeout_seconds must be an integer',
  ],
  [
    'negative retry_delay_seconds',
    'POST',
    '/tasks',
    { ...valid, retry_delay_seconds: -1 },
    400,
    'validation_error',
    'retry_delay_seconds must be an integer from 0 to 300',
  ],
  [
    'retry_delay_seconds as a string',
    'POST',
    '/tasks',
    { ...valid, retry_delay_seconds: '5' },
    400,
    'validation_error',
    'retry_delay_seconds must be an integer from 0 to 300',
  ],
  [
    'register with max_concurrency 0',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '127.0.0.1', port: 80, capabilities: ['c'], max_concurrency: 0 },
    400,
    'validation_error',
    'max_concurrency must be an integer from 1 to 1000',
  ],
  [
    'drain unknown agent',
    'POST',
    `/agents/${UNKNOWN}/drain`,
    {},
    404,
    'agent_not_found',
    'is not registered',
    { 'content-type': 'application/json', 'x-agent-token': 'oat_not-a-real-token' },
  ],
  // Agent tokens are optional by default (seed-protocol agents have none): an unknown agent is a 404 either way.
  ['drain an unknown agent without a token', 'POST', `/agents/${UNKNOWN}/drain`, {}, 404, 'agent_not_found', 'is not registered'],
  ['unregister an unknown agent without a token', 'DELETE', `/agents/${UNKNOWN}`, undefined, 404, 'agent_not_found', 'is not registered'],
  ['bad agent list limit', 'GET', '/agents?limit=1000', undefined, 400, 'validation_error', 'limit must be an integer from 1 to 100'],
  ['tampered agent next_token', 'GET', '/agents?next_token=eyJrIjoxfQ', undefined, 400, 'validation_error', 'not one this API issued'],
  [
    'register more capabilities than MAX_AGENT_CAPABILITIES',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '127.0.0.1', port: 80, capabilities: Array.from({ length: 51 }, (_, i) => `c${i}`) },
    400,
    'validation_error',
    'at most 50 per agent (MAX_AGENT_CAPABILITIES)',
  ],
  ['drain bad id', 'POST', '/agents/x/drain', {}, 400, 'validation_error', 'agent ids are UUIDs'],
  ['drain with options', 'POST', `/agents/${UNKNOWN}/drain`, { force: true }, 400, 'validation_error', 'unknown field "force"'],
  [
    'parameters nested 20 000 levels deep',
    'POST',
    '/tasks',
    `{"task_type":"work","agent_type":"guarded","parameters":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
    400,
    'validation_error',
    'parameters must nest at most 16 levels',
    { 'content-type': 'application/json' },
  ],
  [
    'an unknown field nested 20 000 levels deep',
    'POST',
    '/tasks',
    `{"task_type":"work","agent_type":"guarded","colour":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    400,
    'validation_error',
    'unknown field "colour"',
    { 'content-type': 'application/json' },
  ],
  [
    'parameters over 64 KiB',
    'POST',
    '/tasks',
    { ...valid, parameters: { blob: 'x'.repeat(70_000) } },
    400,
    'validation_error',
    'parameters must be at most 65536 bytes as JSON',
  ],
  [
    'heartbeat metadata nested too deep',
    'POST',
    `/agents/${UNKNOWN}/heartbeat`,
    { metadata: nestedObject(17) },
    400,
    'validation_error',
    'metadata must nest at most 16 levels',
  ],
  [
    'parameters not an object',
    'POST',
    '/tasks',
    { ...valid, parameters: [1, 2] },
    400,
    'validation_error',
    'parameters must be a JSON object',
  ],
  [
    'agent_id not a UUID',
    'POST',
    '/tasks',
    { ...valid, agent_id: 'agent-7' },
    400,
    'validation_error',
    'agent_id must be the id of a registered agent',
  ],
  [
    'body not an object',
    'POST',
    '/tasks',
    '[1,2,3]',
    400,
    'validation_error',
    'must be a JSON object',
    { 'content-type': 'application/json' },
  ],
  ['body not JSON', 'POST', '/tasks', '{"task_type":', 400, 'invalid_json', 'not valid JSON', { 'content-type': 'application/json' }],
  ['no body', 'POST', '/tasks', undefined, 400, 'validation_error', 'no body'],
  [
    'body not declared as JSON',
    'POST',
    '/tasks',
    JSON.stringify(valid),
    415,
    'unsupported_media_type',
    'content-type must be application/json',
    { 'content-type': 'text/plain' },
  ],
  [
    'body too large',
    'POST',
    '/tasks',
    { ...valid, parameters: { blob: 'x'.repeat(200_000) } },
    413,
    'payload_too_large',
    'the limit is 131072 bytes',
  ],
  ['unknown agent_id', 'POST', '/tasks', { ...valid, agent_id: UNKNOWN }, 404, 'agent_not_found', 'is not a registered agent'],
  ['no agent offers it', 'POST', '/tasks', { task_type: 'other', agent_type: 'guarded' }, 503, 'no_capable_agent', 'they offer work'],
  ['bad task id', 'GET', '/tasks/not-a-uuid', undefined, 400, 'validation_error', 'task ids are UUIDs'],
  ['unknown task', 'GET', `/tasks/${UNKNOWN}`, undefined, 404, 'task_not_found', 'does not exist'],
  ['cancel unknown task', 'DELETE', `/tasks/${UNKNOWN}`, undefined, 404, 'task_not_found', 'does not exist'],
  ['bad status filter', 'GET', '/tasks?status=done', undefined, 400, 'validation_error', 'status must be one of pending'],
  ['bad limit', 'GET', '/tasks?limit=1000', undefined, 400, 'validation_error', 'limit must be an integer from 1 to 100'],
  ['unknown query parameter', 'GET', '/tasks?colour=red', undefined, 400, 'validation_error', 'unknown field "colour"'],
  ['tampered next_token', 'GET', '/tasks?next_token=eyJrIjoxfQ', undefined, 400, 'validation_error', 'not one this API issued'],
  [
    'register with a scheme in host',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: 'http://x', port: 1, capabilities: ['c'] },
    400,
    'validation_error',
    'host must be a host name or IP address',
  ],
  [
    'register instance metadata',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '169.254.169.254', port: 80, capabilities: ['c'] },
    400,
    'validation_error',
    'linkLocal',
  ],
  [
    'register a network not allowed',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '10.0.0.5', port: 80, capabilities: ['c'] },
    400,
    'validation_error',
    'ALLOWED_AGENT_NETWORKS',
  ],
  [
    'register without capabilities',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '127.0.0.1', port: 80, capabilities: [] },
    400,
    'validation_error',
    'capabilities must be a non-empty array',
  ],
  [
    'register with port out of range',
    'POST',
    '/agents/register',
    { name: 'a', type: 't', host: '127.0.0.1', port: 70000, capabilities: ['c'] },
    400,
    'validation_error',
    'port must be an integer from 1 to 65535',
  ],
  [
    'heartbeat unknown agent',
    'POST',
    `/agents/${UNKNOWN}/heartbeat`,
    {},
    404,
    'agent_not_found',
    'register again',
    { 'content-type': 'application/json', 'x-agent-token': 'oat_not-a-real-token' },
  ],
  ['heartbeat an unknown agent without a token', 'POST', `/agents/${UNKNOWN}/heartbeat`, {}, 404, 'agent_not_found', 'register again'],
  ['heartbeat bad id', 'POST', '/agents/x/heartbeat', {}, 400, 'validation_error', 'agent ids are UUIDs'],
  ['heartbeat unknown field', 'POST', `/agents/${UNKNOWN}/heartbeat`, { load: 1 }, 400, 'validation_error', 'unknown field "load"'],
  ['unknown agent', 'GET', `/agents/${UNKNOWN}`, undefined, 404, 'agent_not_found', 'is not registered'],
  [
    'bad agent status filter',
    'GET',
    '/agents?status=alive',
    undefined,
    400,
    'validation_error',
    'status must be one of healthy, unhealthy, draining',
  ],
  ...unstorableValueCases(),
  ...malformedIdAndTokenCases(),
  ['unknown route', 'GET', '/jobs', undefined, 404, 'route_not_found', 'no route GET /jobs'],
  ['wrong method', 'PUT', '/tasks', '{}', 405, 'method_not_allowed', 'use POST or GET', { 'content-type': 'application/json' }],
];

describe('bad input', () => {
  it.each(cases)('%s: %s %s answers %#', async (_label, method, path, body, status, code, fragment, headers) => {
    const res = await call(orch.url, method, path, body, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.code).toBe(code);
    expect(String(res.body.error)).toContain(fragment);
  });

  it('stored no task and delivered nothing to the agent', async () => {
    const listed = await call<{ count: number }>(orch.url, 'GET', '/tasks?limit=100');
    expect(listed.body.count).toBe(0);
    // Only an execution delivers a task, and none was ever started: nothing is on its way to the agent.
    expect(await allExecutions(orch)).toEqual([]);
    expect(agent.deliveries()).toEqual([]);
    const agents = await call<{ count: number }>(orch.url, 'GET', '/agents');
    expect(agents.body.count).toBe(1);
  });

  it('cancelling a finished task is a conflict (409) and leaves it as it was', async () => {
    const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', valid);
    const id = submitted.body.task_id;
    await waitForTask(orch.url, id, (t) => t.status === 'completed', 20_000);
    const res = await call(orch.url, 'DELETE', `/tasks/${id}`);
    expect(res).toEqual({
      status: 409,
      body: { code: 'task_already_finished', error: `task ${id} already finished as "completed"; only unfinished tasks can be cancelled` },
    });
    expect((await call(orch.url, 'GET', `/tasks/${id}`)).body.status).toBe('completed');
  });
});
