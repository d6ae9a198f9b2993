/**
 * The cache is losable: redis-server killed (SIGKILL) in the middle of a run and started again on
 * the same port. Routing degrades, status reads fall back to DynamoDB, and every accepted task
 * still ends in exactly one terminal state, with each attempt delivered once.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask, waitForTasks } from '../../harness/local-orchestrator';
import { freePort } from '../../harness/processes';
import { killNow, redisUrlOn, startRedisOn } from '../../harness/redis';
import { waitUntil } from '../../harness/wait';
import { executionsOf, waitForWorkflowEnd } from '../../harness/workflow';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let redis: ChildProcess | undefined;
let redisPort: number;
const agents: AgentProcess[] = [];

function killRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  return killNow(child);
}

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedisOn(redisPort);
  orch = await startLocalOrchestrator({ REDIS_URL: redisUrlOn(redisPort) });
  for (const name of ['outage-a', 'outage-b'])
    agents.push(await startFaultAgent(orch.url, { mode: 'slow', delayMs: 200, type: 'outage', name }));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
  await killRedis();
});

async function submit(): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
    task_type: 'work',
    agent_type: 'outage',
    max_retries: 5,
    retry_delay_seconds: 1,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

describe('redis-server killed and restarted during a run', () => {
  it('finishes every task exactly once, and answers reads from DynamoDB while the cache is down', async () => {
    const before: string[] = [];
    for (let i = 0; i < 10; i++) before.push(await submit());
    const firstDone = await waitForTask(orch.url, before[0]!, isTerminal);
    expect(firstDone.status).toBe('completed');

    await killRedis();
    const during: string[] = [];
    for (let i = 0; i < 10; i++) {
      during.push(await submit());
      // Taken in by the starter (its execution started) while the cache is down, before the next is
      // submitted. Asked of the Step Functions stand-in: with the cache down, every status read waits
      // out the cache's 500 ms command timeout first.
      await waitUntil(
        'the starter started its execution',
        () => executionsOf(orch, during[i]!),
        (executions) => executions.length > 0,
        { timeoutMs: 30_000 },
      );
    }
    // Reads still work with the cache gone: the finished task comes from DynamoDB.
    const read = await call(orch.url, 'GET', `/tasks/${before[0]!}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'completed' });
    expect((await call(orch.url, 'GET', '/agents?type=outage')).status).toBe(200);
    const whileDown = await waitForTasks(orch.url, during.slice(0, 3), isTerminal, 30_000);
    expect(whileDown.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    // The handlers noticed (and said so) rather than the test missing the outage.
    expect(orch.proc.output()).toContain('cache unavailable');

    redis = await startRedisOn(redisPort);
    const after: string[] = [];
    for (let i = 0; i < 10; i++) after.push(await submit());

    const all = [...before, ...during, ...after];
    const done = await waitForTasks(orch.url, all, isTerminal, 60_000);
    expect(done.map((t) => t.status)).toEqual(all.map(() => 'completed'));
    // Each task reached an agent once per attempt, and nothing ran that was not accepted: counted
    // once no execution is left that could deliver one more.
    await waitForWorkflowEnd(orch, all);
    const deliveries = agents.flatMap((a) => a.deliveries());
    for (const t of done) expect(deliveries.filter((d) => d.task_id === t.task_id).length, String(t.task_id)).toBe(Number(t.attempts));
    expect(new Set(deliveries.map((d) => d.task_id))).toEqual(new Set(all));
  }, 120_000);
});
