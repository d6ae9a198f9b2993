/**
 * The activity the use cases emit (functions/core/activity.ts), which the local runtime's feed
 * shows: on the in-memory world, each use case's events in order, with what a line needs.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { reportResult } from '../../functions/app/agent-reports';
import { drainAgent, registerAgent, unregisterAgent } from '../../functions/app/agents';
import { dispatchStep } from '../../functions/app/dispatch';
import { cancelTask, submitTask } from '../../functions/app/tasks';
import type { StepResult } from '../../functions/app/workflow-step';
import { registerAgentRequestSchema, taskSubmitRequestSchema } from '@optiinfra/contract';
import { STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import type { Task } from '../../functions/core/task-model';
import { agentTokenHash } from '../../functions/core/ids';
import { accepted, completed, failed, timedOut, type World, world } from './world';

const A = '00000000-0000-5000-8000-00000000000a';

let w: World;
beforeEach(() => {
  w = world({ breaker: { windowSeconds: 60, minDispatches: 2, failureRatio: 0.5, cooldownSeconds: 30 } });
});

const step = (t: Pick<Task, 'task_id' | 'timeout_seconds'>, prev?: StepResult) =>
  dispatchStep(w.stepDeps, {
    task_id: t.task_id,
    state_timeout_seconds: t.timeout_seconds + STEP_OVERHEAD_SECONDS,
    ...(prev ? { step: prev } : {}),
  });

describe('task activity', () => {
  it('a submitted task that completes: accepted, dispatched with the routing reason, completed with its duration', async () => {
    await w.agent({ agent_id: A, name: 'cost-a', max_concurrency: 4 });
    const request = taskSubmitRequestSchema.parse({ task_type: 'analyze_cost', agent_type: 'cost', priority: 7 });
    const { task_id } = await submitTask(w.deps, request, () => undefined);
    w.clock.advance(1_000);
    w.agentClient.answer(async () => {
      w.clock.advance(2_500);
      return completed();
    });
    await step({ task_id, timeout_seconds: 300 });

    expect(w.activity.events).toEqual([
      { kind: 'task', event: 'accepted', task_id, task_type: 'analyze_cost', agent_type: 'cost', priority: 7 },
      {
        kind: 'task',
        event: 'dispatched',
        task_id,
        attempt: 1,
        agent_id: A,
        agent_name: 'cost-a',
        reason: 'least loaded of 1 eligible agent (0 of 4 slots in use before this task)',
      },
      { kind: 'task', event: 'completed', task_id, attempts: 1, duration_ms: 3_500 },
    ]);
  });

  it('a failing task: a retrying line per failed attempt with why and the delay, then failed with the last error', async () => {
    await w.agent({ agent_id: A, name: 'cost-a' });
    const t = await w.task({ max_retries: 1, retry_delay_seconds: 2 });
    w.agentClient.answer(failed('HTTP 500: disk full'), failed('HTTP 500: disk full again'));
    const first = await step(t);
    await step(t, first);

    expect(w.activity.of(t.task_id)).toEqual(['dispatched', 'retrying', 'dispatched', 'failed']);
    const retrying = w.activity.events.find((e) => e.event === 'retrying');
    expect(retrying).toEqual({
      kind: 'task',
      event: 'retrying',
      task_id: t.task_id,
      attempt: 1,
      error: `attempt 1 on agent cost-a (${A}): HTTP 500: disk full`,
      // The step's own wait before the next attempt (backoff from retry_delay_seconds).
      delay_seconds: first.delay_seconds,
    });
    expect(w.activity.events.at(-1)).toMatchObject({ event: 'failed', attempts: 2, error: expect.stringContaining('disk full again') });
  });

  it('an accepted (202) attempt the agent reports failed: retrying, then completed on the next report', async () => {
    const token = 'token-of-agent-a-0123456789';
    await w.agent({ agent_id: A, name: 'cost-a', token_hash: agentTokenHash(token) });
    const t = await w.task({ max_retries: 1, retry_delay_seconds: 3 });
    w.agentClient.answer(accepted(), accepted());
    await step(t);
    await reportResult(w.deps, t.task_id, token, { status: 'failed', error: 'quota exceeded', attempt: 1 });
    await step(t);
    await reportResult(w.deps, t.task_id, token, { status: 'completed', result: 1, attempt: 2 });

    expect(w.activity.of(t.task_id)).toEqual(['dispatched', 'retrying', 'dispatched', 'completed']);
    expect(w.activity.events[1]).toMatchObject({ event: 'retrying', attempt: 1, error: expect.stringContaining('quota exceeded') });
  });

  it('a task past its time limit ends as timeout, with the error; a cancelled one as cancelled', async () => {
    await w.agent({ agent_id: A, name: 'cost-a' });
    const slow = await w.task({ max_retries: 0 });
    w.agentClient.answer(timedOut('no answer within 30 s'));
    await step(slow);
    expect(w.activity.events.at(-1)).toMatchObject({ event: 'timeout', task_id: slow.task_id, error: expect.stringContaining('30 s') });

    const waiting = await w.task();
    w.clock.advance(4_000);
    await cancelTask(w.deps, waiting.task_id);
    expect(w.activity.events.at(-1)).toEqual({
      kind: 'task',
      event: 'cancelled',
      task_id: waiting.task_id,
      attempts: 0,
      duration_ms: 4_000,
      error: 'cancelled by request',
    });
  });
});

describe('agent activity', () => {
  const request = (name: string) =>
    registerAgentRequestSchema.parse({ name, type: 'cost', host: '10.0.1.12', port: 8080, capabilities: ['analyze_cost'] });

  it('registered with its type, capabilities and URL; draining once when it unregisters or is drained', async () => {
    const one = await registerAgent(w.deps, request('cost-agent-1'));
    const two = await registerAgent(w.deps, request('cost-agent-2'));
    await unregisterAgent(w.deps, one.id, one.agent_token);
    await drainAgent(w.deps, two.id, two.agent_token);
    await drainAgent(w.deps, two.id, two.agent_token);

    expect(w.activity.events).toEqual([
      {
        kind: 'agent',
        event: 'registered',
        agent_id: one.id,
        name: 'cost-agent-1',
        type: 'cost',
        capabilities: ['analyze_cost'],
        url: 'http://10.0.1.12:8080',
      },
      expect.objectContaining({ event: 'registered', agent_id: two.id }),
      { kind: 'agent', event: 'draining', agent_id: one.id, name: 'cost-agent-1', type: 'cost' },
      { kind: 'agent', event: 'draining', agent_id: two.id, name: 'cost-agent-2', type: 'cost' },
    ]);
  });

  it('circuit open when failures trip the breaker', async () => {
    await w.agent({ agent_id: A, name: 'cost-a' });
    const tasks = [await w.task({ max_retries: 0 }), await w.task({ max_retries: 0 })];
    w.agentClient.answer(failed('HTTP 503'), failed('HTTP 503'));
    for (const t of tasks) await step(t);

    // Two dispatches, both failed: the breaker's minimum (2) and ratio (0.5) are reached on the second.
    const circuits = w.activity.events.filter((e) => e.kind === 'agent');
    expect(circuits).toEqual([{ kind: 'agent', event: 'circuit_open', agent_id: A, name: 'cost-a', type: 'cost' }]);
  });
});
