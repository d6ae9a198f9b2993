/**
 * The /tasks use cases (functions/app/tasks.ts) on the in-memory stores, cache and a fake clock:
 * submit (refused at once when no agent could take the work), read, list, cancel.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { drainAgent, unregisterAgent } from '../../functions/app/agents';
import { dispatchStep } from '../../functions/app/dispatch';
import { cancelTask, getTask, listTasks, submitTask } from '../../functions/app/tasks';
import { type TaskSubmitRequest, taskSubmitRequestSchema } from '@optiinfra/contract';
import { NoCapableAgentError, NotFoundError } from '@optiinfra/contract';
import type { TaskStore } from '../../functions/core/ports';
import { type Task, toStatusResponse } from '../../functions/core/task-model';
import { completed, type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world();
});

/** A request as the API hands it over: parsed, so its defaults are filled in. */
function request(fields: Record<string, unknown> = {}): TaskSubmitRequest {
  return taskSubmitRequestSchema.parse({ task_type: 'analyze_cost', agent_type: 'cost', ...fields });
}

const unexpected = (err: unknown) => {
  throw err;
};

describe('submitTask', () => {
  it('stores a pending task with the defaults, enqueues it at its priority, counts it, and answers where to read it', async () => {
    await w.agent();
    const answer = await submitTask(w.deps, request(), unexpected);
    expect(answer).toEqual({
      task_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'pending',
      agent_id: '',
      created_at: w.clock.iso(),
      status_url: `/tasks/${answer.task_id}`,
    });
    expect(await w.tasks.get(answer.task_id)).toStrictEqual({
      task_id: answer.task_id,
      task_type: 'analyze_cost',
      agent_type: 'cost',
      priority: 5,
      timeout_seconds: 30,
      max_retries: 3,
      retry_delay_seconds: w.settings.retryBaseDelaySeconds,
      queue_timeout_seconds: w.settings.queueTimeoutSeconds,
      status: 'pending',
      created_at: w.clock.iso(),
      updated_at: w.clock.iso(),
      attempts: 0,
    });
    expect(await w.tasks.payload(answer.task_id)).toStrictEqual({ parameters: {}, metadata: {} });
    // What the starter needs for the first start, so that it neither reads nor writes the task.
    expect(w.queue.sent).toEqual([{ taskId: answer.task_id, priority: 5, firstStart: { workflow: 'standard', timeout_seconds: 30 } }]);
    expect(w.metrics.counts).toEqual([{ name: 'TasksSubmitted', agentType: 'cost', value: 1 }]);
  });

  it('keeps what the request sets, a retry delay of 0 included; a queue timeout of 0 means the default', async () => {
    await w.agent();
    const fields = { priority: 15, timeout_seconds: 120, max_retries: 0 };
    const payload = { parameters: { month: '2026-05' }, metadata: { team: 'finops' } };
    const { task_id } = await submitTask(
      w.deps,
      request({ ...fields, ...payload, retry_delay_seconds: 0, queue_timeout_seconds: 0 }),
      unexpected,
    );
    expect(await w.tasks.get(task_id)).toMatchObject({ ...fields, retry_delay_seconds: 0, queue_timeout_seconds: 300 });
    expect(await w.tasks.payload(task_id)).toStrictEqual(payload);
    const other = await submitTask(w.deps, request({ retry_delay_seconds: 30, queue_timeout_seconds: 60 }), unexpected);
    expect(await w.tasks.get(other.task_id)).toMatchObject({ retry_delay_seconds: 30, queue_timeout_seconds: 60 });
    expect(w.queue.sent.map((m) => m.priority)).toEqual([15, 5]);
  });

  it('refuses (503 no_capable_agent) when no agent of the type is registered, storing and enqueuing nothing', async () => {
    await w.agent({ type: 'security', capabilities: ['scan'] });
    const refusal = submitTask(w.deps, request(), unexpected);
    await expect(refusal).rejects.toBeInstanceOf(NoCapableAgentError);
    await expect(refusal).rejects.toMatchObject({
      status: 503,
      code: 'no_capable_agent',
      expose: true,
      message: expect.stringContaining('no agent of type "cost" is registered'),
    });
    expect((await w.tasks.list({ limit: 10 })).tasks).toEqual([]);
    expect(w.queue.sent).toEqual([]);
    expect(w.metrics.counts).toEqual([]);
  });

  it('refuses when the agents of the type offer other work, and says what they offer', async () => {
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000a', capabilities: ['forecast', 'budget'] });
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000b', capabilities: ['anomalies'] });
    await expect(submitTask(w.deps, request(), unexpected)).rejects.toMatchObject({
      status: 503,
      message: 'no registered "cost" agent offers "analyze_cost"; they offer anomalies, budget, forecast',
    });
  });

  it('names at most ten capabilities in the refusal, and how many more, however many agents offer', async () => {
    // Found by an attacker: 1 000 agents of 100 capabilities made this answer list 100 000 names in 6.6 MB.
    for (let a = 0; a < 30; a++)
      await w.agent({
        agent_id: `00000000-0000-5000-8000-${String(a).padStart(12, '0')}`,
        capabilities: Array.from({ length: 100 }, (_, c) => `cap-${String(a * 100 + c).padStart(4, '0')}`),
      });
    const refusal = await submitTask(w.deps, request(), unexpected).catch((err: Error) => err);
    expect(refusal).toMatchObject({ status: 503, code: 'no_capable_agent' });
    const message = (refusal as Error).message;
    expect(message).toContain('they offer cap-0000, cap-0001,');
    expect(message).toContain('cap-0009 and 2990 more');
    expect(message.length).toBeLessThan(400);
    const named = await w.agents.get('00000000-0000-5000-8000-000000000000');
    const one = await submitTask(w.deps, request({ agent_id: named!.agent_id }), unexpected).catch((err: Error) => err.message);
    expect(one).toContain('cap-0009 and 90 more');
  });

  it('refuses when the only agents were drained or unregistered; quiet agents are fine', async () => {
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000a' });
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000b' });
    await drainAgent(w.deps, '00000000-0000-5000-8000-00000000000a', undefined);
    await expect(submitTask(w.deps, request(), unexpected)).resolves.toMatchObject({ status: 'pending' });
    await unregisterAgent(w.deps, '00000000-0000-5000-8000-00000000000b', undefined);
    // b is draining but not yet forgotten: neither takes new work.
    await expect(submitTask(w.deps, request(), unexpected)).rejects.toMatchObject({ code: 'no_capable_agent' });

    // An agent that missed its heartbeats for ten minutes may come back: the task waits for it.
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000c' });
    w.clock.advance(600_000);
    await expect(submitTask(w.deps, request(), unexpected)).resolves.toMatchObject({ status: 'pending' });
  });

  it("reads only the type's capability summary: a capability whose last agent left unrefreshed is still accepted, and waits", async () => {
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000a' });
    const lists = vi.spyOn(w.agents, 'list');
    // The store alone drains the agent; the drain and unregister use cases also refresh the summary.
    await w.agents.markDraining('00000000-0000-5000-8000-00000000000a', Math.floor(w.clock.now() / 1000) + 60);
    await expect(submitTask(w.deps, request(), unexpected)).resolves.toMatchObject({ status: 'pending' });
    expect(lists).not.toHaveBeenCalled();
    await w.agents.refreshOffers('cost', w.clock.now());
    await expect(submitTask(w.deps, request(), unexpected)).rejects.toMatchObject({ code: 'no_capable_agent' });
  });

  it('never refuses a capability a live agent offers when the summary lost it, and rebuilds the summary', async () => {
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000a' });
    // A summary that lost a capability happens on AWS when a leave is rebuilt from an index that has
    // not yet shown a registration of the last seconds; the in-memory store cannot lag, so the stale
    // summary is stood in for here (the only stand-in in this file).
    const stale = vi.spyOn(w.agents, 'offeredBy').mockResolvedValueOnce({ capabilities: ['right_size'] });
    const refresh = vi.spyOn(w.agents, 'refreshOffers');
    await expect(submitTask(w.deps, request(), unexpected)).resolves.toMatchObject({ status: 'pending' });
    expect(stale).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith('cost', w.clock.now());
    expect(await w.agents.offeredBy('cost')).toEqual({ capabilities: ['analyze_cost'] });
    // And a refusal names what the registry offers, not what a stale summary said.
    await expect(submitTask(w.deps, request({ task_type: 'scan' }), unexpected)).rejects.toMatchObject({
      message: 'no registered "cost" agent offers "scan"; they offer analyze_cost',
    });
  });

  it("reads the agents themselves when the type's capabilities overflow one summary item", async () => {
    const names = (a: number) => Array.from({ length: 900 }, (_, c) => `${String(a)}-${String(c).padStart(4, '0')}`.padEnd(60, 'x'));
    for (let a = 0; a < 8; a++) await w.agent({ agent_id: `00000000-0000-5000-8000-00000000000${a}`, capabilities: names(a) });
    expect(await w.agents.offeredBy('cost')).toEqual({ overflow: true });
    await expect(submitTask(w.deps, request(), unexpected)).rejects.toMatchObject({ code: 'no_capable_agent' });
    await w.agent({ agent_id: '00000000-0000-5000-8000-00000000000a', capabilities: ['analyze_cost'] });
    await expect(submitTask(w.deps, request(), unexpected)).resolves.toMatchObject({ status: 'pending' });
  });

  it('a named agent must be registered (404), not forgotten (404), not draining (503), and offer the work (503)', async () => {
    const named = '00000000-0000-5000-8000-00000000000a';
    await expect(submitTask(w.deps, request({ agent_id: named }), unexpected)).rejects.toMatchObject({
      status: 404,
      code: 'agent_not_found',
    });
    await w.agent({ agent_id: named, type: 'security', capabilities: ['scan'] });
    await expect(submitTask(w.deps, request({ agent_id: named }), unexpected)).rejects.toMatchObject({
      status: 503,
      message: `agent ${named} is of type "security" and offers scan; it cannot run "analyze_cost" as a "cost" agent`,
    });
    await w.agent({ agent_id: named });
    await w.agents.markDraining(named, undefined);
    await expect(submitTask(w.deps, request({ agent_id: named }), unexpected)).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining('was unregistered and takes no new tasks'),
    });
    await w.agents.markDraining(named, Math.floor(w.clock.now() / 1000));
    await expect(submitTask(w.deps, request({ agent_id: named }), unexpected)).rejects.toBeInstanceOf(NotFoundError);
    expect(w.queue.sent).toEqual([]);
  });

  it('a named agent that offers the work is recorded as requested and as the task agent', async () => {
    const named = '00000000-0000-5000-8000-00000000000a';
    await w.agent({ agent_id: named });
    const answer = await submitTask(w.deps, request({ agent_id: named }), unexpected);
    expect(answer.agent_id).toBe(named);
    expect(await w.tasks.get(answer.task_id)).toMatchObject({ requested_agent_id: named, agent_id: named, status: 'pending' });
  });

  it('accepts the task when the queue cannot be reached, and hands the error over (the reconciler starts the task later)', async () => {
    await w.agent();
    const errors: unknown[] = [];
    const unreachable = new Error('queue unreachable');
    w.queue.failWith = unreachable;
    const answer = await submitTask(w.deps, request(), (err) => errors.push(err));
    expect(errors).toEqual([unreachable]);
    expect(await w.tasks.get(answer.task_id)).toMatchObject({ status: 'pending' });
    expect(w.queue.sent).toEqual([]);
  });
});

describe('getTask', () => {
  it('answers the hot copy from the cache when there is one', async () => {
    const t = await w.task({ status: 'running', attempts: 1 });
    const hot = { ...toStatusResponse(t), status: 'completed' as const, result: { total: 3 } };
    await w.cache.putResult(hot, 60);
    expect(await getTask(w.deps, t.task_id)).toEqual(hot);
  });

  it('answers from the store otherwise, as a status response, and again from the store once the hot copy expires', async () => {
    const t = await w.task({ status: 'sent', attempts: 2, agent_id: 'agent-1', started_at: w.clock.iso() });
    expect(await getTask(w.deps, t.task_id)).toStrictEqual(toStatusResponse(t));
    await w.cache.putResult({ ...toStatusResponse(t), status: 'completed' }, 60);
    w.clock.advance(60_000);
    expect(await getTask(w.deps, t.task_id)).toMatchObject({ status: 'sent', retry_count: 1, agent_id: 'agent-1' });
  });

  it('is a 404 task_not_found for an unknown task', async () => {
    await expect(getTask(w.deps, 'f0000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404, code: 'task_not_found' });
  });
});

describe('listTasks', () => {
  async function tasksOneMinuteApart(n: number, overrides: (i: number) => Partial<Task> = () => ({})): Promise<Task[]> {
    const made: Task[] = [];
    for (let i = 0; i < n; i++) {
      made.push(await w.task(overrides(i)));
      w.clock.advance(60_000);
    }
    return made;
  }

  it('lists task views newest first, 50 to a page unless told, with a next_token while more remain', async () => {
    const made = await tasksOneMinuteApart(51);
    const first = await listTasks(w.deps, {});
    expect(first.count).toBe(50);
    expect(first.tasks[0]!.task_id).toBe(made[50]!.task_id);
    expect(first.tasks[0]).toStrictEqual({
      ...toStatusResponse(made[50]!),
      parameters: {},
      metadata: {},
      timeout_seconds: 30,
      max_retries: 3,
      retry_delay_seconds: 5,
      queue_timeout_seconds: 300,
      updated_at: made[50]!.updated_at,
    });
    const last = await listTasks(w.deps, { next_token: first.next_token });
    expect(last).toStrictEqual({ tasks: [expect.objectContaining({ task_id: made[0]!.task_id })], count: 1 });
    expect('next_token' in last).toBe(false);
  });

  it('filters by status and by agent type, with limit', async () => {
    const made = await tasksOneMinuteApart(6, (i) => ({
      status: i % 2 === 0 ? 'queued' : 'sent',
      agent_type: i < 3 ? 'cost' : 'security',
    }));
    const queued = await listTasks(w.deps, { status: 'queued' });
    expect(queued.tasks.map((t) => t.task_id)).toEqual([made[4]!, made[2]!, made[0]!].map((t) => t.task_id));
    const security = await listTasks(w.deps, { agent_type: 'security', limit: 2 });
    expect(security.tasks.map((t) => t.task_id)).toEqual([made[5]!, made[4]!].map((t) => t.task_id));
    expect(security.next_token).toBeDefined();
    const both = await listTasks(w.deps, { status: 'sent', agent_type: 'cost' });
    expect(both.tasks.map((t) => t.task_id)).toEqual([made[1]!.task_id]);
  });
});

describe('cancelTask', () => {
  it('cancels an unfinished task once: stored cancelled, kept for the retention period, hot, counted, its execution stopped', async () => {
    const t = await w.task({ status: 'sent', attempts: 1, agent_id: 'agent-1', lease_until: w.clock.now() + 30_000 });
    w.clock.advance(1_000);
    expect(await cancelTask(w.deps, t.task_id)).toEqual({
      message: `task ${t.task_id} cancelled`,
      task_id: t.task_id,
      status: 'cancelled',
    });
    const stored = await w.tasks.get(t.task_id);
    expect(stored).toMatchObject({
      status: 'cancelled',
      error: 'cancelled by request',
      completed_at: w.clock.iso(),
      updated_at: w.clock.iso(),
      expires_at: Math.floor(w.clock.now() / 1000) + w.settings.taskRetentionDays * 86_400,
    });
    expect('lease_until' in stored!).toBe(false);
    expect(await w.cache.getResult(t.task_id)).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    expect(w.metrics.totals()).toEqual({ TasksCancelled: 1 });
    expect(w.workflow.stops).toEqual([{ name: t.task_id, reason: 'cancelled by request' }]);
  });

  it('a second cancel, or a cancel of a finished task, is a 409 task_already_finished naming the status; unknown is a 404', async () => {
    const t = await w.task();
    await cancelTask(w.deps, t.task_id);
    await expect(cancelTask(w.deps, t.task_id)).rejects.toMatchObject({
      status: 409,
      code: 'task_already_finished',
      message: `task ${t.task_id} already finished as "cancelled"; only unfinished tasks can be cancelled`,
    });
    const done = await w.task({ status: 'completed', attempts: 1 });
    await expect(cancelTask(w.deps, done.task_id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('already finished as "completed"'),
    });
    await expect(cancelTask(w.deps, 'f0000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      status: 404,
      code: 'task_not_found',
    });
    expect(w.metrics.totals()).toEqual({ TasksCancelled: 1 });
    expect(w.workflow.stops).toHaveLength(1);
  });

  it('a cancel that loses the race to a finish is a 409 naming the status that won', async () => {
    const t = await w.task({ status: 'running', attempts: 1 });
    const racing: TaskStore = Object.assign(Object.create(w.tasks) as TaskStore, {
      transition: async (...args: Parameters<TaskStore['transition']>) => {
        await w.tasks.transition(t.task_id, 'completed', { set: { result: 'won' } });
        return w.tasks.transition(...args);
      },
    });
    await expect(cancelTask({ ...w.deps, tasks: racing }, t.task_id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('already finished as "completed"'),
    });
    expect(w.workflow.stops).toEqual([]);
  });

  it('takes the task out of the waiting queue, and gives the slot handed to it to the task behind', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const ahead = await w.task({ priority: 10 });
    const behind = await w.task({ priority: 5 });
    const step = (t: { task_id: string }) => dispatchStep(w.stepDeps, { task_id: t.task_id, state_timeout_seconds: 50 });
    w.agentClient.answer(async () => {
      // While the occupant runs, both others look for an agent and park, `ahead` first: their executions end.
      for (const t of [ahead, behind]) expect(await step(t)).toMatchObject({ outcome: 'done', parked: true, status: 'queued' });
      return completed();
    });
    expect(await step(occupant)).toMatchObject({ status: 'completed' });
    // The freed slot went to `ahead`, which is started again; `behind` cannot take it meanwhile.
    expect(w.queue.drain()).toEqual([ahead.task_id]);
    expect(await step(behind)).toMatchObject({ outcome: 'done', parked: true });
    await cancelTask(w.deps, ahead.task_id);
    // The cancelled task's slot goes to the next waiter, which is started.
    expect(w.queue.drain()).toEqual([behind.task_id]);
    w.agentClient.answer(completed());
    expect(await step(behind)).toMatchObject({ outcome: 'done', status: 'completed' });
    expect(w.agentClient.deliveries.map((d) => d.request.task_id)).toEqual([occupant.task_id, behind.task_id]);
  });
});
