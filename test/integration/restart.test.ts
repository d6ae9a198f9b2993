/**
 * Nothing lost, nothing stuck: the local runtime killed (SIGKILL, no clean-up) or stopped with work
 * in flight, and started again on the same data, still brings every accepted task to one terminal state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask, waitForTasks } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

/** An orchestrator with its own slow agent: each test kills or stops its own, so the two run at once. */
async function withAgent(): Promise<{ orch: LocalOrchestrator; slow: AgentProcess }> {
  const orch = await startLocalOrchestrator();
  started.push(orch);
  const slow = await startFaultAgent(orch.url, { mode: 'slow', delayMs: 2500, type: 'restart' });
  agents.push(slow);
  return { orch, slow };
}

const started: LocalOrchestrator[] = [];
const agents: AgentProcess[] = [];
let killed: { orch: LocalOrchestrator; slow: AgentProcess };
let stopped: { orch: LocalOrchestrator; slow: AgentProcess };

beforeAll(async () => {
  [killed, stopped] = await Promise.all([withAgent(), withAgent()]);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(started.map((o) => o.dispose()));
});

describe.concurrent('restarting the local runtime', () => {
  it('drives a task that was at an agent when the process was killed to a terminal state after a restart', async () => {
    const { orch, slow } = killed;
    const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
      task_type: 'work',
      agent_type: 'restart',
      timeout_seconds: 4,
      max_retries: 2,
    });
    const id = submitted.body.task_id;
    await waitForTask(orch.url, id, (t) => t.status === 'sent', 15_000);
    await orch.stop('SIGKILL');
    await orch.restart();
    const done = await waitForTask(orch.url, id, isTerminal, 45_000);
    // The interrupted attempt is written off when its lease ends; a later attempt completes.
    expect(done).toMatchObject({ status: 'completed', agent_id: slow.id });
    expect(Number(done.attempts)).toBeGreaterThanOrEqual(2);
    expect(done.error).toBeUndefined();
  });

  it('starts tasks accepted but not yet dispatched before a clean stop', async () => {
    const { orch } = stopped;
    const queued = await Promise.all(
      Array.from(
        { length: 4 },
        async () =>
          (await call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'restart', timeout_seconds: 5 }))
            .body.task_id,
      ),
    );
    await orch.stop('SIGTERM');
    await orch.restart();
    const done = await waitForTasks(orch.url, queued, isTerminal, 45_000);
    expect(done.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });
});

describe('after the restarts', () => {
  it('keeps agents, tasks and results across restarts', async () => {
    let completedInAll = 0;
    for (const { orch, slow } of [killed, stopped]) {
      const agents = await call<{ agents: Array<{ id: string }> }>(orch.url, 'GET', '/agents?type=restart');
      expect(agents.body.agents.map((a) => a.id)).toContain(slow.id);
      const completed = await call<{ count: number }>(orch.url, 'GET', '/tasks?status=completed&limit=100');
      completedInAll += completed.body.count;
    }
    expect(completedInAll).toBeGreaterThanOrEqual(5);
  });
});
