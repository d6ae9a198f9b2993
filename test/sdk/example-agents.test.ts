import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createCostAgent } from '../../examples/cost-agent';
import { NODE, startProcess, tempDir } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { FakeOrchestrator } from './fake-orchestrator';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeOrchestrator(): Promise<FakeOrchestrator> {
  const fake = new FakeOrchestrator();
  await fake.listen();
  cleanups.push(() => fake.close());
  return fake;
}

/** A delivery signed as the orchestrator signs it: SDK agents refuse unsigned ones. */
function signed(secret: string, body: unknown, extra: Record<string, string> = {}): RequestInit {
  const text = JSON.stringify(body);
  const id = `${(body as { task_id?: string }).task_id ?? randomUUID()}:${extra['x-optiinfra-attempt'] ?? '1'}`;
  const now = new Date();
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, text),
    ...extra,
  };
  return { method: 'POST', headers, body: text };
}

async function post(url: string, body: unknown, secret: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, signed(secret, body));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const task = (task_type: string, parameters: Record<string, unknown>) => ({
  task_id: randomUUID(),
  task_type,
  parameters,
  timeout_seconds: 30,
  priority: 5,
  metadata: {},
});

describe('examples/cost-agent', () => {
  it('registers as type cost with the seed capabilities and answers with the seed result fields', async () => {
    const fake = await fakeOrchestrator();
    const agent = createCostAgent({ name: 'cost-agent-test', orchestratorUrl: fake.url, workDelayMs: 5 });
    cleanups.push(() => agent.stop());
    await agent.start();

    expect(fake.calls[0]?.body).toMatchObject({
      name: 'cost-agent-test',
      type: 'cost',
      capabilities: ['analyze_cost', 'migrate_to_spot', 'right_size'],
    });
    const analyzed = await post(`${agent.url}/task`, task('analyze_cost', { account_id: 'acct-9' }), fake.signingSecret);
    const migrated = await post(`${agent.url}/task`, task('migrate_to_spot', { instance_ids: ['i-1', 'i-2'] }), fake.signingSecret);
    const sized = await post(`${agent.url}/task`, task('right_size', { instance_ids: ['i-1'] }), fake.signingSecret);
    const invalid = await post(`${agent.url}/task`, task('right_size', { instance_ids: 'i-1' }), fake.signingSecret);

    expect(analyzed.body.result).toMatchObject({
      account_id: 'acct-9',
      period: 'last_7_days',
      current_spend: 15420.5,
      potential_savings: 6800.25,
      savings_percentage: 44.1,
    });
    expect((analyzed.body.result as { recommendations: unknown[] }).recommendations).toHaveLength(3);
    expect(migrated.body.result).toEqual({ total_instances: 2, migrated: 2, failed: 0, monthly_savings: 700, status: 'completed' });
    expect(sized.body.result).toEqual({
      total_instances: 1,
      optimized: 1,
      monthly_savings: 280,
      average_size_reduction: '38%',
      status: 'completed',
    });
    expect(invalid).toMatchObject({
      status: 500,
      body: { status: 'failed', error: expect.stringContaining('instance_ids must be an array') as unknown },
    });
  });

  it('runs as a process and exits 0 after unregistering on SIGTERM', async () => {
    const fake = await fakeOrchestrator();
    const proc = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/cost-agent.ts',
      '--name',
      'cost-agent-proc',
      '--port',
      '0',
      '--orchestrator',
      fake.url,
    ]);
    cleanups.push(() => proc.stop());

    await proc.waitFor(/ready: http:\/\/127\.0\.0\.1:\d+, agent id \S+/, 30_000);
    const id = fake.agents.keys().next().value;

    expect(await proc.stop('SIGTERM')).toBe(0);
    expect(fake.callsTo('DELETE', new RegExp(`^/agents/${id}$`))).toHaveLength(1);
  });
});

describe('examples/fault-agent', () => {
  it('prints READY, logs every delivery with its attempt, and fails only the first N deliveries in fail500 mode', async () => {
    const fake = await fakeOrchestrator();
    const dir = tempDir('fault-agent-');
    cleanups.push(() => dir.remove());
    const log = path.join(dir.dir, 'attempts.jsonl');
    const proc = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/fault-agent.ts',
      '--mode',
      'fail500',
      '--fail-first',
      '1',
      '--log',
      log,
      '--orchestrator',
      fake.url,
    ]);
    cleanups.push(() => proc.stop());

    const [, id, port] = await proc.waitFor(/^READY (\S+) (\d+)$/m, 30_000);
    expect(id).toBe(fake.agents.keys().next().value);
    expect(fake.calls[0]?.body).toMatchObject({ name: 'fault-agent-1', type: 'fault', capabilities: ['fault_task'], port: Number(port) });

    const body = task('fault_task', { x: 1 });
    const url = `http://127.0.0.1:${port}/task`;
    const first = await fetch(url, signed(fake.signingSecret, body, { 'x-optiinfra-attempt': '1' }));
    const second = await fetch(url, signed(fake.signingSecret, body, { 'x-optiinfra-attempt': '2' }));

    expect(first.status).toBe(500);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'completed', result: { ok: true, attempt: 2, delivery: 2, echo: { x: 1 } } });
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { task_id: body.task_id, task_type: 'fault_task', attempt: 1, time: expect.any(String) as unknown, mode: 'fail500', concurrent: 1 },
      { task_id: body.task_id, task_type: 'fault_task', attempt: 2, time: expect.any(String) as unknown, mode: 'fail500', concurrent: 1 },
    ]);
    expect(await proc.stop('SIGTERM')).toBe(0);
  });

  it('flaps with --fail-deliveries (the first N deliveries of any task fail) and rejects as not retryable in reject mode', async () => {
    const fake = await fakeOrchestrator();
    const flap = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/fault-agent.ts',
      '--mode',
      'ok',
      '--fail-deliveries',
      '2',
      '--orchestrator',
      fake.url,
      '--name',
      'fault-flap',
    ]);
    const reject = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/fault-agent.ts',
      '--mode',
      'reject',
      '--orchestrator',
      fake.url,
      '--name',
      'fault-reject',
    ]);
    cleanups.push(
      () => flap.stop(),
      () => reject.stop(),
    );
    const [, , flapPort] = await flap.waitFor(/^READY (\S+) (\d+)$/m, 30_000);
    const [, , rejectPort] = await reject.waitFor(/^READY (\S+) (\d+)$/m, 30_000);
    const post = (port: string | undefined, body: unknown) => fetch(`http://127.0.0.1:${port}/task`, signed(fake.signingSecret, body));

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(flapPort, task('fault_task', { i }))).status);
    expect(statuses).toEqual([500, 500, 200, 200]);

    const rejected = await post(rejectPort, task('fault_task', {}));
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringContaining('no attempt can succeed') as unknown,
    });
  });

  it('never answers in hang mode, and still exits 0 on SIGTERM', async () => {
    const fake = await fakeOrchestrator();
    const dir = tempDir('fault-agent-');
    cleanups.push(() => dir.remove());
    const log = path.join(dir.dir, 'attempts.jsonl');
    const proc = startProcess(NODE, [
      '--import',
      'tsx',
      'examples/fault-agent.ts',
      '--mode',
      'hang',
      '--log',
      log,
      '--orchestrator',
      fake.url,
      '--name',
      'fault-hang',
    ]);
    cleanups.push(() => proc.stop());
    const [, id, port] = await proc.waitFor(/^READY (\S+) (\d+)$/m, 30_000);

    // Given up on (as a timeout) only once the agent has had every chance to answer: its handler
    // got the task, and the agent has since heartbeated twice, so its event loop went on turning.
    const gaveUp = new AbortController();
    const answer = fetch(`http://127.0.0.1:${port}/task`, {
      ...signed(fake.signingSecret, task('fault_task', {})),
      signal: gaveUp.signal,
    }).catch((err: unknown) => err);
    await waitUntil(
      'the agent logged the delivery',
      () => existsSync(log) && readFileSync(log, 'utf8').includes('"mode":"hang"'),
      (logged) => logged,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const loggedAt = Date.now();
    await fake.waitFor(
      () => fake.callsTo('POST', new RegExp(`^/agents/${id}/heartbeat$`)).filter((c) => c.at > loggedAt).length >= 2,
      'two heartbeats after the delivery',
    );
    gaveUp.abort(new DOMException('no answer while the agent went on heartbeating', 'TimeoutError'));

    expect(((await answer) as Error).name).toBe('TimeoutError');
    expect(proc.output()).not.toContain('ANSWERED');
    expect(await proc.stop('SIGTERM')).toBe(0);
  });
});
