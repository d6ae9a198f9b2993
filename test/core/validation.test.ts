import type * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import {
  heartbeatRequestSchema,
  isUuid,
  listAgentsQuerySchema,
  listTasksQuerySchema,
  registerAgentRequestSchema,
  taskSubmitRequestSchema,
} from '@optiinfra/contract';
import { ValidationError } from '@optiinfra/contract';
import { parseOrThrow } from '../../functions/core/validation';

const NAME_RULE = '1-64 letters, digits, "_", ".", ":" or "-", starting with a letter or digit';
const PRIORITY_RULE = 'an integer from 1 to 15';
const TIMEOUT_RULE =
  'an integer from 0 to 43200 seconds per attempt; 0 or absent means 30; beyond 300 only an agent that accepts with 202 can use it';
const RETRIES_RULE = 'an integer from 0 to 10; 0 means one attempt and no retry';
const HOST_RULE = 'a host name or IP address without scheme, port or path';
const SUBMIT_FIELDS =
  'task_type, agent_type, agent_id, parameters, priority, timeout_seconds, max_retries, retry_delay_seconds, queue_timeout_seconds, metadata';

/** Runs parseOrThrow expecting a ValidationError; returns it for further checks. */
function rejection(schema: z.ZodMiniType, input: unknown, where: string): ValidationError {
  let caught: unknown;
  try {
    parseOrThrow(schema, input, where);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a ValidationError').toBeInstanceOf(ValidationError);
  const err = caught as ValidationError;
  expect(err.status).toBe(400);
  expect(err.code).toBe('validation_error');
  expect(err.message.startsWith(`invalid ${where}: `)).toBe(true);
  return err;
}

/** An object nested `levels` deep (levels >= 1). */
function deep(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { next: value };
  return value;
}

const submit = (extra: Record<string, unknown>) => ({ task_type: 'analyze_cost', agent_type: 'cost', ...extra });
const register = (extra: Record<string, unknown>) => ({
  name: 'cost-agent-1',
  type: 'cost',
  host: '10.0.1.12',
  port: 8080,
  capabilities: ['analyze_cost'],
  ...extra,
});

describe('task submission validation', () => {
  type Case = [label: string, input: unknown, fields: string[], fragments: string[]];
  const cases: Case[] = [
    [
      'an unknown field is named and the allowed fields are listed',
      submit({ colour: 'red' }),
      ['colour'],
      ['unknown field "colour"', `allowed fields are ${SUBMIT_FIELDS}`],
    ],
    ['two unknown fields are both named', submit({ a: 1, b: 2 }), ['a', 'b'], ['unknown field "a"', 'unknown field "b"']],
    [
      'a numeric task_type is rejected with the naming rule',
      submit({ task_type: 5 }),
      ['task_type'],
      ['task_type must be a task type', NAME_RULE, '(got number 5)'],
    ],
    [
      'a boolean agent_type is rejected with the naming rule',
      submit({ agent_type: true }),
      ['agent_type'],
      ['agent_type must be an agent type', NAME_RULE, '(got boolean true)'],
    ],
    [
      'a task_type with spaces is rejected',
      submit({ task_type: 'analyze cost' }),
      ['task_type'],
      ['task_type must be', '(got "analyze cost")'],
    ],
    [
      'a task_type longer than 64 characters is rejected',
      submit({ task_type: 'a'.repeat(65) }),
      ['task_type'],
      ['task_type must be', NAME_RULE],
    ],
    [
      'a missing task_type is reported as required',
      { agent_type: 'cost' },
      ['task_type'],
      ['task_type is required: a task type', NAME_RULE],
    ],
    [
      'a missing agent_type is reported as required',
      { task_type: 'analyze_cost' },
      ['agent_type'],
      ['agent_type is required: an agent type', NAME_RULE],
    ],
    ['an empty body reports both required fields', {}, ['task_type', 'agent_type'], ['task_type is required', 'agent_type is required']],
    [
      'priority 0 is below the range',
      submit({ priority: 0 }),
      ['priority'],
      [`priority must be ${PRIORITY_RULE}`, '(1 low, 5 normal, 10 high, 15 critical)', '(got number 0)'],
    ],
    ['priority 16 is above the range', submit({ priority: 16 }), ['priority'], [`priority must be ${PRIORITY_RULE}`, '(got number 16)']],
    [
      'a fractional priority is not an integer',
      submit({ priority: 2.5 }),
      ['priority'],
      [`priority must be ${PRIORITY_RULE}`, '(got number 2.5)'],
    ],
    [
      'a named priority string is not accepted',
      submit({ priority: 'high' }),
      ['priority'],
      [`priority must be ${PRIORITY_RULE}`, '(got "high")'],
    ],
    ['a negative priority is rejected', submit({ priority: -5 }), ['priority'], [`priority must be ${PRIORITY_RULE}`]],
    [
      'heartbeat_timeout_seconds below 5 is rejected',
      submit({ heartbeat_timeout_seconds: 4 }),
      ['heartbeat_timeout_seconds'],
      ['heartbeat_timeout_seconds must be an integer from 5 to 3600 seconds an agent that accepted the task', '(got number 4)'],
    ],
    [
      'timeout_seconds above 43200 (12 h) is rejected',
      submit({ timeout_seconds: 43_201 }),
      ['timeout_seconds'],
      [`timeout_seconds must be ${TIMEOUT_RULE}`, '(got number 43201)'],
    ],
    [
      'a negative timeout_seconds is rejected',
      submit({ timeout_seconds: -1 }),
      ['timeout_seconds'],
      [`timeout_seconds must be ${TIMEOUT_RULE}`, '(got number -1)'],
    ],
    [
      'a fractional timeout_seconds is rejected',
      submit({ timeout_seconds: 1.5 }),
      ['timeout_seconds'],
      [`timeout_seconds must be ${TIMEOUT_RULE}`],
    ],
    [
      'a string timeout_seconds is rejected',
      submit({ timeout_seconds: '30' }),
      ['timeout_seconds'],
      [`timeout_seconds must be ${TIMEOUT_RULE}`, '(got "30")'],
    ],
    [
      'max_retries above 10 is rejected',
      submit({ max_retries: 11 }),
      ['max_retries'],
      [`max_retries must be ${RETRIES_RULE}`, '(got number 11)'],
    ],
    ['a negative max_retries is rejected', submit({ max_retries: -1 }), ['max_retries'], [`max_retries must be ${RETRIES_RULE}`]],
    [
      'queue_timeout_seconds above a day is rejected',
      submit({ queue_timeout_seconds: 86_401 }),
      ['queue_timeout_seconds'],
      ['queue_timeout_seconds must be an integer from 0 to 86400 seconds to wait for a free agent', '(got number 86401)'],
    ],
    [
      'a negative queue_timeout_seconds is rejected',
      submit({ queue_timeout_seconds: -1 }),
      ['queue_timeout_seconds'],
      ['queue_timeout_seconds must be an integer from 0 to 86400'],
    ],
    [
      'a string queue_timeout_seconds is rejected',
      submit({ queue_timeout_seconds: '60' }),
      ['queue_timeout_seconds'],
      ['queue_timeout_seconds must be an integer', '(got "60")'],
    ],
    [
      'retry_delay_seconds above 300 is rejected',
      submit({ retry_delay_seconds: 301 }),
      ['retry_delay_seconds'],
      ['retry_delay_seconds must be an integer from 0 to 300 seconds before the first retry', '(got number 301)'],
    ],
    [
      'a fractional retry_delay_seconds is rejected',
      submit({ retry_delay_seconds: 0.5 }),
      ['retry_delay_seconds'],
      ['retry_delay_seconds must be an integer from 0 to 300'],
    ],
    [
      'parameters nested 17 levels deep are rejected',
      submit({ parameters: deep(17) }),
      ['parameters'],
      ['parameters must nest at most 16 levels of objects and arrays'],
    ],
    [
      'parameters nested 20 000 levels deep are rejected without overflowing',
      submit({ parameters: deep(20_000) }),
      ['parameters'],
      ['parameters must nest at most 16 levels'],
    ],
    [
      'parameters over 64 KiB are rejected',
      submit({ parameters: { blob: 'x'.repeat(65_536) } }),
      ['parameters'],
      ['parameters must be at most 65536 bytes as JSON (got 65547)', 'pass a reference'],
    ],
    [
      'metadata over 16 KiB is rejected',
      submit({ metadata: { note: 'x'.repeat(16_384) } }),
      ['metadata'],
      ['metadata must be at most 16384 bytes as JSON'],
    ],
    [
      'parameters given as an array are rejected',
      submit({ parameters: [1, 2] }),
      ['parameters'],
      ['parameters must be a JSON object of task parameters', '(got an array)'],
    ],
    [
      'parameters given as a string are rejected',
      submit({ parameters: 'x=1' }),
      ['parameters'],
      ['parameters must be a JSON object of task parameters', '(got "x=1")'],
    ],
    [
      'parameters given as null are rejected',
      submit({ parameters: null }),
      ['parameters'],
      ['parameters must be a JSON object', '(got null)'],
    ],
    [
      'metadata given as an array is rejected',
      submit({ metadata: [] }),
      ['metadata'],
      ['metadata must be a JSON object of metadata', '(got an array)'],
    ],
    [
      'an agent_id that is not a UUID is rejected with an example',
      submit({ agent_id: 'agent-1' }),
      ['agent_id'],
      ['agent_id must be the id of a registered agent', 'a UUID such as', '(got "agent-1")'],
    ],
    ['a numeric agent_id is rejected', submit({ agent_id: 42 }), ['agent_id'], ['agent_id must be', 'a UUID']],
    [
      'a nested __proto__ key in parameters is named by its path',
      submit({ parameters: JSON.parse('{"a":{"b":{"__proto__":{"x":1}}}}') }),
      ['parameters.a.b.__proto__'],
      ['parameters.a.b.__proto__ is a key named "__proto__"', 'rename the key'],
    ],
    [
      'a top-level __proto__ key in parameters is refused, not dropped',
      submit({ parameters: JSON.parse('{"__proto__":{"admin":true},"ok":1}') }),
      ['parameters.__proto__'],
      ['parameters.__proto__ is a key named "__proto__"'],
    ],
    [
      '1e400 in metadata (Infinity once parsed) is refused',
      submit({ metadata: JSON.parse('{"a":[1,1e400]}') }),
      ['metadata.a.1'],
      ['metadata.a.1 is not a finite number'],
    ],
    [
      '2^64 in parameters is refused',
      submit({ parameters: JSON.parse('{"a":{"b":18446744073709551616}}') }),
      ['parameters.a.b'],
      ['parameters.a.b is 18446744073709552000 as a double, beyond ±9007199254740991', 'send it as a string'],
    ],
    ['1e126 in parameters is refused', submit({ parameters: { n: 1e126 } }), ['parameters.n'], ['parameters.n is 1e+126 as a double']],
    ['1e-200 in parameters is refused', submit({ parameters: { n: 1e-200 } }), ['parameters.n'], ['closer to 0 than 1e-130']],
  ];

  it.each(cases)('%s', (_label, input, fields, fragments) => {
    const err = rejection(taskSubmitRequestSchema, input, 'task submission');
    expect(err.issues.map((i) => i.field)).toEqual(fields);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'analyze_cost'],
    ['a number', 42],
    ['absent', undefined],
  ])('a body that is %s is rejected as not a JSON object', (_label, body) => {
    const err = rejection(taskSubmitRequestSchema, body, 'task submission');
    expect(err.message).toBe('invalid task submission: task submission must be a JSON object');
    expect(err.issues).toEqual([{ field: '', message: 'task submission must be a JSON object' }]);
  });

  it('every wrong field is named in one message so the caller can fix the request in one go', () => {
    const err = rejection(
      taskSubmitRequestSchema,
      { agent_type: 'cost', priority: 99, timeout_seconds: 99_999, extra: 1 },
      'task submission',
    );
    expect(err.issues.map((i) => i.field).sort()).toEqual(['extra', 'priority', 'task_type', 'timeout_seconds']);
    for (const issue of err.issues) {
      expect(issue.message).toContain(issue.field);
      expect(err.message).toContain(issue.message);
    }
  });

  it('a long wrong string is shortened in the message', () => {
    const err = rejection(taskSubmitRequestSchema, submit({ agent_id: 'x'.repeat(100) }), 'task submission');
    expect(err.message).toContain(`(got "${'x'.repeat(40)}...")`);
    expect(err.message).not.toContain('x'.repeat(41));
  });

  it('a minimal valid submission gets every default', () => {
    expect(parseOrThrow(taskSubmitRequestSchema, submit({}), 'task submission')).toEqual({
      task_type: 'analyze_cost',
      agent_type: 'cost',
      parameters: {},
      priority: 5,
      timeout_seconds: 30,
      max_retries: 3,
      metadata: {},
    });
  });

  it.each([
    ['timeout_seconds 0 means the 30-second default', { timeout_seconds: 0 }, { timeout_seconds: 30 }],
    ['timeout_seconds absent means 30', {}, { timeout_seconds: 30 }],
    ['timeout_seconds 1 is kept', { timeout_seconds: 1 }, { timeout_seconds: 1 }],
    ['timeout_seconds 43200 (12 h) is the largest kept', { timeout_seconds: 43_200 }, { timeout_seconds: 43_200 }],
    ['heartbeat_timeout_seconds is kept', { heartbeat_timeout_seconds: 5 }, { heartbeat_timeout_seconds: 5 }],
    ['an explicit max_retries 0 is kept as 0 (no retry)', { max_retries: 0 }, { max_retries: 0 }],
    ['max_retries absent means 3', {}, { max_retries: 3 }],
    ['max_retries 10 is the largest kept', { max_retries: 10 }, { max_retries: 10 }],
    ['retry_delay_seconds 0 (retry at once) is kept', { retry_delay_seconds: 0 }, { retry_delay_seconds: 0 }],
    ['retry_delay_seconds 300 is the largest kept', { retry_delay_seconds: 300 }, { retry_delay_seconds: 300 }],
    [
      'queue_timeout_seconds 0 is kept (the orchestrator reads it as its default)',
      { queue_timeout_seconds: 0 },
      { queue_timeout_seconds: 0 },
    ],
    ['queue_timeout_seconds 86400 is the largest kept', { queue_timeout_seconds: 86_400 }, { queue_timeout_seconds: 86_400 }],
    ['priority 1 (low) is kept', { priority: 1 }, { priority: 1 }],
    ['priority 15 (critical) is kept', { priority: 15 }, { priority: 15 }],
    ['priority absent means 5 (normal)', {}, { priority: 5 }],
    ['parameters nested exactly 16 levels are kept', { parameters: deep(16) }, { parameters: deep(16) }],
    ['nested parameters pass through untouched', { parameters: { a: [1, { b: null }] } }, { parameters: { a: [1, { b: null }] } }],
    ['a UUID agent_id is kept', { agent_id: '0B6F3A52-5C3E-4D8E-9F3E-1A2B3C4D5E6F' }, { agent_id: '0B6F3A52-5C3E-4D8E-9F3E-1A2B3C4D5E6F' }],
    ['names may use letters, digits, "_", ".", ":" and "-"', { task_type: 'a1_b.c:d-e' }, { task_type: 'a1_b.c:d-e' }],
  ])('%s', (_label, extra, expected) => {
    expect(parseOrThrow(taskSubmitRequestSchema, submit(extra), 'task submission')).toMatchObject(expected);
  });
});

describe('agent registration validation', () => {
  type Case = [label: string, input: unknown, field: string, fragments: string[]];
  const cases: Case[] = [
    [
      'a host with an http scheme is rejected',
      register({ host: 'http://10.0.1.12' }),
      'host',
      [`host must be ${HOST_RULE}`, '(got "http://10.0.1.12")'],
    ],
    [
      'a host with a path is rejected',
      register({ host: 'agent.internal/task' }),
      'host',
      [`host must be ${HOST_RULE}`, '(got "agent.internal/task")'],
    ],
    ['a host name with a port is rejected', register({ host: 'agent.internal:8080' }), 'host', [`host must be ${HOST_RULE}`]],
    ['a bracketed IPv6 host with a port is rejected', register({ host: '[::1]:8080' }), 'host', [`host must be ${HOST_RULE}`]],
    ['an empty host is rejected', register({ host: '' }), 'host', [`host must be ${HOST_RULE}`]],
    ['a missing host is reported as required', register({ host: undefined }), 'host', [`host is required: ${HOST_RULE}`]],
    ['port 0 is rejected', register({ port: 0 }), 'port', ['port must be an integer from 1 to 65535', '(got number 0)']],
    ['port 70000 is rejected', register({ port: 70000 }), 'port', ['port must be an integer from 1 to 65535', '(got number 70000)']],
    ['a port given as a string is rejected', register({ port: '80' }), 'port', ['port must be an integer from 1 to 65535', '(got "80")']],
    ['a fractional port is rejected', register({ port: 80.5 }), 'port', ['port must be an integer from 1 to 65535']],
    [
      'empty capabilities are rejected',
      register({ capabilities: [] }),
      'capabilities',
      ['capabilities must be a non-empty array of task types, such as ["analyze_cost"]'],
    ],
    [
      'capabilities given as a string are rejected',
      register({ capabilities: 'analyze_cost' }),
      'capabilities',
      ['capabilities must be a non-empty array of task types'],
    ],
    [
      'a capability listed twice is rejected',
      register({ capabilities: ['analyze_cost', 'analyze_cost'] }),
      'capabilities',
      ['capabilities must not list the same capability twice'],
    ],
    [
      'a capability with a space is named by its position',
      register({ capabilities: ['ok', 'analyze cost'] }),
      'capabilities.1',
      ['capabilities.1 must be a capability (task type)', NAME_RULE, '(got "analyze cost")'],
    ],
    [
      'metadata over 16 KiB is rejected',
      register({ metadata: { blob: 'x'.repeat(20_000) } }),
      'metadata',
      ['metadata must be at most 16384 bytes as JSON'],
    ],
    ['metadata nested 17 levels deep is rejected', register({ metadata: deep(17) }), 'metadata', ['metadata must nest at most 16 levels']],
    [
      'metadata with a nested __proto__ key is rejected',
      register({ metadata: JSON.parse('{"labels":{"__proto__":{"x":1}}}') }),
      'metadata.labels.__proto__',
      ['metadata.labels.__proto__ is a key named "__proto__"'],
    ],
    ['metadata holding 1e400 is rejected', register({ metadata: JSON.parse('{"a":1e400}') }), 'metadata.a', ['is not a finite number']],
    [
      'more than 100 capabilities are rejected',
      register({ capabilities: Array.from({ length: 101 }, (_, i) => `c${i}`) }),
      'capabilities',
      ['at most 100 task types'],
    ],
    [
      'a name with spaces is rejected',
      register({ name: 'cost agent' }),
      'name',
      ['name must be an agent name such as "cost-agent-1"', NAME_RULE, '(got "cost agent")'],
    ],
    ['a name starting with "-" is rejected', register({ name: '-agent' }), 'name', ['name must be an agent name', NAME_RULE]],
    ['a type with a slash is rejected', register({ type: 'cost/agent' }), 'type', ['type must be an agent type', NAME_RULE]],
    [
      'a version over 64 characters is rejected',
      register({ version: 'v'.repeat(65) }),
      'version',
      ['version must be at most 64 characters'],
    ],
    [
      'max_concurrency 0 is rejected',
      register({ max_concurrency: 0 }),
      'max_concurrency',
      ['max_concurrency must be an integer from 1 to 1000 tasks at once'],
    ],
    [
      'an unknown field is named with the allowed fields',
      register({ url: 'http://x' }),
      'url',
      ['unknown field "url"', 'allowed fields are name, type, host, port, scheme, capabilities, version, max_concurrency, metadata'],
    ],
  ];

  it.each(cases)('%s', (_label, input, field, fragments) => {
    const err = rejection(registerAgentRequestSchema, input, 'agent registration');
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ['an IPv4 address', '10.0.1.12', '10.0.1.12'],
    ['a host name', 'cost-agent-1.internal', 'cost-agent-1.internal'],
    ['a single-label host name', 'localhost', 'localhost'],
    ['a bare IPv6 address', 'fd00::12', 'fd00::12'],
    ['a bracketed IPv6 address, stored bare so both spellings are one agent', '[::1]', '::1'],
    ['a host name in capitals, stored in lower case', 'Cost-Agent.Internal', 'cost-agent.internal'],
  ])('a host that is %s is accepted', (_label, host, stored) => {
    expect(parseOrThrow(registerAgentRequestSchema, register({ host }), 'agent registration').host).toBe(stored);
  });

  it.each([[1], [65535]])('port %i is accepted', (port) => {
    expect(parseOrThrow(registerAgentRequestSchema, register({ port }), 'agent registration').port).toBe(port);
  });

  it('a minimal valid registration gets version 1.0.0, max_concurrency 10 and empty metadata', () => {
    expect(parseOrThrow(registerAgentRequestSchema, register({}), 'agent registration')).toEqual({
      name: 'cost-agent-1',
      type: 'cost',
      host: '10.0.1.12',
      port: 8080,
      capabilities: ['analyze_cost'],
      version: '1.0.0',
      max_concurrency: 10,
      metadata: {},
    });
  });

  // Known bug (see report): the IPv6 fallback of isValidHost accepts any string of hex digits, "." and ":",
  // so an IPv4 address with a port, or a lone ":", passes although the rule says "without ... port".
  it.each([
    ['an IPv4 address with a port', '10.0.1.12:8080'],
    ['a hex-looking host name with a port', 'cafe:8080'],
    ['a lone colon', ':'],
    ['only colons', ':::'],
  ])('a host that is %s is rejected', (_label, host) => {
    const err = rejection(registerAgentRequestSchema, register({ host }), 'agent registration');
    expect(err.message).toContain(`host must be ${HOST_RULE}`);
  });
});

describe('heartbeat validation', () => {
  it('an unknown field is named with the allowed fields', () => {
    const err = rejection(heartbeatRequestSchema, { in_flight: 1, cpu_percent: 40 }, 'heartbeat');
    expect(err.message).toBe('invalid heartbeat: unknown field "cpu_percent"; allowed fields are in_flight, metadata');
    expect(err.issues).toEqual([{ field: 'cpu_percent', message: 'unknown field "cpu_percent"; allowed fields are in_flight, metadata' }]);
  });

  it.each([
    ['a negative in_flight', { in_flight: -1 }, 'in_flight must be an integer from 0 to 100000 (tasks the agent is working on now)'],
    ['a string in_flight', { in_flight: '3' }, 'in_flight must be an integer from 0 to 100000'],
    ['metadata given as a string', { metadata: 'x' }, 'metadata must be a JSON object of metadata'],
    ['metadata nested 5 000 levels deep', { metadata: deep(5_000) }, 'metadata must nest at most 16 levels'],
    ['metadata with a __proto__ key', JSON.parse('{"metadata":{"__proto__":1}}'), 'metadata.__proto__ is a key named "__proto__"'],
    ['metadata holding 2^64', JSON.parse('{"metadata":{"n":[18446744073709551616]}}'), 'metadata.n.0 is 18446744073709552000'],
  ])('%s is rejected', (_label, body, fragment) => {
    expect(rejection(heartbeatRequestSchema, body, 'heartbeat').message).toContain(fragment);
  });

  it.each([
    ['an empty heartbeat', {}, {}],
    ['in_flight 0', { in_flight: 0 }, { in_flight: 0 }],
    ['in_flight with metadata', { in_flight: 3, metadata: { load: 0.5 } }, { in_flight: 3, metadata: { load: 0.5 } }],
  ])('%s is accepted as sent, with no defaults added', (_label, body, expected) => {
    expect(parseOrThrow(heartbeatRequestSchema, body, 'heartbeat')).toEqual(expected);
  });
});

describe('task list query validation', () => {
  it.each([
    ['limit "0" is below the range', { limit: '0' }, 'limit', ['limit must be an integer from 1 to 100', '(got number 0)']],
    ['limit "101" is above the range', { limit: '101' }, 'limit', ['limit must be an integer from 1 to 100', '(got number 101)']],
    ['limit "1000" is above the range', { limit: '1000' }, 'limit', ['limit must be an integer from 1 to 100', '(got "1000")']],
    ['limit "abc" is not a number', { limit: 'abc' }, 'limit', ['limit must be an integer from 1 to 100', '(got "abc")']],
    ['limit "-1" is not a positive integer', { limit: '-1' }, 'limit', ['limit must be an integer from 1 to 100']],
    ['limit "2.5" is not an integer', { limit: '2.5' }, 'limit', ['limit must be an integer from 1 to 100']],
    [
      'a status not in the list is rejected with the list',
      { status: 'done' },
      'status',
      ['status must be one of pending, queued, sent, running, retrying, completed, failed, timeout, cancelled', '(got "done")'],
    ],
    ['a status in the wrong case is rejected', { status: 'COMPLETED' }, 'status', ['status must be one of']],
    [
      'a next_token with "+", "/" and "=" is rejected',
      { next_token: 'abc+def/ghi=' },
      'next_token',
      ['next_token must be the next_token returned by the previous page, unchanged', '(got "abc+def/ghi=")'],
    ],
    [
      'a next_token with a space is rejected',
      { next_token: 'abc def' },
      'next_token',
      ['next_token must be the next_token returned by the previous page, unchanged'],
    ],
    [
      'an empty next_token is rejected',
      { next_token: '' },
      'next_token',
      ['next_token must be the next_token returned by the previous page'],
    ],
    ['an agent_type with spaces is rejected', { agent_type: 'a b' }, 'agent_type', ['agent_type must be an agent type', NAME_RULE]],
    [
      'an unknown query parameter is named with the allowed ones',
      { page: '2' },
      'page',
      ['unknown field "page"', 'allowed fields are status, agent_type, limit, next_token'],
    ],
  ] as Array<[string, unknown, string, string[]]>)('%s', (_label, query, field, fragments) => {
    const err = rejection(listTasksQuerySchema, query, 'task list query');
    expect(err.issues.map((i) => i.field)).toEqual([field]);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ['an empty query', {}, {}],
    ['limit "1"', { limit: '1' }, { limit: 1 }],
    ['limit "100"', { limit: '100' }, { limit: 100 }],
    ['a known status', { status: 'retrying' }, { status: 'retrying' }],
    ['a base64url next_token', { next_token: 'eyJ0YXNrX2lkIjoiYSJ9-_' }, { next_token: 'eyJ0YXNrX2lkIjoiYSJ9-_' }],
  ])('%s is accepted and the limit becomes a number', (_label, query, expected) => {
    expect(parseOrThrow(listTasksQuerySchema, query, 'task list query')).toEqual(expected);
  });
});

describe('agent list query validation', () => {
  it('a status that is not an agent status is rejected with the allowed ones', () => {
    const err = rejection(listAgentsQuerySchema, { status: 'pending' }, 'agent list query');
    expect(err.message).toContain('status must be one of healthy, unhealthy, draining (got "pending")');
  });

  it.each([[{ status: 'draining' }], [{ type: 'cost' }], [{}]])('%j is accepted', (query) => {
    expect(parseOrThrow(listAgentsQuerySchema, query, 'agent list query')).toEqual(query);
  });
});

describe('isUuid', () => {
  it.each([
    ['0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f', true],
    ['0B6F3A52-5C3E-4D8E-9F3E-1A2B3C4D5E6F', true],
    ['0b6f3a525c3e4d8e9f3e1a2b3c4d5e6f', false],
    ['0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6', false],
    ['{0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f}', false],
    ['', false],
  ])('%j is a UUID: %s', (value, expected) => {
    expect(isUuid(value)).toBe(expected);
  });
});
