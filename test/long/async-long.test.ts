/**
 * Issue 15's long done-when checks (the `long` project, npm run test:long; CI runs it, npm test does
 * not): on the local runtime (its own process), a 90 s task of the plan agent (examples/plan-agent.ts,
 * a real process) completes with its progress visible along the way, and 1 000 tasks of 5 s each on
 * 10 fault agent processes (--async, 100 slots each), hundreds of them in flight at once, each
 * complete after exactly one delivery and one report. Both run at once, against one orchestrator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent, startPlanAgent } from '../../harness/agents';
import { call, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { waitUntil } from '../../harness/wait';

let orch: LocalOrchestrator;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  orch = await startLocalOrchestrator({ RECONCILE_INTERVAL_SECONDS: '5', LOG_LEVEL: 'ERROR' });
}, 120_000);

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await orch?.dispose();
});

describe.concurrent('long-running asynchronous tasks', () => {
  it('a 90 s plan completes, with its progress rising along the way', { timeout: 180_000 }, async () => {
    // 8 steps of 11.25 s: a simulated model call each, then a progress.
    const agent = await startPlanAgent(orch.url, { name: 'long-plan-agent', stepMs: 11_250 });
    stops.push(() => agent.stop());
    const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
      task_type: 'plan_migration',
      agent_type: 'planner',
      timeout_seconds: 600,
      parameters: { goal: 'move the batch fleet to Graviton', steps: 8 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.task_id;
    const seen: number[] = [];
    const task = await waitUntil(
      'the 90 s plan completed',
      async () => {
        const t = (await call(orch.url, 'GET', `/tasks/${id}`)).body;
        if (t.status === 'running' && typeof t.progress === 'number' && t.progress !== seen.at(-1)) {
          seen.push(t.progress);
          expect(t).toMatchObject({ agent_id: agent.id, progress_message: expect.stringMatching(/^step \d\/8: /) });
          expect(typeof t.last_progress_at).toBe('string');
        }
        return t;
      },
      (t) => t.status !== 'running' && t.status !== 'sent' && t.status !== 'pending',
      { timeoutMs: 150_000, intervalMs: 5_000 },
    );
    expect(task).toMatchObject({ status: 'completed', attempts: 1, agent_id: agent.id, progress: 100 });
    expect((task.result as { plan: unknown[] }).plan).toHaveLength(8);
    expect(Date.parse(String(task.completed_at)) - Date.parse(String(task.started_at))).toBeGreaterThanOrEqual(90_000);
    // Seen while it ran: at least 5 of its 7 intermediate progress values, each above the one before.
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('1 000 tasks of 5 s each on 10 agents, hundreds in flight at once, each complete after one delivery', {
    timeout: 180_000,
  }, async () => {
    const agents: AgentProcess[] = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        startFaultAgent(orch.url, {
          name: `long-async-${i}`,
          type: 'async-load',
          capabilities: ['plan'],
          mode: 'slow',
          async: true,
          delayMs: 5_000,
          maxConcurrency: 100,
        }),
      ),
    );
    for (const agent of agents) stops.push(() => agent.stop());
    const ids: string[] = [];
    for (let i = 0; i < 1_000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
            task_type: 'plan',
            agent_type: 'async-load',
            timeout_seconds: 600,
            parameters: { n: i + j },
          }),
        ),
      );
      for (const res of batch) {
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        ids.push(res.body.task_id);
      }
    }
    // Every report acknowledged, as the agents saw it: then each task is checked once.
    const reports = () => agents.flatMap((a) => a.reports());
    await waitUntil(
      '1 000 reports settled',
      () => reports().length,
      (n) => n >= 1_000,
      { timeoutMs: 150_000, intervalMs: 1_000 },
    );
    const deliveries = agents.flatMap((a) => a.deliveries());
    // Each delivery holds its agent's slot for its 5 s of work: the most tasks in flight at one instant, over all agents.
    const edges = deliveries.flatMap((d) => [
      { at: Date.parse(d.time), step: 1 },
      { at: Date.parse(d.time) + 5_000, step: -1 },
    ]);
    let inFlight = 0;
    let mostAtOnce = 0;
    for (const e of edges.sort((a, b) => a.at - b.at || a.step - b.step)) mostAtOnce = Math.max(mostAtOnce, (inFlight += e.step));
    console.log(
      `1 000 tasks of 5 s: at most ${mostAtOnce} in flight at once; per agent ${agents.map((a) => a.deliveries().length).join(' ')}`,
    );

    expect(reports().map((r) => r.outcome)).toEqual(Array(1_000).fill('acknowledged'));
    expect(new Set(reports().map((r) => r.task_id)).size).toBe(1_000);
    expect(deliveries).toHaveLength(1_000);
    expect(new Set(deliveries.map((d) => d.task_id))).toEqual(new Set(ids));
    expect(deliveries.every((d) => d.attempt === 1)).toBe(true);
    // Submitting 1 000 takes about 15 s here, three times the work: a few hundred are in flight together, not all 1 000.
    expect(mostAtOnce).toBeGreaterThanOrEqual(100);
    for (const id of ids) await waitForTask(orch.url, id, (t) => t.status === 'completed' && t.attempts === 1, 5_000);
  });
});
