import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type Proc, startProcess } from '../../harness/processes';
import { FakeOrchestrator } from './fake-orchestrator';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('examples/plain_agent.py (standard-library Python, seed protocol only)', () => {
  it('registers, heartbeats, answers POST /task like the seed TaskHandler, and unregisters on SIGTERM', async () => {
    // Fails the test with ENOENT when python3 is missing: this example must keep working.
    execFileSync('python3', ['--version']);
    const fake = new FakeOrchestrator();
    fake.heartbeatIntervalSeconds = 0.3;
    await fake.listen();
    cleanups.push(() => fake.close());
    const port = await freePort();
    const proc: Proc = startProcess('python3', [
      'examples/plain_agent.py',
      '--name',
      'plain-agent-test',
      '--type',
      'plain',
      '--port',
      String(port),
      '--orchestrator',
      fake.url,
      '--delay-ms',
      '10',
    ]);
    cleanups.push(() => proc.stop());

    const [, agentId, readyPort] = await proc.waitFor(/READY (\S+) (\d+)/, 20_000);

    expect(readyPort).toBe(String(port));
    expect(fake.callsTo('POST', /^\/agents\/register$/)[0]?.body).toEqual({
      name: 'plain-agent-test',
      type: 'plain',
      host: '127.0.0.1',
      port,
      capabilities: ['analyze_cost', 'echo'],
      version: '1.0.0',
      metadata: { language: 'python', sdk: 'none' },
    });
    expect(agentId).toBe(fake.agents.keys().next().value);

    const base = `http://127.0.0.1:${port}`;
    const taskId = randomUUID();
    const analyzed = await post(`${base}/task`, {
      task_id: taskId,
      task_type: 'analyze_cost',
      parameters: { account_id: 'acct-1' },
      timeout_seconds: 30,
      priority: 5,
      metadata: {},
    });
    expect(analyzed).toMatchObject({
      status: 200,
      body: {
        task_id: taskId,
        status: 'completed',
        result: { account_id: 'acct-1', period: 'last_7_days', potential_savings: 3200.75 },
        execution_time_ms: expect.any(Number) as unknown,
      },
    });
    expect(
      await post(`${base}/task`, {
        task_id: 't-2',
        task_type: 'echo',
        parameters: { hello: 'world' },
        timeout_seconds: 30,
        priority: 5,
        metadata: {},
      }),
    ).toEqual({
      status: 200,
      body: {
        task_id: 't-2',
        status: 'completed',
        result: { task_id: 't-2', echo: { hello: 'world' } },
        error: null,
        execution_time_ms: expect.any(Number) as unknown,
      },
    });
    expect(await post(`${base}/task`, { task_id: 't-3', task_type: 'echo', parameters: { fail: 'boom' } })).toMatchObject({
      status: 500,
      body: { task_id: 't-3', status: 'failed', error: 'boom' },
    });
    expect(await post(`${base}/task`, { task_id: 't-4', task_type: 'right_size', parameters: {} })).toEqual({
      status: 400,
      body: { task_id: 't-4', status: 'failed', error: 'No handler registered for task type: right_size' },
    });
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ status: 'healthy', registered_tasks: ['analyze_cost', 'echo'] });

    await fake.waitFor(
      () => fake.callsTo('POST', new RegExp(`^/agents/${agentId}/heartbeat$`)).length >= 1,
      'a heartbeat from the Python agent',
    );
    expect(fake.callsTo('POST', /heartbeat$/)[0]?.body).toEqual({ in_flight: 0 });

    expect(await proc.stop('SIGTERM')).toBe(0);
    expect(fake.callsTo('DELETE', new RegExp(`^/agents/${agentId}$`))).toHaveLength(1);

    // Its lines have the local runtime's format: time of day, its name, a level for an error, the message.
    const lines = proc
      .output()
      .split('\n')
      .filter((l) => l && !l.startsWith('READY ') && !l.startsWith(' ') && !l.startsWith('Traceback'));
    expect(
      lines.some((l) => /^\d{2}:\d{2}:\d{2}\.\d{3} {2}plain-agent-test {2}Registered as /.test(l)),
      lines.join('\n'),
    ).toBe(true);
    expect(lines.find((l) => l.includes('Task execution failed: t-3'))).toMatch(
      /^\d{2}:\d{2}:\d{2}\.\d{3} {2}plain-agent-test {2}ERROR {2}/,
    );
    for (const line of lines.filter((l) => /^\d{2}:/.test(l)))
      expect(line).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} {2}plain-agent-test {2}((ERROR|WARN) {2})?\S/);
  });

  it('writes JSON lines with the runtime fields under --log-format json', async () => {
    const fake = new FakeOrchestrator();
    await fake.listen();
    cleanups.push(() => fake.close());
    const proc = startProcess('python3', [
      'examples/plain_agent.py',
      ...['--name', 'plain-json', '--port', String(await freePort()), '--orchestrator', fake.url, '--log-format', 'json'],
    ]);
    cleanups.push(() => proc.stop());
    await proc.waitFor(/READY /, 20_000);
    const registered = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => String(r.message).startsWith('Registered as '));
    expect(registered).toMatchObject({ level: 'info', source: 'plain-json', event: 'log' });
    expect(registered?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
