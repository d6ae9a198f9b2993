/**
 * Long-running handlers (asynchronous delivery, agent side): a real Agent behind the fake
 * orchestrator answers 202, reports with its token, retries reports, stops on 409, keeps the attempt
 * alive with progress, and aborts ctx.signal on a signed cancel notice.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/wait';
import { Agent, NonRetryableTaskError, type ReportEvent, type TaskContext, type TaskHandler } from '@optiinfra/sdk';
import { FakeOrchestrator } from './fake-orchestrator';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeOrchestrator(): Promise<FakeOrchestrator> {
  const fake = new FakeOrchestrator();
  await fake.listen();
  cleanups.push(() => fake.close());
  return fake;
}

async function longRunningAgent(
  fake: FakeOrchestrator,
  handler: TaskHandler,
  options: { keepAlive?: boolean; onReport?: (event: ReportEvent) => void } = {},
): Promise<Agent> {
  const agent = new Agent({
    onReport: options.onReport,
    name: `async-agent-${randomUUID().slice(0, 8)}`,
    type: 'test',
    orchestratorUrl: fake.url,
    stopGraceMs: 500,
    reportRetry: { initialDelayMs: 10, maxDelayMs: 40 },
  })
    .handle('plan', handler, { longRunning: true, keepAlive: options.keepAlive })
    .handle('quick', (_params, ctx) => ({ longRunning: ctx.longRunning, aborted: ctx.signal.aborted }));
  cleanups.push(() => agent.stop());
  await agent.start();
  return agent;
}

/** A delivery signed as the orchestrator signs it: webhook-id `<task_id>:<attempt>`. */
async function deliver(
  agent: Agent,
  fake: FakeOrchestrator,
  extra: Record<string, unknown> = {},
  attempt = 1,
): Promise<{ taskId: string; status: number; body: Record<string, unknown> }> {
  const taskId = typeof extra.task_id === 'string' ? extra.task_id : randomUUID();
  const text = JSON.stringify({ task_id: taskId, task_type: 'plan', parameters: {}, timeout_seconds: 600, priority: 5, ...extra });
  const id = `${taskId}:${attempt}`;
  const now = new Date();
  const res = await fetch(`${agent.url}/task`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(fake.signingSecret).sign(id, now, text),
    },
    body: text,
  });
  return { taskId, status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const until = (condition: () => boolean, what: string) => waitUntil(what, condition, Boolean, { timeoutMs: 5_000, intervalMs: 10 });
const reportsOf = (fake: FakeOrchestrator, taskId: string) => fake.callsTo('POST', new RegExp(`^/tasks/${taskId}/result$`));
const progressOf = (fake: FakeOrchestrator, taskId: string) => fake.callsTo('POST', new RegExp(`^/tasks/${taskId}/progress$`));

function aborted(ctx: TaskContext): Promise<unknown> {
  return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true }));
}

describe('a long-running handler', () => {
  it('answers 202 at once, then reports its result with its token and attempt to the report_url', async () => {
    const fake = await fakeOrchestrator();
    const publicApi = await fakeOrchestrator();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const agent = await longRunningAgent(fake, async (_params, ctx) => {
      await ctx.progress(40, 'halfway there');
      await finished;
      return { plan: ['a', 'b'], longRunning: ctx.longRunning };
    });

    const urls = (id: string) => ({
      report_url: `${publicApi.url}/tasks/${id}/result`,
      progress_url: `${publicApi.url}/tasks/${id}/progress`,
    });
    const taskId = randomUUID();
    const answer = await deliver(agent, fake, { task_id: taskId, ...urls(taskId) }, 3);

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ task_id: taskId, status: 'running' });
    await publicApi.waitFor(() => progressOf(publicApi, taskId).length === 1, 'the progress');
    expect(progressOf(publicApi, taskId)[0]!.body).toEqual({ attempt: 3, progress: 40, message: 'halfway there' });
    expect(reportsOf(publicApi, taskId)).toHaveLength(0);
    finish();
    await publicApi.waitFor(() => reportsOf(publicApi, taskId).length === 1, 'the report');
    const [report] = reportsOf(publicApi, taskId);
    expect(report!.agentToken).toMatch(/^oat_fake-/);
    expect(report!.body).toEqual({
      status: 'completed',
      result: { plan: ['a', 'b'], longRunning: true },
      execution_time_ms: expect.any(Number) as unknown,
      attempt: 3,
    });
    expect((report!.body as { execution_time_ms: number }).execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(reportsOf(fake, taskId)).toHaveLength(0);
  });

  it('reports a throw as failed: retryable unless the error says otherwise; to the orchestrator without report_url', async () => {
    const fake = await fakeOrchestrator();
    const agent = await longRunningAgent(fake, (params) => {
      if (params.final) throw new NonRetryableTaskError('no such account');
      throw new Error('the LLM is overloaded');
    });

    const retryable = await deliver(agent, fake);
    const final = await deliver(agent, fake, { parameters: { final: true } });

    await fake.waitFor(() => reportsOf(fake, retryable.taskId).length + reportsOf(fake, final.taskId).length === 2, 'both reports');
    expect(reportsOf(fake, retryable.taskId)[0]!.body).toEqual({
      status: 'failed',
      error: 'the LLM is overloaded',
      execution_time_ms: expect.any(Number) as unknown,
      attempt: 1,
    });
    expect(reportsOf(fake, final.taskId)[0]!.body).toMatchObject({ status: 'failed', error: 'no such account', retryable: false });
  });

  it('retries its report through 503s and unreachable answers until acknowledged, then stops', async () => {
    const fake = await fakeOrchestrator();
    fake.reportAnswers.push(
      { status: 503, body: { error: 'try later', code: 'unavailable' } },
      { status: 429, body: { error: 'slow down' } },
      { status: 502, body: 'Bad Gateway' },
      // API Gateway refusing expired SigV4 credentials: not the orchestrator's word on the attempt.
      { status: 403, body: { message: 'The security token included in the request is expired' } },
    );
    const agent = await longRunningAgent(fake, () => ({ done: true }));

    const { taskId } = await deliver(agent, fake);

    await fake.waitFor(() => reportsOf(fake, taskId).length === 5, 'five tries of the report');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reportsOf(fake, taskId)).toHaveLength(5);
    expect(reportsOf(fake, taskId).map((c) => c.body)).toEqual(Array(5).fill(reportsOf(fake, taskId)[0]!.body));
  });

  it('stops on a 409 or a 403 not_your_attempt to its report (the attempt ended) without trying again', async () => {
    const fake = await fakeOrchestrator();
    fake.reportAnswers.push(
      { status: 409, body: { error: 'attempt 1 is over', code: 'attempt_ended' } },
      { status: 403, body: { error: 'another agent holds the attempt', code: 'not_your_attempt' } },
    );
    const agent = await longRunningAgent(fake, () => ({ late: true }));

    const first = await deliver(agent, fake);
    const second = await deliver(agent, fake);

    await until(() => agent.inFlight === 0, 'the tasks to leave the agent');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reportsOf(fake, first.taskId)).toHaveLength(1);
    expect(reportsOf(fake, second.taskId)).toHaveLength(1);
  });

  it('reports a result the orchestrator refuses (400) as failed and not retryable, as a synchronous answer would be', async () => {
    const fake = await fakeOrchestrator();
    fake.reportAnswers.push({ status: 400, body: { error: 'result: larger than MAX_AGENT_ANSWER_BYTES', code: 'validation_error' } });
    const agent = await longRunningAgent(fake, () => ({ huge: true }));

    const { taskId } = await deliver(agent, fake);

    await fake.waitFor(() => reportsOf(fake, taskId).length === 2, 'the report and the failed one');
    expect(reportsOf(fake, taskId)[1]!.body).toEqual({
      status: 'failed',
      error: "the orchestrator refused the agent's result: result: larger than MAX_AGENT_ANSWER_BYTES",
      retryable: false,
      execution_time_ms: expect.any(Number) as unknown,
      attempt: 1,
    });
  });

  it('aborts ctx.signal when a progress is answered 409, and sends no report', async () => {
    const fake = await fakeOrchestrator();
    fake.progressAnswers.push({ status: 409, body: { error: 'task was cancelled', code: 'attempt_ended' } });
    let reason: unknown;
    const agent = await longRunningAgent(fake, async (_params, ctx) => {
      await ctx.progress(10, 'step 1');
      reason = ctx.signal.reason;
      ctx.signal.throwIfAborted();
      return { unreachable: true };
    });

    const { taskId } = await deliver(agent, fake);

    await until(() => reason !== undefined, 'the handler to see the abort');
    expect(String((reason as Error).message)).toMatch(/409 attempt_ended/);
    await until(() => agent.inFlight === 0, 'the task to leave the agent');
    expect(reportsOf(fake, taskId)).toHaveLength(0);
  });

  it('keeps the attempt alive with progress every half heartbeat timeout while it runs, and stops after', async () => {
    const fake = await fakeOrchestrator();
    const agent = await longRunningAgent(fake, () => new Promise((resolve) => setTimeout(() => resolve('ok'), 650)));

    const { taskId } = await deliver(agent, fake, { heartbeat_timeout_seconds: 0.4 });

    await fake.waitFor(() => reportsOf(fake, taskId).length === 1, 'the report');
    const keepAlives = progressOf(fake, taskId);
    expect(keepAlives.length).toBeGreaterThanOrEqual(2);
    expect(keepAlives.length).toBeLessThanOrEqual(4);
    for (const call of keepAlives) expect(call.body).toEqual({ attempt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(progressOf(fake, taskId)).toHaveLength(keepAlives.length);
  });
  it('sends no keep-alive with keepAlive: false, and tells onReport how each report ended', async () => {
    const fake = await fakeOrchestrator();
    fake.reportAnswers.push({ status: 409, body: { error: 'attempt 1 is over', code: 'attempt_ended' } });
    const events: ReportEvent[] = [];
    const agent = await longRunningAgent(fake, () => new Promise((resolve) => setTimeout(() => resolve('ok'), 300)), {
      keepAlive: false,
      onReport: (e) => events.push(e),
    });

    const first = await deliver(agent, fake, { heartbeat_timeout_seconds: 0.1 });
    const second = await deliver(agent, fake, { heartbeat_timeout_seconds: 0.1 });

    await until(() => events.length === 2, 'both reports to settle');
    expect(progressOf(fake, first.taskId)).toHaveLength(0);
    expect(progressOf(fake, second.taskId)).toHaveLength(0);
    // The first report to arrive got the 409, whichever task it was.
    expect(events.map((e) => e.outcome).sort()).toEqual(['acknowledged', 'attempt_ended']);
    const ended = events.find((e) => e.outcome === 'attempt_ended')!;
    expect(ended).toEqual({ taskId: ended.taskId, attempt: 1, status: 'completed', outcome: 'attempt_ended' });
    expect([first.taskId, second.taskId]).toContain(ended.taskId);
  });
});

describe('stopping an agent with a long-running handler', () => {
  it('aborts the handler after the grace and reports it failed, so the task is retried elsewhere at once', async () => {
    const fake = await fakeOrchestrator();
    let started = false;
    const agent = await longRunningAgent(fake, async (_params, ctx) => {
      started = true;
      await aborted(ctx);
      throw ctx.signal.reason;
    });
    const { taskId } = await deliver(agent, fake);
    await until(() => started, 'the handler to start');

    await agent.stop();

    expect(reportsOf(fake, taskId).map((c) => c.body)).toEqual([
      expect.objectContaining({ status: 'failed', error: 'the agent is stopping', attempt: 1 }),
    ]);
  });
});

describe('a cancel notice', () => {
  it('aborts the running attempt’s ctx.signal (200), and no report follows', async () => {
    const fake = await fakeOrchestrator();
    let reason: Promise<unknown> | undefined;
    const agent = await longRunningAgent(fake, async (_params, ctx) => {
      reason = aborted(ctx);
      await reason;
      throw ctx.signal.reason;
    });
    const { taskId } = await deliver(agent, fake, {}, 2);
    await until(() => reason !== undefined, 'the handler to start');

    expect(await fake.sendCancel(agent.url!, taskId, 1)).toMatchObject({ status: 404, body: { code: 'not_running' } });
    const answer = await fake.sendCancel(agent.url!, taskId, 2);

    expect(answer).toEqual({ status: 200, body: { task_id: taskId, attempt: 2, status: 'cancelled' } });
    expect(((await reason) as Error).message).toMatch(/cancelled task/);
    await until(() => agent.inFlight === 0, 'the task to leave the agent');
    expect(reportsOf(fake, taskId)).toHaveLength(0);
  });

  it('is refused when unsigned, signed with another secret, replayed, or naming another notice; 404 for an unknown task', async () => {
    const fake = await fakeOrchestrator();
    let started = false;
    const agent = await longRunningAgent(fake, async (_params, ctx) => {
      started = true;
      await aborted(ctx);
      throw ctx.signal.reason;
    });
    const { taskId } = await deliver(agent, fake);
    await until(() => started, 'the handler to start');

    expect((await fake.sendCancel(agent.url!, taskId, 1, { unsigned: true })).status).toBe(401);
    const otherSecret = new FakeOrchestrator().signingSecret;
    expect((await fake.sendCancel(agent.url!, taskId, 1, { secret: otherSecret })).status).toBe(401);
    // The delivery's own signed id is refused as a replay; a notice signed for another attempt names the wrong one.
    expect(await fake.sendCancel(agent.url!, taskId, 1, { id: `${taskId}:1` })).toMatchObject({ status: 409 });
    expect(await fake.sendCancel(agent.url!, taskId, 1, { id: `${taskId}:7:cancel` })).toMatchObject({ status: 400 });
    expect((await fake.sendCancel(agent.url!, randomUUID(), 1)).status).toBe(404);
    expect((await fetch(`${agent.url}/task/%E0%A4%A/cancel`, { method: 'POST', body: '{}' })).status).toBe(400);
    expect(agent.inFlight).toBe(1);

    const at = new Date();
    expect((await fake.sendCancel(agent.url!, taskId, 1, { at })).status).toBe(200);
    expect(await fake.sendCancel(agent.url!, taskId, 1, { at })).toMatchObject({ status: 409, body: { code: 'duplicate_delivery' } });
  });
});

describe('a synchronous handler beside long-running ones', () => {
  it('still answers 200 with its result; ctx.progress does nothing for it', async () => {
    const fake = await fakeOrchestrator();
    const agent = await longRunningAgent(fake, () => null);

    const answer = await deliver(agent, fake, { task_type: 'quick' });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'completed', result: { longRunning: false, aborted: false } });
    expect(progressOf(fake, answer.taskId)).toHaveLength(0);
    expect(reportsOf(fake, answer.taskId)).toHaveLength(0);
  });
});
