/**
 * A task's attempts_log through the real local runtime (dynalite, fauxqs, the local Step Functions
 * engine, redis-server) with real agent processes: an agent that answers 500 to everything, one that
 * completes, one that never answers in time, and one that accepts (202) and works on until cancelled.
 * Every GET /tasks/{id} answer is checked against the OpenAPI document by `call`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptLogEntry } from '@optiinfra/contract';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let failing: AgentProcess;
let fine: AgentProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  orch = await startLocalOrchestrator();
  agents.push(
    ...(await Promise.all([
      startFaultAgent(orch.url, { mode: 'fail500', type: 'log-flaky' }),
      startFaultAgent(orch.url, { mode: 'ok', type: 'log-fine' }),
      startFaultAgent(orch.url, { mode: 'hang', type: 'log-stuck' }),
      startFaultAgent(orch.url, { mode: 'hang', type: 'log-async', async: true, progressEveryMs: 500 }),
    ])),
  );
  [failing, fine] = agents as [AgentProcess, AgentProcess];
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'work', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

async function logOf(id: string): Promise<AttemptLogEntry[]> {
  const res = await call<{ attempts_log?: AttemptLogEntry[] }>(orch.url, 'GET', `/tasks/${id}`);
  expect(res.status).toBe(200);
  return res.body.attempts_log ?? [];
}

describe.concurrent('attempts_log on the local runtime', () => {
  it('holds max_retries + 1 entries, each http_error 500, for a task whose agent answers 500 to everything', async () => {
    const id = await submit({ agent_type: 'log-flaky', max_retries: 2, retry_delay_seconds: 1 });
    expect(await waitForTask(orch.url, id, isTerminal, 40_000)).toMatchObject({ status: 'failed', attempts: 3 });
    const log = await logOf(id);
    expect(log.map((e) => [e.attempt, e.agent_id, e.outcome, e.http_status])).toEqual([
      [1, failing.id, 'http_error', 500],
      [2, failing.id, 'http_error', 500],
      [3, failing.id, 'http_error', 500],
    ]);
    for (const entry of log) {
      expect(entry.error).toContain('HTTP 500');
      expect(entry.reason.length).toBeGreaterThan(0);
      expect(Date.parse(entry.ended_at!)).toBeGreaterThanOrEqual(Date.parse(entry.started_at));
    }
  });

  it('holds one entry, completed, for a task done on its first attempt; GET /tasks lists it without the log', async () => {
    const id = await submit({ agent_type: 'log-fine' });
    expect(await waitForTask(orch.url, id, isTerminal)).toMatchObject({ status: 'completed' });
    expect(await logOf(id)).toEqual([expect.objectContaining({ attempt: 1, agent_id: fine.id, outcome: 'completed' })]);
    const page = await call<{ tasks: Array<Record<string, unknown>> }>(orch.url, 'GET', '/tasks?agent_type=log-fine');
    const listed = page.body.tasks.find((t) => t.task_id === id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('attempts_log');
  });

  it('records a timeout', async () => {
    const id = await submit({ agent_type: 'log-stuck', timeout_seconds: 1, max_retries: 0 });
    expect(await waitForTask(orch.url, id, isTerminal, 15_000)).toMatchObject({ status: 'timeout' });
    expect(await logOf(id)).toEqual([expect.objectContaining({ outcome: 'timeout' })]);
  });

  it('marks the entry of a running task cancelled when the task is cancelled', async () => {
    const id = await submit({ agent_type: 'log-async', timeout_seconds: 600 });
    await waitForTask(orch.url, id, (t) => t.status === 'running');
    expect((await logOf(id))[0]).toHaveProperty('accepted_at');
    expect((await call(orch.url, 'DELETE', `/tasks/${id}`)).status).toBe(200);
    expect(await logOf(id)).toEqual([expect.objectContaining({ attempt: 1, outcome: 'cancelled' })]);
  });
});
