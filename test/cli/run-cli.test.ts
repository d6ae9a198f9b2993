import { type CliIo, runCli } from '@optiinfra/cli';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RecordingServer, startRecordingServer } from '../client/recording-server';

const NOW = Date.parse('2026-12-01T00:01:00.000Z');
const TASK_ID = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';
const AGENT_ID = '5458abed-0000-4000-8000-000000000001';
const ROUTING = {
  attempt: 1,
  agent_id: AGENT_ID,
  agent_name: 'cost-agent-1',
  decided_at: '2026-12-01T00:00:00.100Z',
  reason: 'least loaded of 2 eligible agents (0 of 10 slots in use before this task)',
  candidates: 2,
  eligible: 2,
  load_seen: [
    { agent_id: AGENT_ID, name: 'cost-agent-1', in_flight: 0, max_concurrency: 10, status: 'healthy', circuit: 'closed' },
    { agent_id: 'x', name: 'cost-agent-2', in_flight: 1, max_concurrency: 10, status: 'healthy', circuit: 'closed' },
  ],
};
function task(status: string, extra: Record<string, unknown> = {}) {
  const base = { task_id: TASK_ID, status, agent_id: AGENT_ID, task_type: 'analyze_cost', agent_type: 'cost', priority: 5 };
  const times = {
    created_at: '2026-12-01T00:00:00.000Z',
    retry_count: 0,
    attempts: 1,
    progress: null,
    progress_message: null,
    last_progress_at: null,
  };
  return { ...base, ...times, routing: ROUTING, ...extra };
}
const AGENT = {
  id: AGENT_ID,
  name: 'cost-agent-1',
  type: 'cost',
  status: 'healthy',
  in_flight: 2,
  max_concurrency: 10,
  last_heartbeat: '2026-12-01T00:00:57.000Z',
  circuit: { state: 'closed', recent_dispatches: 0, recent_failures: 0, window_seconds: 60 },
};

let server: RecordingServer;
beforeEach(async () => {
  server = await startRecordingServer();
});
afterEach(async () => {
  await server.close();
});

async function cli(argv: string[], env: Record<string, string> = {}, options: { tty?: boolean; signal?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    progress: (t) => err.push(options.tty ? `[redraw] ${t}` : t),
    endProgress: () => void (options.tty && err.push('[end]')),
    stderrIsTty: options.tty === true,
    now: () => NOW,
  };
  const code = await runCli(argv, { OPTIINFRA_API_URL: server.url, ...env }, io, options.signal);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('optiinfra against a recording API', () => {
  it('run --wait prints a progress line per change on stderr, then the result, and exits 0', async () => {
    server.reply(
      { status: 201, body: { task_id: TASK_ID, status: 'pending', agent_id: '', created_at: '', status_url: '' } },
      { status: 200, body: task('running') },
      { status: 200, body: task('running') },
      { status: 200, body: task('completed', { result: { savings_usd: 42 } }) },
    );
    const { code, out, err } = await cli(['run', 'analyze_cost', '--type', 'cost', '-p', 'account_id=123', '--wait', '--token', 't1']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ savings_usd: 42 });
    expect(err.split('\n')).toEqual([
      'waiting: submitted, 0.0s',
      'waiting: running, agent cost-agent-1, attempt 1, 0.0s',
      'waiting: completed, agent cost-agent-1, attempt 1, 0.0s',
    ]);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      task_type: 'analyze_cost',
      agent_type: 'cost',
      parameters: { account_id: '123' },
    });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(Array(4).fill('Bearer t1'));
    expect(server.requests[1]?.url).toBe(`/tasks/${TASK_ID}?wait=5`);
  });

  it('run --wait exits 1 with the error of a failed task, and --json prints the whole task', async () => {
    const failed = task('failed', { attempts: 3, error: 'agent answered HTTP 500' });
    server.reply({ status: 201, body: { task_id: TASK_ID } }, { status: 200, body: failed });
    const text = await cli(['run', 'work', '--type', 'flaky', '--wait']);
    expect(text.code).toBe(1);
    expect(text.err).toContain(`task ${TASK_ID} failed after 3 attempt(s): agent answered HTTP 500`);
    server.reply({ status: 201, body: { task_id: TASK_ID } }, { status: 200, body: failed });
    const json = await cli(['run', 'work', '--type', 'flaky', '--wait', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual(failed);
  });

  it('run without --wait prints the task id and exits 0', async () => {
    server.reply({ status: 201, body: { task_id: TASK_ID, status: 'pending' } });
    const { code, out } = await cli(['run', 'analyze_cost', '--type', 'cost']);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe(TASK_ID);
  });

  it('tasks prints a table, reading pages until it has --limit tasks', async () => {
    server.reply(
      { status: 200, body: { tasks: [task('failed')], count: 1, next_token: 'p2' } },
      { status: 200, body: { tasks: [task('failed'), task('failed')], count: 2, next_token: 'p3' } },
    );
    const { code, out } = await cli(['tasks', '--status', 'failed', '--type', 'cost', '--limit', '2']);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'TASK ID                               STATUS  CAPABILITY    TYPE  AGENT         ATTEMPTS  CREATED',
      `${TASK_ID}  failed  analyze_cost  cost  cost-agent-1  1         60s ago`,
      `${TASK_ID}  failed  analyze_cost  cost  cost-agent-1  1         60s ago`,
    ]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/tasks?status=failed&agent_type=cost&limit=2',
      '/tasks?status=failed&agent_type=cost&limit=2&next_token=p2',
    ]);
  });

  it('agents prints name, type, status, in flight / capacity, circuit and last heartbeat', async () => {
    server.reply({ status: 200, body: { agents: [AGENT], count: 1 } });
    const { code, out } = await cli(['agents']);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'NAME          TYPE  STATUS   IN FLIGHT  CIRCUIT  LAST HEARTBEAT  ID',
      `cost-agent-1  cost  healthy  2/10       closed   3s ago          ${AGENT_ID}`,
    ]);
  });

  it('task shows the routing decision and the result', async () => {
    server.reply({ status: 200, body: task('completed', { completed_at: '2026-12-01T00:00:00.312Z', result: { ok: true } }) });
    const { code, out } = await cli(['task', TASK_ID]);
    expect(code).toBe(0);
    expect(out).toContain(`agent     cost-agent-1 (${AGENT_ID})`);
    expect(out).toContain('ended     2026-12-01T00:00:00.312Z (312 ms)');
    expect(out).toContain('why       least loaded of 2 eligible agents (0 of 10 slots in use before this task)');
    expect(out).toContain('  cost-agent-2  1/10       healthy  closed');
    expect(out).toContain('result\n{\n  "ok": true\n}');
  });

  it('task shows its attempts as a table: agent, outcome, latency and a shortened error', async () => {
    const entry = { agent_id: AGENT_ID, agent_name: 'cost-agent-1', reason: 'least loaded', started_at: '2026-12-01T00:00:00.100Z' };
    const attempts_log = [
      {
        ...entry,
        attempt: 1,
        outcome: 'http_error',
        http_status: 500,
        latency_ms: 12,
        error: `agent answered HTTP 500: ${'x'.repeat(100)}`,
      },
      { ...entry, attempt: 2, outcome: 'timeout', latency_ms: 30000, error: 'no answer within 30 s' },
      { ...entry, attempt: 3 },
    ];
    server.reply({ status: 200, body: task('running', { attempts: 3, retry_count: 2, attempts_log }) });
    const { code, out } = await cli(['task', TASK_ID]);
    expect(code).toBe(0);
    expect(out.split('\n').slice(-4)).toEqual([
      '  ATTEMPT  AGENT         OUTCOME         LATENCY   ERROR',
      `  1        cost-agent-1  http_error 500  12 ms     agent answered HTTP 500: ${'x'.repeat(34)}…`,
      '  2        cost-agent-1  timeout         30000 ms  no answer within 30 s',
      '  3        cost-agent-1  in flight       -',
    ]);
  });

  it('maps the API refusing input to exit 2, a missing task to 1, and no API to 3, each in one line', async () => {
    server.reply({
      status: 400,
      body: {
        error: 'invalid task: priority must be 1-15',
        code: 'validation_error',
        details: [{ field: 'priority', message: 'must be 1-15' }],
      },
    });
    const bad = await cli(['run', 'a', '--type', 'b', '--priority', '99']);
    expect(bad).toMatchObject({
      code: 2,
      err: 'optiinfra: invalid task: priority must be 1-15 [priority: must be 1-15] (validation_error, HTTP 400)',
    });
    server.reply({ status: 404, body: { error: `task ${TASK_ID} not found`, code: 'task_not_found' } });
    expect(await cli(['cancel', TASK_ID])).toMatchObject({
      code: 1,
      err: `optiinfra: task ${TASK_ID} not found (task_not_found, HTTP 404)`,
    });
    const gone = server.url;
    await server.close();
    server = await startRecordingServer();
    const unreachable = await cli(['agents', '--api', gone]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.err).toMatch(/^optiinfra: could not reach the API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('answers usage errors with exit 2 before calling the API, and help with 0', async () => {
    expect(await cli(['run', 'analyze_cost'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('run takes one capability and --type'),
    });
    expect(await cli(['tasks', '--api', 'not a url'])).toMatchObject({
      code: 2,
      err: 'optiinfra: apiUrl must be an http(s) URL such as http://127.0.0.1:8080 (got "not a url")',
    });
    expect(server.requests).toHaveLength(0);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('run <capability> --type <agent type>');
  });

  it('on a terminal redraws the progress line and ends it before the result', async () => {
    server.reply({ status: 201, body: { task_id: TASK_ID, status: 'pending' } }, { status: 200, body: task('completed', { result: 1 }) });
    const { code, out, err } = await cli(['run', 'analyze_cost', '--type', 'cost', '--wait'], {}, { tty: true });
    expect(code).toBe(0);
    expect(out).toBe('1');
    expect(err.split('\n')).toEqual([
      '[redraw] waiting: submitted, 0.0s',
      '[redraw] waiting: completed, agent cost-agent-1, attempt 1, 0.0s',
      '[end]',
    ]);
  });

  it('stops waiting at --wait-timeout or on an interrupt with exit 1, saying the task goes on', async () => {
    const running = await startRecordingServer((req) =>
      req.method === 'POST' ? { status: 201, body: { task_id: TASK_ID, status: 'pending' } } : { status: 200, body: task('running') },
    );
    try {
      const env = { OPTIINFRA_API_URL: running.url };
      const timedOut = await cli(['run', 'analyze_cost', '--type', 'cost', '--wait', '--wait-timeout', '1'], env);
      expect(timedOut.code).toBe(1);
      expect(timedOut.err.split('\n').at(-1)).toBe(
        `optiinfra: stopped waiting after --wait-timeout 1s; task ${TASK_ID} is still running and goes on (optiinfra task ${TASK_ID})`,
      );
      const interrupt = new AbortController();
      const pending = cli(['run', 'analyze_cost', '--type', 'cost', '--wait'], env, { signal: interrupt.signal, tty: true });
      // The second poll comes after the first answer (running) was seen.
      await running.received(running.requests.length + 3);
      interrupt.abort(new Error('interrupted'));
      const interrupted = await pending;
      expect(interrupted.code).toBe(1);
      expect(interrupted.err.split('\n').slice(-2)).toEqual([
        '[end]',
        `optiinfra: stopped waiting (interrupted); task ${TASK_ID} is still running and goes on (optiinfra task ${TASK_ID})`,
      ]);
    } finally {
      await running.close();
    }
  });
});
