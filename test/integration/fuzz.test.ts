/**
 * Fuzzing the HTTP API of a real local runtime: thousands of malformed, oversized and random
 * requests to every route. None may get a 5xx, none may create a task or an agent or reach the
 * agent, and the process must still be healthy afterwards. fast-check generates the requests from
 * a fixed seed (printed on failure with the smallest failing request it could find). Then what
 * an attacker once got a 500 or a stored task with: broken percent-encoding in path ids, page tokens
 * of other listings, and values the task store cannot keep; each must be a 400 naming the field.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/api/routes';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { allExecutions } from '../../harness/workflow';
import { call } from '../support/checked-call';

/**
 * FUZZ_SEED / FUZZ_RUNS explore further; CI uses the fixed seed so a failure reproduces. `npm test`
 * sends the first 500 requests of the seed's sequence, `npm run test:long` 5 000 (vitest.config.ts).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const TARGETED_RUNS = Math.ceil((RUNS * 2) / 5);
let orch: LocalOrchestrator;
let agent: AgentProcess;

beforeAll(async () => {
  orch = await startLocalOrchestrator();
  agent = await startFaultAgent(orch.url, { mode: 'ok', type: 'fuzzed', capabilities: ['work'] });
});

afterAll(async () => {
  // FUZZ_DEBUG=1 shows the runtime's own output, e.g. the stack of a crash.
  if (process.env.FUZZ_DEBUG) console.log(orch.proc.output().slice(-6000));
  await agent?.stop();
  await orch?.dispose();
});

interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

const UUID = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';
const idLike = fc.oneof(
  fc.constant(UUID),
  fc.uuid().map(String),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('..', '%2e%2e', '%00', 'null', '-1', '1e9', 'x'.repeat(2_000), '%F0%9F%92%A9', '__proto__', 'constructor'),
);
const queryLike = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('status', 'agent_type', 'type', 'limit', 'next_token', 'colour', '__proto__', ''),
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('1000', '-1', '0', 'completed', 'healthy', '%', 'a'.repeat(3_000))),
      { maxKeys: 3 },
    )
    .map(
      (q) =>
        `?${Object.entries(q)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&')}`,
    ),
  fc.string({ maxLength: 50 }).map((s) => `?${s}`),
);
const pathLike = fc.oneof(
  // A route of the table with its placeholders filled with junk.
  fc
    .tuple(fc.constantFrom(...API_ROUTES.map((r) => r.path)), idLike, queryLike)
    .map(([p, id, q]) => `${p.replace('{id}', encodeURIComponent(id))}${q}`),
  fc.constantFrom(
    '/',
    '/tasks/',
    '/agents//heartbeat',
    '/tasks/../agents',
    '/TASKS',
    '/tasks%2F1',
    `/agents/${UUID}/drain/extra`,
    '/health/x',
  ),
  fc.webPath(),
);

/** Bodies that cannot be a valid submission or registration, whichever route gets them. */
const registrationLike = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 70 }), fc.integer()),
    type: fc.oneof(fc.string({ maxLength: 70 }), fc.constant(null)),
    host: fc.constantFrom('169.254.169.254', '10.0.0.1', 'http://x', '', 'localhost:80', '::g', 'metadata.google.internal'),
    port: fc.oneof(fc.integer({ min: -10, max: 70_000 }), fc.string()),
    capabilities: fc.oneof(fc.array(fc.string({ maxLength: 70 }), { maxLength: 3 }), fc.string()),
    max_concurrency: fc.oneof(fc.integer({ min: -5, max: 5_000 }), fc.double()),
  },
  { requiredKeys: ['host'] },
);
const submissionLike = fc.record(
  {
    task_type: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('work')),
    // Never the registered agent type: a valid-looking submission is refused with 503, not stored.
    agent_type: fc.oneof(
      fc.string({ maxLength: 70 }).filter((s) => s !== 'fuzzed'),
      fc.integer(),
    ),
    priority: fc.oneof(fc.integer({ min: -100, max: 100 }), fc.string(), fc.double()),
    timeout_seconds: fc.oneof(fc.integer({ min: -10, max: 1_000 }), fc.constant(null)),
    max_retries: fc.oneof(fc.integer({ min: -2, max: 20 }), fc.boolean()),
    queue_timeout_seconds: fc.oneof(fc.integer({ min: -1, max: 100_000 }), fc.string()),
    parameters: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant({ blob: 'x'.repeat(70_000) })),
    metadata: fc.jsonValue({ maxDepth: 3 }),
    agent_id: idLike,
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['agent_type'] },
);
const bodyLike: fc.Arbitrary<{ body?: string; contentType?: string }> = fc.oneof(
  fc.constant({}),
  fc.jsonValue({ maxDepth: 5 }).map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })),
  submissionLike.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })),
  registrationLike.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })),
  fc.string({ maxLength: 200 }).map((s) => ({ body: s, contentType: 'application/json' })),
  fc
    .tuple(
      fc.string({ maxLength: 200 }),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
    )
    .map(([s, contentType]) => ({ body: s, contentType })),
  fc.integer({ min: 1, max: 40_000 }).map((n) => ({ body: `${'['.repeat(n)}${']'.repeat(n)}`, contentType: 'application/json' })),
  fc.integer({ min: 17, max: 20_000 }).map((n) => ({
    body: `{"task_type":"work","agent_type":"fuzzed","parameters":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
    contentType: 'application/json',
  })),
  fc.constant({ body: 'x'.repeat(200_000), contentType: 'application/json' }),
  fc.constant({ body: '{"task_type":"work","agent_type":"fuzzed","__proto__":{"admin":true}}', contentType: 'application/json' }),
);
const requestLike: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'), pathLike, bodyLike)
  .map(([method, path, b]) => ({
    method,
    path: path.startsWith('/') ? path : `/${path}`,
    ...(method === 'GET' || method === 'HEAD' ? {} : b),
  }));

/** Path ids with broken percent-encoding (bad hex, cut or invalid UTF-8), sent as they are. */
const brokenEscape = fc.oneof(
  fc.constantFrom('%zz', '%E0%A4%A', '%', '%%', '%C0%AF', '%ED%A0%80', '%FF', '%u0041', '%0', 'a%2', '%F0%9F%92'),
  fc.stringMatching(/^[a-f0-9-]{0,12}%([0-9A-Fa-f]?[G-Zg-z%]|[89A-Fa-f][0-9A-Fa-f])[a-f0-9-]{0,12}$/),
);

/** A next_token that is valid base64url JSON, with a key of arbitrary attributes, and a month (as tokens once had) or not. */
const keyAttribute = fc.constantFrom('task_id', 'status', 'agent_type', 'created_month', 'created_at', 'type', '__proto__', '');
const foreignToken = fc
  .record(
    {
      m: fc.oneof(fc.constantFrom('2026-06', '1999-01', '2026-13'), fc.string({ maxLength: 8 })),
      k: fc.dictionary(
        keyAttribute,
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(UUID, 'queued', 'fuzzed', '2026-06'), fc.integer()),
        {
          maxKeys: 5,
        },
      ),
    },
    { requiredKeys: ['k'] },
  )
  .map((token) => JSON.stringify(token));

/** Whether the token `json` happens to be well formed for the listing `filter` (then it is not foreign: a 200). */
function fitsListing(json: string, filter: string): boolean {
  const { m, k } = JSON.parse(json) as { m?: unknown; k: Record<string, unknown> };
  // Tokens name the last entry read (task id and creation time) and the listing's filter; nothing else.
  if (m !== undefined) return false;
  const params = new URLSearchParams(filter);
  const [attribute, value] = params.has('status')
    ? ['status', params.get('status')]
    : params.has('agent_type')
      ? ['agent_type', params.get('agent_type')]
      : [undefined, undefined];
  const names = ['task_id', 'created_at', ...(attribute ? [attribute] : [])];
  const exact = Object.keys(k).length === names.length && names.every((n) => typeof k[n] === 'string' && k[n] !== '');
  return exact && (attribute === undefined || k[attribute] === value);
}

/** What the task store cannot keep, as JSON text (JSON.stringify writes neither 1e400 nor -0 as sent). */
const poison = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1e309',
    '1e126',
    '-1e126',
    '18446744073709551616',
    '9007199254740992',
    '-9007199254740993',
    '1e-131',
    '5e-324',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((v) => `{"__proto__":${JSON.stringify(v)}}`),
);
/** A JSON object (text) holding the poison somewhere down to 4 levels, beside ordinary values. */
const poisonedObject = fc
  .tuple(poison, fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.nat(3)), { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
  .map(([bad, path, sibling]) => {
    let text = bad;
    for (const step of path.reverse())
      text = typeof step === 'number' ? `[${'0,'.repeat(step)}${text}]` : `{${JSON.stringify(step === 'ok' ? 'k' : step)}:${text}}`;
    return `{"ok":${JSON.stringify(sibling)},"v":${text}}`;
  });
const REGISTRATION = `"name":"poisoned-agent","type":"fuzzed","host":"127.0.0.1","port":8099,"capabilities":["work"]`;

/**
 * Requests the attacker of issue 12 sent, which once answered 500 or stored something: each must
 * be a 400 now. Submissions and registrations are otherwise valid for the registered agent, so
 * anything not refused would create a task or an agent (the last test checks none was).
 */
const targetedLike: fc.Arbitrary<FuzzRequest & { field: string }> = fc.oneof(
  fc
    .tuple(fc.constantFrom('GET /tasks/', 'DELETE /tasks/', 'GET /agents/', 'DELETE /agents/', 'POST /agents/'), brokenEscape, fc.boolean())
    .map(([route, id, drain]) => {
      const [method, prefix] = route.split(' ') as [string, string];
      const path = method === 'POST' ? `${prefix}${id}/${drain ? 'drain' : 'heartbeat'}` : `${prefix}${id}`;
      return { method, path, body: method === 'POST' ? '{}' : undefined, contentType: 'application/json', field: 'id' };
    }),
  fc
    .tuple(foreignToken, fc.constantFrom('', 'status=queued&', 'agent_type=fuzzed&', 'status=completed&agent_type=x&'))
    .filter(([token, filter]) => !fitsListing(token, filter))
    .map(([token, filter]) => ({
      method: 'GET',
      path: `/tasks?${filter}next_token=${Buffer.from(token).toString('base64url')}`,
      field: 'next_token',
    })),
  fc.tuple(poisonedObject, fc.constantFrom('parameters', 'metadata')).map(([value, field]) => ({
    method: 'POST',
    path: '/tasks',
    body: `{"task_type":"work","agent_type":"fuzzed","${field}":${value}}`,
    contentType: 'application/json',
    field,
  })),
  poisonedObject.map((value) => ({
    method: 'POST',
    path: '/agents/register',
    body: `{${REGISTRATION},"metadata":${value}}`,
    contentType: 'application/json',
    field: 'metadata',
  })),
  poisonedObject.map((value) => ({
    method: 'POST',
    path: `/agents/${UUID}/heartbeat`,
    body: `{"metadata":${value}}`,
    contentType: 'application/json',
    field: 'metadata',
  })),
);

async function send(req: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (req.contentType) headers['content-type'] = req.contentType;
  const res = await fetch(`${orch.url}${req.path}`, { method: req.method, headers, body: req.body });
  return { status: res.status, text: await res.text() };
}

describe('fuzzing every route', () => {
  it(`answers ${RUNS} malformed, oversized and random requests without a 5xx, and says what is wrong`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestLike, async (req) => {
        const { status, text } = await send(req);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect(status, `${req.method} ${req.path.slice(0, 200)} → ${text.slice(0, 300)}`).toBeLessThan(500);
        if (status >= 400 && req.method !== 'HEAD') {
          const body = JSON.parse(text) as { error?: unknown; code?: unknown };
          expect(typeof body.error).toBe('string');
          expect(typeof body.code).toBe('string');
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    // The run reached the validation of every kind of route, not only the router.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 404, 405]));
  }, 240_000);

  it(`answers ${TARGETED_RUNS} broken path escapes, foreign page tokens and unstorable values with a 400 naming the field`, async () => {
    await fc.assert(
      fc.asyncProperty(targetedLike, async (req) => {
        const { status, text } = await send(req);
        const body = JSON.parse(text) as { error?: string; code?: string; details?: Array<{ field: string }> };
        expect(status, `${req.method} ${req.path.slice(0, 200)} ${req.body?.slice(0, 200) ?? ''} → ${text.slice(0, 300)}`).toBe(400);
        expect(body.code).toBe('validation_error');
        expect(body.details?.[0]?.field ?? '').toMatch(new RegExp(`^${req.field}(\\.|$)`));
      }),
      { numRuns: TARGETED_RUNS, seed: SEED, endOnFailure: false },
    );
  }, 120_000);

  it('created no task and no agent, delivered nothing, and the process is still healthy', async () => {
    expect((await call(orch.url, 'GET', '/health')).status).toBe(200);
    expect(orch.proc.child.exitCode).toBeNull();
    const tasks = (await call<{ tasks: unknown[] }>(orch.url, 'GET', '/tasks?limit=100')).body.tasks;
    expect(tasks, JSON.stringify(tasks).slice(0, 2_000)).toEqual([]);
    const agents = (await call<{ agents: Array<{ id: string }> }>(orch.url, 'GET', '/agents')).body.agents;
    expect(agents.map((a) => a.id)).toEqual([agent.id]);
    // Only an execution delivers a task, and none was ever started: nothing is on its way to the agent.
    expect(await allExecutions(orch)).toEqual([]);
    expect(agent.deliveries()).toEqual([]);
  });
});
