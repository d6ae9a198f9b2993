import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpAgentClient } from '../../functions/adapters/http-agent-client';
import type { AgentTaskRequest } from '@optiinfra/contract';
import { parseNetworkPolicy } from '../../functions/core/network-policy';
import { Agent, type TaskContext } from '@optiinfra/sdk';
import { FakeOrchestrator } from './fake-orchestrator';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The orchestrator's real delivery client against an SDK agent: signatures, attempt headers and answers must agree. */
describe('SDK agent and the dispatcher HttpAgentClient', () => {
  const client = new HttpAgentClient(parseNetworkPolicy('127.0.0.0/8', false), 1024 * 1024);
  const request = (task_type: string, timeout_seconds = 5): AgentTaskRequest => ({
    task_id: randomUUID(),
    task_type,
    parameters: { a: 1 },
    timeout_seconds,
    priority: 10,
    metadata: {},
  });

  async function startAgent(): Promise<{ agent: Agent; fake: FakeOrchestrator; seen: TaskContext[] }> {
    const fake = new FakeOrchestrator();
    await fake.listen();
    cleanups.push(() => fake.close());
    const seen: TaskContext[] = [];
    const agent = new Agent({ name: 'compat-agent', type: 'test', orchestratorUrl: fake.url, requireSignatures: true, stopGraceMs: 200 })
      .handle('ok', (params, ctx) => {
        seen.push(ctx);
        return { got: params };
      })
      .handle('boom', () => {
        throw new Error('disk full');
      })
      .handle('hang', () => new Promise(() => undefined));
    cleanups.push(() => agent.stop());
    await agent.start();
    return { agent, fake, seen };
  }

  it('completes a signed delivery and passes the attempt and deadline through', async () => {
    const { agent, fake, seen } = await startAgent();
    const req = request('ok');
    const deadline = Date.now() + 5_000;

    const outcome = await client.deliver(
      { agentId: agent.id!, host: '127.0.0.1', port: agent.port!, signingSecret: fake.signingSecret },
      req,
      3,
      deadline,
    );

    expect(outcome).toEqual({ kind: 'completed', result: { got: { a: 1 } }, executionTimeMs: expect.any(Number) as unknown });
    expect(seen[0]).toMatchObject({ taskId: req.task_id, attempt: 3, priority: 10, verified: true, deliveryId: `${req.task_id}:3` });
    // The signing time (whole seconds) plus the signed timeout_seconds: never later than the dispatcher's deadline.
    expect(seen[0]?.deadline.getTime()).toBeLessThanOrEqual(deadline);
    expect(seen[0]?.deadline.getTime()).toBeGreaterThan(deadline - 1_500);
  });

  it('answers the same attempt sent again with 409, which the dispatcher retries as a new attempt without blaming the agent', async () => {
    const { agent, fake, seen } = await startAgent();
    const target = { agentId: agent.id!, host: '127.0.0.1', port: agent.port!, signingSecret: fake.signingSecret };
    const req = request('ok');
    expect((await client.deliver(target, req, 1, Date.now() + 5_000)).kind).toBe('completed');
    const again = await client.deliver(target, req, 1, Date.now() + 5_000);
    expect(again).toEqual({
      kind: 'failed',
      error: expect.stringContaining(`had already received delivery ${req.task_id}:1`) as unknown,
      retryable: true,
      health: 'neutral',
      outcome: 'http_error',
      httpStatus: 409,
    });
    // The next attempt has its own id and runs.
    expect((await client.deliver(target, req, 2, Date.now() + 5_000)).kind).toBe('completed');
    expect(seen.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('reports handler errors, wrong secrets and hung handlers as failed or timed-out attempts', async () => {
    const { agent, fake } = await startAgent();
    const target = { agentId: agent.id!, host: '127.0.0.1', port: agent.port!, signingSecret: fake.signingSecret };

    const failed = await client.deliver(target, request('boom'), 1, Date.now() + 5_000);
    const forged = await client.deliver(
      { ...target, signingSecret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
      request('ok'),
      1,
      Date.now() + 5_000,
    );
    const hung = await client.deliver(target, request('hang', 1), 1, Date.now() + 300);

    // A handler's exception is a 500: retried, and counted against the agent's health.
    expect(failed).toEqual({
      kind: 'failed',
      error: expect.stringContaining('agent answered HTTP 500') as unknown,
      retryable: true,
      health: 'failure',
      outcome: 'http_error',
      httpStatus: 500,
    });
    expect((failed as { error: string }).error).toContain('disk full');
    // The agent cannot verify us: another agent may, so it is retried (and counted against this one).
    expect(forged).toEqual({
      kind: 'failed',
      error: expect.stringContaining('agent answered HTTP 401') as unknown,
      retryable: true,
      health: 'failure',
      outcome: 'http_error',
      httpStatus: 401,
    });
    expect(hung.kind).toBe('timed_out');
  });
});
