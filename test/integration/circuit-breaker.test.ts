/**
 * The circuit breaker under failure, end to end, on its own orchestrator (see routing-fixture.ts): its
 * check that nothing reached the agent while its circuit was open allows a dispatch chosen just
 * before it opened only half a second to arrive, so no other test's load shares its orchestrator.
 */
import { describe, expect, it } from 'vitest';
import { isTerminal, waitForTasks } from '../../harness/local-orchestrator';
import { type AgentJson, COOLDOWN_SECONDS, routingOrchestrator } from './routing-fixture';
import { call } from '../support/checked-call';

const fixture = routingOrchestrator();
const { agent, submit, agentView, until } = fixture;

describe('passive health: the circuit breaker', () => {
  it('takes a flapping agent out of rotation when its circuit opens, and back after the cool-down', async () => {
    const flapping = await agent({ mode: 'ok', failDeliveries: 4, type: 'flap', name: 'flap-flapping' });
    const steady = await agent({ mode: 'slow', delayMs: 500, type: 'flap', name: 'flap-steady', maxConcurrency: 2 });
    const firstWave = await Promise.all(
      Array.from({ length: 8 }, () => submit({ task_type: 'work', agent_type: 'flap', max_retries: 5, retry_delay_seconds: 1 })),
    );
    const open = await until(
      "the flapping agent's circuit opens",
      () => agentView(flapping.id),
      (a) => a.circuit.state === 'open',
    );
    expect(open.circuit).toMatchObject({ recent_failures: 4 });
    expect(open.status).toBe('healthy');
    const openUntil = Date.parse(open.circuit.open_until!);
    const openedAt = openUntil - COOLDOWN_SECONDS * 1000;

    const listed = (await call<{ agents: AgentJson[] }>(fixture.orch().url, 'GET', '/agents?type=flap')).body.agents;
    expect(listed.find((a) => a.id === flapping.id)?.circuit.state).toBe('open');
    await waitForTasks(fixture.orch().url, firstWave, isTerminal, 30_000);

    // After the cool-down one probe goes through; it succeeds, so the circuit closes and the agent is back.
    const cooled = await until(
      "the flapping agent's cool-down ends",
      () => agentView(flapping.id),
      (a) => a.circuit.state !== 'open',
      COOLDOWN_SECONDS * 1000 + 10_000,
    );
    expect(cooled.circuit.state).not.toBe('open');
    expect(Date.now()).toBeGreaterThanOrEqual(openUntil);
    const secondWave = await Promise.all(
      Array.from({ length: 8 }, () => submit({ task_type: 'work', agent_type: 'flap', max_retries: 5, retry_delay_seconds: 1 })),
    );
    const all = await waitForTasks(fixture.orch().url, [...firstWave, ...secondWave], isTerminal, 30_000);
    expect(all.map((t) => t.status)).toEqual(all.map(() => 'completed'));
    // The four tasks the flapping agent failed were retried on the steady agent.
    const failedThere = new Set(
      flapping
        .deliveries()
        .slice(0, 4)
        .map((d) => d.task_id),
    );
    expect(all.filter((t) => failedThere.has(String(t.task_id))).map((t) => t.agent_id)).toEqual([...failedThere].map(() => steady.id));

    const times = flapping.deliveries().map((d) => Date.parse(d.time));
    // Allow half a second for a dispatch chosen just before the circuit opened to arrive.
    expect(
      times.filter((t) => t > openedAt + 500 && t < openUntil),
      'deliveries while the circuit was open',
    ).toEqual([]);
    expect(times.filter((t) => t >= openUntil).length, 'deliveries after the cool-down').toBeGreaterThanOrEqual(2);
    expect((await agentView(flapping.id)).circuit.state).toBe('closed');
  });
});
