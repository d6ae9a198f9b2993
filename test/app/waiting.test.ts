/**
 * Waiting without polling (functions/app/dispatch.ts, wake-waiters.ts, reconcile.ts) on the
 * in-memory stores and cache and a fake clock: a task that finds no free slot parks and its
 * execution ends; whoever frees capacity (a finished attempt, a new agent, a heartbeat) starts the
 * first waiter through the intake queue; the reconciler drives only what nothing else will.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import { heartbeat, registerAgent } from '../../functions/app/agents';
import { dispatchStep } from '../../functions/app/dispatch';
import { reconcile } from '../../functions/app/reconcile';
import { startTask } from '../../functions/app/start-task';
import type { StepResult } from '../../functions/app/workflow-step';
import { registerAgentRequestSchema } from '@optiinfra/contract';
import type { Task } from '../../functions/core/task-model';
import { WAKE_RESERVATION_MS } from '../../functions/core/waiting-queue';
import { completed, type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world();
});

const step = (t: Pick<Task, 'task_id'>): Promise<StepResult> => dispatchStep(w.stepDeps, { task_id: t.task_id, state_timeout_seconds: 50 });
const parked = { outcome: 'done', parked: true, status: 'queued' };

/** Runs `occupant` on the agent; while it works, `during` runs; then it completes. */
async function runWhile(occupant: Task, during: () => Promise<void>): Promise<void> {
  w.agentClient.answer(async () => {
    await during();
    return completed();
  });
  expect(await step(occupant)).toMatchObject({ status: 'completed' });
}

describe('waiting for a free agent', () => {
  it('parks tasks while the agent is full: their executions end, nothing polls, nothing is started', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiters = [await w.task(), await w.task(), await w.task()];
    w.agentClient.answer(async () => {
      for (const t of waiters) expect(await step(t)).toEqual({ ...parked, delay_seconds: 0, attempts: 0, fault_count: 0, loop: 1 });
      // However long they wait, nothing is started while nothing frees.
      w.clock.advance(120_000);
      expect(w.queue.sent).toEqual([]);
      return completed();
    });
    await step(occupant);
    // The finished attempt starts exactly one waiter: the oldest.
    expect(w.queue.drain()).toEqual([waiters[0]!.task_id]);
  });

  it('reports the tasks waiting per agent type when one parks and when a parked one starts, and nothing otherwise', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiters = [await w.task(), await w.task()];
    await runWhile(occupant, async () => {
      for (const t of waiters) await step(t);
    });
    expect(w.metrics.gauges).toEqual([
      { name: 'WaitingTasks', value: 1, agentType: 'cost' },
      { name: 'WaitingTasks', value: 2, agentType: 'cost' },
    ]);
    expect(w.queue.drain()).toEqual([waiters[0]!.task_id]);
    w.agentClient.answer(completed());
    await step(waiters[0]!);
    expect(w.metrics.gauges.at(-1)).toEqual({ name: 'WaitingTasks', value: 1, agentType: 'cost' });
  });

  it('wakes the highest priority first, then the oldest, one per freed slot, and each takes the slot handed to it', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const oldLow = await w.task({ priority: 1 });
    w.clock.advance(1_000);
    const normal1 = await w.task({ priority: 5, queued_at: w.clock.iso() });
    w.clock.advance(1_000);
    const normal2 = await w.task({ priority: 5, queued_at: w.clock.iso() });
    w.clock.advance(1_000);
    const critical = await w.task({ priority: 15, queued_at: w.clock.iso() });
    await runWhile(occupant, async () => {
      for (const t of [oldLow, normal1, normal2, critical]) expect(await step(t)).toMatchObject(parked);
    });
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [woken, ...more] = w.queue.sent.splice(0);
      expect(more).toEqual([]);
      order.push(woken!.taskId);
      w.agentClient.answer(completed());
      expect(await step({ task_id: woken!.taskId })).toMatchObject({ status: 'completed' });
    }
    expect(order).toEqual([critical.task_id, normal1.task_id, normal2.task_id, oldLow.task_id]);
    expect(w.agentClient.deliveries.map((d) => d.request.task_id)).toEqual([occupant.task_id, ...order]);
  });

  it('a woken task keeps its slot against a newcomer of higher priority, and its start may run on Express', async () => {
    w = world({ workflowMode: 'auto' });
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiter = await w.task();
    await runWhile(occupant, async () => {
      expect(await step(waiter)).toMatchObject(parked);
    });
    expect(w.queue.drain()).toEqual([waiter.task_id]);
    const newcomer = await w.task({ priority: 15 });
    expect(await step(newcomer)).toMatchObject(parked);
    // The starter starts the woken task (no attempt in flight): on Express, as a first start.
    await startTask(w.deps, waiter.task_id);
    expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'express', name: waiter.task_id });
    w.agentClient.answer(completed());
    expect(await step(waiter)).toMatchObject({ status: 'completed' });
    expect(w.queue.drain()).toEqual([newcomer.task_id]);
  });

  it('a new agent, and a heartbeat of one whose slot was never released, wake waiters', async () => {
    w.hosts.set('cost-2.internal', ['10.0.1.13']);
    const busy = await w.agent({ max_concurrency: 1 });
    // A dispatcher took the agent's only slot for 30 s and died: nobody will release it.
    const held = await w.cache.acquireSlot({
      agentType: 'cost',
      pool: 'cost:analyze_cost',
      taskId: 'lost-attempt',
      score: 0,
      nowMs: w.clock.now(),
      leaseUntilMs: w.clock.now() + 30_000,
      queueDeadlineMs: w.clock.now() + 300_000,
      token: 'x',
      eligible: [{ agentId: busy.agent_id, capacity: 1, tier: 0 }],
    });
    expect(held?.kind).toBe('acquired');
    const first = await w.task();
    const second = await w.task();
    for (const t of [first, second]) expect(await step(t)).toMatchObject(parked);
    // A second agent registers: it takes the first waiter at once.
    const request = registerAgentRequestSchema.parse({
      name: 'cost-2',
      type: 'cost',
      host: 'cost-2.internal',
      port: 8080,
      capabilities: ['analyze_cost'],
      max_concurrency: 1,
    });
    await registerAgent(w.deps, request);
    expect(w.queue.drain()).toEqual([first.task_id]);
    // Before the dead attempt's lease ends, a heartbeat frees nothing; after, it hands the slot on.
    await heartbeat(w.deps, busy.agent_id, {}, undefined);
    expect(w.queue.drain()).toEqual([]);
    w.clock.advance(30_000);
    await heartbeat(w.deps, busy.agent_id, {}, undefined);
    expect(w.queue.drain()).toEqual([second.task_id]);
  });

  it('a circuit that closes after its probe wakes waiters for the capacity it gives back', async () => {
    const agent = await w.agent({ max_concurrency: 2 });
    // The circuit's cool-down is over: half-open, one probe at a time.
    await w.cache.setCircuit(
      { agentId: agent.agent_id, type: 'cost' },
      { openedAtMs: w.clock.now() - 60_000, openUntilMs: w.clock.now() - 1, trips: 1 },
    );
    const probe = await w.task();
    const [w1, w2] = [await w.task(), await w.task()];
    await runWhile(probe, async () => {
      for (const t of [w1, w2]) expect(await step(t)).toMatchObject(parked);
    });
    // The probe's slot went to the first waiter; the closed circuit's second slot to the next.
    expect(w.queue.drain()).toEqual([w1.task_id, w2.task_id].sort());
    expect(w.metrics.total('CircuitsClosed')).toBe(1);
  });

  it('fails a parked task once its queue timeout has passed, with the error it always had, and leaves the queue', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiter = await w.task({ queue_timeout_seconds: 20 });
    const behind = await w.task();
    w.agentClient.answer(async () => {
      for (const t of [waiter, behind]) expect(await step(t)).toMatchObject(parked);
      w.clock.advance(19_999);
      expect((await reconcile(w.deps, 120)).requeued).toBe(0);
      w.clock.advance(1);
      // The reconciler's sweep starts it again (once), and its step fails it.
      expect(await reconcile(w.deps, 120)).toMatchObject({ requeued: 1, task_ids: [waiter.task_id], overdue: 1 });
      expect((await reconcile(w.deps, 120)).requeued).toBe(0);
      expect(w.queue.drain()).toEqual([waiter.task_id]);
      expect(await step(waiter)).toMatchObject({ outcome: 'done', status: 'failed', attempts: 0 });
      return completed();
    });
    await step(occupant);
    expect(await w.tasks.get(waiter.task_id)).toMatchObject({
      status: 'failed',
      error:
        'no agent became available within the queue timeout of 20 s (every eligible agent of type "cost" with capability "analyze_cost" is at its max_concurrency); add or free agents, or submit with a longer queue_timeout_seconds',
    });
    // It left the queue: the freed slot goes to the task behind it.
    expect(w.queue.drain()).toEqual([behind.task_id]);
  });

  it('never drives a parked task from the reconciler, however long it waits', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiter = await w.task({ queue_timeout_seconds: 3600 });
    await runWhile(occupant, async () => {
      expect(await step(waiter)).toMatchObject(parked);
      w.clock.advance(600_000);
      expect((await reconcile(w.deps, 120)).task_ids).not.toContain(waiter.task_id);
      // Not at start-up either: no execution drives it, and none needs to.
      expect((await reconcile(w.deps, 0)).task_ids).not.toContain(waiter.task_id);
    });
  });

  it('drives parked tasks again once they are stale when the cache has lost them', async () => {
    await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiter = await w.task({ queue_timeout_seconds: 3600 });
    await runWhile(occupant, async () => {
      expect(await step(waiter)).toMatchObject(parked);
    });
    w.queue.drain();
    // The cache restarts empty: nothing knows the task waits but the task table.
    const emptied = { ...w.deps, cache: new MemoryTaskCache(w.clock) };
    w.clock.advance(119_000);
    expect((await reconcile(emptied, 120)).task_ids).not.toContain(waiter.task_id);
    w.clock.advance(1_000);
    expect((await reconcile(emptied, 120)).task_ids).toContain(waiter.task_id);
  });

  it('recovers a lost wake-up once the reservation ends, and the task is delivered once', async () => {
    const agent = await w.agent({ max_concurrency: 1 });
    const occupant = await w.task();
    const waiter = await w.task({ queue_timeout_seconds: 3600 });
    await runWhile(occupant, async () => {
      expect(await step(waiter)).toMatchObject(parked);
      // The wake-up message will not get through.
      w.queue.failWith = new Error('SQS unavailable');
    });
    expect(w.queue.sent).toEqual([]);
    expect(w.metrics.total('WakeUpsNotSent')).toBe(1);
    // While its slot is reserved, the reconciler does not drive it (its wake-up may still come)...
    w.clock.advance(WAKE_RESERVATION_MS - 1);
    expect((await reconcile(w.deps, 120)).requeued).toBe(0);
    // ...then it does, once.
    w.clock.advance(1);
    expect(await reconcile(w.deps, 120)).toMatchObject({ requeued: 1, task_ids: [waiter.task_id], lost_wake_ups: 1 });
    expect((await reconcile(w.deps, 120)).requeued).toBe(0);
    expect(w.queue.drain()).toEqual([waiter.task_id]);
    // (The agent heartbeats meanwhile; the slot that had been reserved is free again, so it is handed again.)
    await heartbeat(w.deps, agent.agent_id, {}, undefined);
    w.agentClient.answer(completed());
    expect(await step(waiter)).toMatchObject({ status: 'completed', attempts: 1 });
    // A late duplicate start finds it finished.
    expect(await step(waiter)).toMatchObject({ outcome: 'done', status: 'completed' });
    expect(w.agentClient.deliveries.map((d) => d.request.task_id)).toEqual([occupant.task_id, waiter.task_id]);
  });
});
