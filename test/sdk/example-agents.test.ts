import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createCostAgent } from '../../examples/cost-agent';
import { createPlanAgent } from '../../examples/plan-agent';
import { startFaultAgent } from '../../harness/agents';
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

describe('examples/plan-agent (long-running)', () => {
  it('answers 202, reports progress after each step, then the plan; a bad goal fails without retries', async () => {
    const fake = await fakeOrchestrator();
    const agent = createPlanAgent({ name: 'plan-agent-test', orchestratorUrl: fake.url, stepMs: 20 });
    cleanups.push(() => agent.stop());
    await agent.start();

    const good = task('plan_migration', { goal: 'move the batch fleet to Graviton', steps: 3 });
    const bad = task('plan_migration', { steps: 3 });
    expect(await post(`${agent.url}/task`, good, fake.signingSecret)).toEqual({
      status: 202,
      body: { task_id: good.task_id, status: 'running' },
    });
    expect((await post(`${agent.url}/task`, bad, fake.signingSecret)).status).toBe(202);

    const reports = (id: string) => fake.callsTo('POST', new RegExp(`^/tasks/${id}/result$`));
    await fake.waitFor(() => reports(good.task_id).length === 1 && reports(bad.task_id).length === 1, 'both reports');
    const progress = fake.callsTo('POST', new RegExp(`^/tasks/${good.task_id}/progress$`)).map((c) => c.body as { progress: number });
    expect(progress.map((p) => p.progress)).toEqual([33, 67, 100]);
    expect(reports(good.task_id)[0]!.body).toMatchObject({ status: 'completed', attempt: 1, result: { goal: good.parameters.goal } });
    expect((reports(good.task_id)[0]!.body as { result: { plan: unknown[] } }).result.plan).toHaveLength(3);
    expect(reports(bad.task_id)[0]!.body).toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringContaining('goal') as unknown,
    });
  });
});

describe('examples/fault-agent --async', () => {
  it('answers 202, reports progress and then its result, and prints REPORTED', async () => {
    const fake = await fakeOrchestrator();
    const agent = await startFaultAgent(fake.url, { mode: 'slow', type: 'fault', async: true, delayMs: 400, progressEveryMs: 100 });
    cleanups.push(() => agent.stop());

    const t = task('work', { n: 1 });
    expect(await post(`http://127.0.0.1:${agent.port}/task`, t, fake.signingSecret)).toEqual({
      status: 202,
      body: { task_id: t.task_id, status: 'running' },
    });

    expect(await agent.waitForReport(t.task_id, 1, 10_000)).toEqual({
      task_id: t.task_id,
      attempt: 1,
      status: 'completed',
      outcome: 'acknowledged',
    });
    expect(fake.callsTo('POST', new RegExp(`^/tasks/${t.task_id}/progress$`)).length).toBeGreaterThanOrEqual(2);
    expect(fake.callsTo('POST', new RegExp(`^/tasks/${t.task_id}/result$`))[0]!.body).toMatchObject({
      status: 'completed',
      result: { mode: 'slow' },
    });
  });

  it('stops a hung task on a cancel notice (ABORTED, no report), and dies mid-task with --die-after-ms', async () => {
    const fake = await fakeOrchestrator();
    const hung = await startFaultAgent(fake.url, { mode: 'hang', type: 'fault', async: true });
    cleanups.push(() => hung.stop());
    const dying = await startFaultAgent(fake.url, { mode: 'hang', type: 'fault', async: true, silent: true, dieAfterMs: 100 });
    cleanups.push(() => dying.stop());

    const t = task('work', {});
    expect((await post(`http://127.0.0.1:${hung.port}/task`, t, fake.signingSecret)).status).toBe(202);
    expect((await post(`http://127.0.0.1:${dying.port}/task`, task('work', {}), fake.signingSecret)).status).toBe(202);
    await waitUntil(
      'the hung task to be delivered',
      () => hung.deliveries().length,
      (n) => n === 1,
      { intervalMs: 20 },
    );
    expect((await fake.sendCancel(`http://127.0.0.1:${hung.port}`, t.task_id, 1)).status).toBe(200);

    expect(await hung.waitForReport(t.task_id, 1, 10_000)).toMatchObject({ outcome: 'not_sent' });
    expect(hung.aborts()).toEqual([{ task_id: t.task_id, attempt: 1, reason: expect.stringContaining('cancelled') as unknown }]);
    await waitUntil(
      'the dying agent to exit',
      () => dying.proc.child.signalCode,
      (code) => code === 'SIGKILL',
      { intervalMs: 20 },
    );
    expect(dying.reports()).toEqual([]);
  });
});
