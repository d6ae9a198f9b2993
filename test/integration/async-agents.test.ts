/**
 * Issue 15's done-when for asynchronous delivery, on the local runtime (its own process) with real
 * agent processes: examples/fault-agent.ts in its --async mode, built on the SDK. An agent SIGKILLed
 * mid-task loses the attempt to the heartbeat timeout and the task completes on another agent; a
 * report that comes after its attempt ended changes nothing (409); another agent's token is refused
 * (403); a cancel reaches the handler's AbortSignal. The cases run at once, each on its own agent
 * type, against one orchestrator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcceptingAgent, startAcceptingAgent } from '../../harness/accepting-agent';
import { type AgentProcess, type FaultAgentOptions, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { waitUntil } from '../../harness/wait';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
const agents: Array<AgentProcess | AcceptingAgent> = [];

beforeAll(async () => {
  orch = await startLocalOrchestrator({ RECONCILE_INTERVAL_SECONDS: '1' });
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
});

async function faultAgent(type: string, options: Omit<FaultAgentOptions, 'type'>): Promise<AgentProcess> {
  const agent = await startFaultAgent(orch.url, { type, async: true, capabilities: ['plan'], ...options });
  agents.push(agent);
  return agent;
}

async function acceptingAgent(type: string, name: string): Promise<AcceptingAgent> {
  const agent = await startAcceptingAgent(orch.url, { name, type, capabilities: ['plan'] });
  agents.push(agent);
  return agent;
}

async function submit(agentType: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
    task_type: 'plan',
    agent_type: agentType,
    timeout_seconds: 600,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

const get = async (id: string) => (await call(orch.url, 'GET', `/tasks/${id}`)).body;
const isRunning = (t: Record<string, unknown>) => t.status === 'running';
const attemptsOf = (agent: AgentProcess, id: string) =>
  agent
    .deliveries()
    .filter((d) => d.task_id === id)
    .map((d) => d.attempt);

describe.concurrent('asynchronous delivery with real agent processes', () => {
  it('an agent SIGKILLed mid-task loses the attempt to the heartbeat timeout; the task completes on another agent', async () => {
    // Progress every 300 ms, then a SIGKILL 1 s after the accept: from then on, nothing reaches the orchestrator.
    const dying = await faultAgent('async-kill', { mode: 'slow', delayMs: 60_000, progressEveryMs: 300, dieAfterMs: 1_000 });
    const id = await submit('async-kill', { heartbeat_timeout_seconds: 5, max_retries: 2, retry_delay_seconds: 1 });
    await waitForTask(orch.url, id, (t) => t.status === 'running' && t.progress !== null && t.progress !== undefined);
    const { child } = dying.proc;
    if (child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
    const died = Date.now();
    expect(child.signalCode).toBe('SIGKILL');
    const survivor = await faultAgent('async-kill', { mode: 'slow', delayMs: 300 });

    const task = await waitForTask(orch.url, id, isTerminal, 20_000);
    // 5 s of silence, the reconciler's 1 s period, a backoff of up to 1 s, 300 ms of work: not the 600 s timeout.
    expect(Date.now() - died).toBeLessThan(15_000);
    expect(task).toMatchObject({ status: 'completed', agent_id: survivor.id, attempts: 2, result: { ok: true, attempt: 2 } });
    expect(attemptsOf(dying, id)).toEqual([1]);
    expect(attemptsOf(survivor, id)).toEqual([2]);
    expect((await survivor.waitForReport(id, 2)).outcome).toBe('acknowledged');
  });

  it('a report after the attempt was lost to silence gets 409 and changes nothing', async () => {
    // Accepts, sends nothing for 8 s (no keep-alive), then reports: 3 s after the 5 s heartbeat timeout took the attempt.
    const late = await faultAgent('async-late', { mode: 'slow', delayMs: 8_000, silent: true });
    const id = await submit('async-late', { heartbeat_timeout_seconds: 5, max_retries: 0 });
    const lost = await waitForTask(orch.url, id, isTerminal, 15_000);
    expect(lost).toMatchObject({ status: 'failed' });
    expect(lost).not.toHaveProperty('result');
    expect(String(lost.error)).toContain('no progress for heartbeat_timeout_seconds (5 s)');

    expect(await late.waitForReport(id, 1, 15_000)).toMatchObject({ status: 'completed', outcome: 'attempt_ended' });
    expect(await get(id)).toEqual(lost);
  });

  it('another agent’s token is refused (403); a cancel fires the handler’s AbortSignal in the agent process', async () => {
    const holder = await faultAgent('async-cancel', { mode: 'hang' });
    const intruder = await acceptingAgent('async-cancel-other', 'async-intruder');
    const id = await submit('async-cancel');
    const running = await waitForTask(orch.url, id, isRunning);
    expect(running.agent_id).toBe(holder.id);

    const report = { status: 'completed', result: 'not mine', attempt: 1 };
    expect(await intruder.send(`/tasks/${id}/result`, report)).toMatchObject({ status: 403, body: { code: 'not_your_attempt' } });
    expect(await intruder.send(`/tasks/${id}/progress`, { progress: 90, attempt: 1 })).toMatchObject({ status: 403 });
    expect(await get(id)).toEqual(running);

    expect((await call(orch.url, 'DELETE', `/tasks/${id}`)).status).toBe(200);
    const abort = await waitUntil(
      'the handler’s signal aborted',
      () => holder.aborts().find((a) => a.task_id === id),
      (a) => a !== undefined,
      { timeoutMs: 5_000 },
    );
    expect(abort).toMatchObject({ attempt: 1, reason: expect.stringContaining(`cancelled task ${id}`) });
    // The aborted handler's outcome is not reported: the orchestrator ended the attempt.
    expect((await holder.waitForReport(id, 1)).outcome).toBe('not_sent');
    expect(await get(id)).toMatchObject({ status: 'cancelled' });
    expect(attemptsOf(holder, id)).toEqual([1]);
  });

  it('a report after a cancel gets 409 and changes nothing', async () => {
    // A hand-written agent: the SDK's agent stops at the cancel notice and reports nothing, so only this one can still send.
    const holder = await acceptingAgent('async-after-cancel', 'async-after-cancel');
    const id = await submit('async-after-cancel');
    await waitForTask(orch.url, id, isRunning);
    expect((await call(orch.url, 'DELETE', `/tasks/${id}`)).status).toBe(200);
    const cancelled = await get(id);
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    const report = { status: 'completed', result: 'too late', attempt: 1 };
    expect(await holder.send(`/tasks/${id}/result`, report)).toMatchObject({ status: 409, body: { code: 'attempt_ended' } });
    expect(await holder.send(`/tasks/${id}/progress`, { progress: 99, attempt: 1 })).toMatchObject({ status: 409 });
    expect(await get(id)).toEqual(cancelled);
  });
});
