/**
 * Asynchronous delivery through the real local runtime (dynalite, fauxqs, the local Step Functions
 * engine, redis-server) with agents that answer 202 and report later over HTTP: a task completes on
 * its agent's report, another agent's token is refused, an agent that goes silent loses the attempt
 * to another agent within the heartbeat timeout plus the reconciler's period, and a report after a
 * cancel or a lost attempt changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcceptingAgent, startAcceptingAgent } from '../../harness/accepting-agent';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { waitUntil } from '../../harness/wait';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let a: AcceptingAgent;
let b: AcceptingAgent;
const TYPE = 'planner';

beforeAll(async () => {
  orch = await startLocalOrchestrator({ RECONCILE_INTERVAL_SECONDS: '1' });
  a = await startAcceptingAgent(orch.url, { name: 'planner-a', type: TYPE, capabilities: ['plan'] });
  b = await startAcceptingAgent(orch.url, { name: 'planner-b', type: TYPE, capabilities: ['plan'] });
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await orch?.dispose();
});

async function submit(extra: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'plan', agent_type: TYPE, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

/** Waits until `agent` got attempt `attempt` of the task, and answers that delivery. */
const deliveredTo = async (agent: AcceptingAgent, taskId: string, attempt = 1) =>
  (await waitUntil(
    `attempt ${attempt} of ${taskId} delivered`,
    () => agent.deliveries.find((d) => d.taskId === taskId && d.attempt === attempt),
    (d) => d !== undefined,
    { timeoutMs: 15_000 },
  ))!;

const isRunning = (t: Record<string, unknown>) => t.status === 'running';

describe('an agent that answers 202', () => {
  it('completes on its report, with progress on the way; another agent’s token is refused, a repeat is idempotent', async () => {
    const id = await submit({ agent_id: a.id, timeout_seconds: 900 });
    const delivery = await deliveredTo(a, id);
    expect(delivery.body).toMatchObject({
      heartbeat_timeout_seconds: 60,
      report_url: `${orch.url}/tasks/${id}/result`,
      progress_url: `${orch.url}/tasks/${id}/progress`,
    });
    await waitForTask(orch.url, id, isRunning);

    const progress = await a.send(`/tasks/${id}/progress`, { progress: 50, message: 'drafted the plan', attempt: 1 });
    expect(progress.status, JSON.stringify(progress.body)).toBe(200);
    expect((await call(orch.url, 'GET', `/tasks/${id}`)).body).toMatchObject({
      status: 'running',
      agent_id: a.id,
      progress: 50,
      progress_message: 'drafted the plan',
    });

    const report = { status: 'completed', result: { steps: 3 }, execution_time_ms: 1200, attempt: 1 };
    expect((await b.send(`/tasks/${id}/result`, report)).body).toMatchObject({ code: 'not_your_attempt' });
    expect((await a.send(`/tasks/${id}/result`, report, '')).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const answer = await a.send(`/tasks/${id}/result`, report);
      expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 200, body: { task_id: id, status: 'completed' } });
    }
    expect((await a.send(`/tasks/${id}/result`, { status: 'done' })).status).toBe(400);
    expect((await call(orch.url, 'GET', `/tasks/${id}`)).body).toMatchObject({ status: 'completed', result: { steps: 3 }, attempts: 1 });
  });

  it('an agent silent past heartbeat_timeout_seconds loses the attempt to another agent; its late report is refused (409)', async () => {
    const id = await submit({ heartbeat_timeout_seconds: 5, timeout_seconds: 900, max_retries: 2, retry_delay_seconds: 1 });
    await waitForTask(orch.url, id, isRunning);
    const [silent, other] = a.deliveries.some((d) => d.taskId === id) ? [a, b] : [b, a];
    const accepted = Date.now();
    const retry = await deliveredTo(other, id, 2);
    // 5 s of silence, the reconciler's 1 s period, a backoff of up to 1 s, and the delivery itself.
    expect(Date.now() - accepted).toBeLessThan(12_000);
    const late = await silent.send(`/tasks/${id}/result`, { status: 'completed', result: 'late', attempt: 1 });
    expect(late, JSON.stringify(late.body)).toMatchObject({ status: 409, body: { code: 'attempt_ended' } });
    expect((await other.send(`/tasks/${id}/result`, { status: 'completed', result: 'fresh', attempt: retry.attempt })).status).toBe(200);
    const task = await waitForTask(orch.url, id, isTerminal);
    expect(task).toMatchObject({ status: 'completed', result: 'fresh', attempts: 2, agent_id: other.id });
  });

  it('a cancel tells the agent (signed POST /task/{id}/cancel), and a report after it changes nothing', async () => {
    const id = await submit({ agent_id: b.id, timeout_seconds: 900 });
    await deliveredTo(b, id);
    await waitForTask(orch.url, id, isRunning);
    expect((await call(orch.url, 'DELETE', `/tasks/${id}`)).status).toBe(200);
    const notice = await waitUntil(
      'the cancel notice',
      () => b.cancels.find((c) => c.path === `/task/${id}/cancel`),
      (c) => c !== undefined,
      { timeoutMs: 5_000 },
    );
    expect(notice).toMatchObject({ webhookId: `${id}:1:cancel`, body: { task_id: id, attempt: 1, reason: 'cancelled' } });
    expect((await b.send(`/tasks/${id}/result`, { status: 'completed', result: 1 })).status).toBe(409);
    expect((await call(orch.url, 'GET', `/tasks/${id}`)).body).toMatchObject({ status: 'cancelled' });
  });
});
