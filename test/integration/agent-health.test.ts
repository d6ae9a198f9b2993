/**
 * Routing by health: quiet agents get no tasks, unregistered ones drain, an agent that speaks only
 * the seed protocol (no tokens) stays healthy while it heartbeats. (Capacity, priorities,
 * retries elsewhere and the queue timeout: routing-under-load.test.ts; circuit breakers:
 * circuit-breaker.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTasks } from '../../harness/local-orchestrator';
import { freePort } from '../../harness/processes';
import { type SeedAgent, startSeedAgent } from '../../harness/seed-agent';
import { waitUntil } from '../../harness/wait';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  orch = await startLocalOrchestrator({ HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_PERSIST_SECONDS: '1' });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

const statusOf = async (id: string) => String((await call(orch.url, 'GET', `/agents/${id}`)).body.status);

// Each test has its own agent type: they run at once.
describe.concurrent('agent health', () => {
  it('marks an agent that stops heartbeating unhealthy after 3 intervals and routes around it', async () => {
    const live = await startFaultAgent(orch.url, { mode: 'ok', type: 'health' });
    agents.push(live);
    const silent = await call<{ id: string; heartbeat_interval_seconds: number }>(orch.url, 'POST', '/agents/register', {
      name: 'silent-agent',
      type: 'health',
      host: '127.0.0.1',
      port: await freePort(),
      capabilities: ['work'],
    });
    expect(silent.status).toBe(201);
    expect(silent.body.heartbeat_interval_seconds).toBe(1);
    expect((await call(orch.url, 'GET', `/agents/${silent.body.id}`)).body.status).toBe('healthy');
    // Unhealthy once 3 intervals (3 s) pass without a heartbeat: seen as soon as it happens, and no later than 4 s from here.
    await waitUntil(
      'the silent agent turns unhealthy',
      () => statusOf(silent.body.id),
      (status) => status !== 'healthy',
      { timeoutMs: 4000 },
    );
    expect((await call(orch.url, 'GET', `/agents/${silent.body.id}`)).body.status).toBe('unhealthy');
    const unhealthy = await call<{ agents: Array<{ id: string }> }>(orch.url, 'GET', '/agents?type=health&status=unhealthy');
    expect(unhealthy.body.agents.map((a) => a.id)).toEqual([silent.body.id]);

    const ids = await Promise.all(Array.from({ length: 5 }, () => submit({ task_type: 'work', agent_type: 'health', max_retries: 0 })));
    const done = await waitForTasks(orch.url, ids, isTerminal);
    expect(done.map((t) => [t.status, t.agent_id])).toEqual(ids.map(() => ['completed', live.id]));
  });

  it('gives an unregistered agent no new tasks, lists it as draining, and refuses work only it offered', async () => {
    const leaving = await startFaultAgent(orch.url, { mode: 'ok', type: 'leaving' });
    agents.push(leaving);
    // Nobody but the agent can unregister it; it does so when it stops.
    expect((await call(orch.url, 'DELETE', `/agents/${leaving.id}`)).status).toBe(401);
    expect(await leaving.proc.stop('SIGTERM')).toBe(0);
    await waitUntil(
      'the stopped agent is listed as draining',
      () => statusOf(leaving.id),
      (status) => status !== 'healthy',
    );
    expect((await call(orch.url, 'GET', `/agents/${leaving.id}`)).body.status).toBe('draining');
    const refused = await call(orch.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'leaving' });
    expect(refused.status).toBe(503);
    expect(leaving.deliveries()).toEqual([]);
  });

  it('keeps an agent that speaks only the seed protocol (no tokens) healthy while it heartbeats, and sends it tasks', async () => {
    // Found with a seed agent: its tokenless heartbeats got 401 and it turned unhealthy after three intervals.
    const seed = await startSeedAgent(orch.url, { name: 'seed-agent-1', type: 'seed', capabilities: ['echo'], heartbeatMs: 500 });
    const agent = seed.agent!;
    const registeredAt = Date.parse(String((await call(orch.url, 'GET', `/agents/${agent.id}`)).body.registered_at));
    // Past three intervals (3 s) on heartbeats alone: a heartbeat stored more than 4 s after registering, still healthy.
    const seen = await waitUntil(
      'a tokenless heartbeat more than four intervals after registration',
      async () => (await call<{ status: string; last_heartbeat: string }>(orch.url, 'GET', `/agents/${agent.id}`)).body,
      (a) => Date.parse(a.last_heartbeat) - registeredAt > 4000,
      { timeoutMs: 10_000 },
    );
    expect(seen.status).toBe('healthy');
    const beats = agent.calls.filter((c) => c.path.endsWith('/heartbeat'));
    expect(beats.length).toBeGreaterThan(4);
    expect(beats.every((c) => c.status === 200)).toBe(true);
    expect((await call(orch.url, 'GET', `/agents/${agent.id}`)).body).toMatchObject({ host: 'localhost', status: 'healthy' });

    const ids = await Promise.all(
      Array.from({ length: 3 }, (_, i) => submit({ task_type: 'echo', agent_type: 'seed', parameters: { i } })),
    );
    const done = await waitForTasks(orch.url, ids, isTerminal);
    expect(done.map((t) => [t.status, t.agent_id])).toEqual(ids.map(() => ['completed', agent.id]));
    expect([...agent.delivered].sort()).toEqual([...ids].sort());

    // Unregistered cleanly (DELETE without a token), it registers again at once when it restarts.
    expect(await agent.stop()).toBe(200);
    const restarted = await startSeedAgent(orch.url, {
      name: 'seed-agent-1',
      type: 'seed',
      capabilities: ['echo'],
      heartbeatMs: 500,
      port: agent.port,
    });
    expect(restarted.agent?.id).toBe(agent.id);
    await restarted.agent!.crash();
  });

  it('a seed agent that crashed is refused its id (409) while the old registration is live, and gets it once that is unhealthy', async () => {
    const first = (await startSeedAgent(orch.url, { name: 'seed-crash', type: 'seed-crash', capabilities: ['echo'], heartbeatMs: 500 }))
      .agent!;
    await first.crash();
    const options = { name: 'seed-crash', type: 'seed-crash', capabilities: ['echo'], heartbeatMs: 500, port: first.port };
    const refused = await startSeedAgent(orch.url, options);
    expect(refused.refused).toMatchObject({
      status: 409,
      body: { code: 'agent_id_in_use', error: expect.stringContaining('X-Agent-Token') },
    });
    let again: SeedAgent | undefined;
    await waitUntil(
      'the restarted seed agent registers once the crashed registration is no longer live',
      async () => (again = (await startSeedAgent(orch.url, options)).agent),
      (a) => a !== undefined,
      { timeoutMs: 10_000, intervalMs: 500 },
    );
    expect(again!.id).toBe(first.id);
    expect(await statusOf(first.id)).toBe('healthy');
    await again!.crash();
  });
});
