/**
 * GET /tasks/{id}?wait=N on the local runtime (in this process), with a real redis-server and real
 * agent processes: the answer comes as soon as the agent's answer ends the task, woken through the
 * cache's notice; at N with the current state when the task is not done; and a wrong N is a 400
 * at once that says what to send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { tempDir } from '../../harness/processes';
import { type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';
import { type Runtime, startRuntime } from '../../local/runtime';
import { call } from '../support/checked-call';

let runtime: Runtime;
let redis: RedisInstance;
let slow: AgentProcess;
let hanging: AgentProcess;
const data = tempDir('optiinfra-task-wait-');
const AGENT_WORK_MS = 2_000;

beforeAll(async () => {
  redis = await startRedis({ env: { PATH: process.env.PATH } });
  if (redis.kind === 'none') throw new Error('this test needs redis-server on PATH');
  runtime = await startRuntime({ host: '127.0.0.1', port: 0, dataDir: data.dir, log: () => undefined, env: { CACHE_URL: redis.url } });
  [slow, hanging] = await Promise.all([
    startFaultAgent(runtime.url, { mode: 'slow', delayMs: AGENT_WORK_MS, type: 'waited' }),
    startFaultAgent(runtime.url, { mode: 'hang', type: 'unfinished' }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([slow?.stop(), hanging?.stop()]);
  await runtime?.stop();
  if (redis && redis.kind !== 'none') await redis.stop();
  data.remove();
});

async function submit(agentType: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await call<{ task_id: string }>(runtime.url, 'POST', '/tasks', { task_type: 'work', agent_type: agentType, ...fields });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

describe('GET /tasks/{id}?wait=N', () => {
  it('answers completed, with the result, as soon as the agent has answered, long before N', async () => {
    const taskId = await submit('waited', { parameters: { account_id: '123' } });
    const start = performance.now();
    const [read, answered] = await Promise.all([
      call(runtime.url, 'GET', `/tasks/${taskId}?wait=20`).then((res) => ({ res, at: performance.now() })),
      slow.waitForAnswer(taskId).then(() => performance.now()),
    ]);
    expect(read.res.status).toBe(200);
    expect(read.res.body).toMatchObject({ task_id: taskId, status: 'completed', agent_id: slow.id, completed_at: expect.any(String) });
    expect(read.res.body.result).toBeDefined();
    expect(read.at - start).toBeGreaterThanOrEqual(AGENT_WORK_MS);
    // Woken by the notice: within moments of the answer, not at the 20 s mark.
    expect(read.at - answered).toBeLessThan(2_000);
  }, 30_000);

  it('answers the current state at N when the task is not done, the longest N included, and the task carries on', async () => {
    const taskId = await submit('unfinished', { timeout_seconds: 60, max_retries: 0 });
    const start = performance.now();
    // The whole 20 s: the function's timeout in the template (which the local runtime applies) allows it.
    const res = await call(runtime.url, 'GET', `/tasks/${taskId}?wait=20`);
    const took = performance.now() - start;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ task_id: taskId });
    expect(['pending', 'sent']).toContain(res.body.status);
    expect(res.body.completed_at).toBeUndefined();
    expect(took).toBeGreaterThanOrEqual(19_990);
    expect(took).toBeLessThan(24_000);
    // A cancel ends it, and a waiting read sees that at once.
    expect((await call(runtime.url, 'DELETE', `/tasks/${taskId}`)).status).toBe(200);
    expect((await call(runtime.url, 'GET', `/tasks/${taskId}?wait=20`)).body).toMatchObject({ status: 'cancelled' });
  }, 45_000);

  it('is woken by a cancel made while it waits', async () => {
    const taskId = await submit('unfinished', { timeout_seconds: 60, max_retries: 0 });
    const waiting = call(runtime.url, 'GET', `/tasks/${taskId}?wait=20`).then((res) => ({ res, at: performance.now() }));
    const cancelled = await call(runtime.url, 'DELETE', `/tasks/${taskId}`);
    const cancelledAt = performance.now();
    expect(cancelled.status).toBe(200);
    const read = await waiting;
    expect(read.res.body).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    expect(read.at - cancelledAt).toBeLessThan(2_000);
  }, 30_000);

  it.for([
    ['not a number', 'wait=soon', '"soon"'],
    ['a fraction', 'wait=15.5', '"15.5"'],
    ['negative', 'wait=-1', '"-1"'],
    ['beyond 20', 'wait=21', 'number 21'],
    ['empty', 'wait=', '""'],
    ['repeated', 'wait=15&wait=16', '"15,16"'],
  ])('refuses a wait that is %s at once, with a 400 saying what to send', async ([, query, got]) => {
    const taskId = await submit('unfinished', { timeout_seconds: 60, max_retries: 0 });
    const start = performance.now();
    const res = await call(runtime.url, 'GET', `/tasks/${taskId}?${query}`);
    // A wait taken for one of these (15 s and more where a number can be read from it) would be far
    // over this; one plain request on a loaded machine can take a second.
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: `invalid task read query: wait must be a whole number of seconds from 0 to 20, given once, such as ?wait=20 (got ${got})`,
      code: 'validation_error',
      details: [{ field: 'wait', message: expect.stringContaining('a whole number of seconds from 0 to 20') }],
    });
    expect((await call(runtime.url, 'DELETE', `/tasks/${taskId}`)).status).toBe(200);
  });

  it('refuses another query field, naming the one allowed', async () => {
    const taskId = await submit('unfinished', { timeout_seconds: 60, max_retries: 0 });
    const res = await call(runtime.url, 'GET', `/tasks/${taskId}?timeout=5`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid task read query: unknown field "timeout"; allowed fields are wait');
    await call(runtime.url, 'DELETE', `/tasks/${taskId}`);
  });
});
