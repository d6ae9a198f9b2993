/**
 * Routing under load and failure, end to end: `npm start`'s entry point as a real process with a real
 * redis-server, and real agent processes (examples/fault-agent.ts) that log every delivery with the
 * number of tasks they were running when it arrived. Each test uses its own agent type.
 */
import { describe, expect, it } from 'vitest';
import { isTerminal, waitForTask, waitForTasks } from '../../harness/local-orchestrator';
import { waitForWorkflowEnd } from '../../harness/workflow';
import { routingOrchestrator } from './routing-fixture';
import { call } from '../support/checked-call';

const fixture = routingOrchestrator();
const { agent, submit, agentView, until } = fixture;

// Every test has its own agent type and its own agents, and its assertions are about those alone:
// the suites below run at once. The circuit breaker's test runs in its own file (circuit-breaker.test.ts).
describe.concurrent('capacity and selection', () => {
  it('spreads 9 one-second tasks over 3 equal agents 3/3/3 (±1), and records why each agent was chosen', async () => {
    const fleet = await Promise.all(
      ['a', 'b', 'c'].map((n) => agent({ mode: 'slow', delayMs: 1000, type: 'spread3', name: `spread3-${n}` })),
    );
    const ids = await Promise.all(Array.from({ length: 9 }, () => submit({ task_type: 'work', agent_type: 'spread3', max_retries: 0 })));
    const done = await waitForTasks(fixture.orch().url, ids, isTerminal);
    expect(done.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
    // Counted once no execution is left that could deliver a task again.
    await waitForWorkflowEnd(fixture.orch(), ids);
    const counts = fleet.map((a) => a.deliveries().length);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(9);
    for (const n of counts) expect(n, `deliveries per agent: ${counts.join('/')}`).toBeGreaterThanOrEqual(2);
    for (const n of counts) expect(n, `deliveries per agent: ${counts.join('/')}`).toBeLessThanOrEqual(4);

    const routing = done[0]!.routing as {
      agent_id: string;
      reason: string;
      candidates: number;
      eligible: number;
      load_seen: Array<{ agent_id: string; in_flight: number }>;
    };
    expect(routing.agent_id).toBe(done[0]!.agent_id);
    expect(routing).toMatchObject({
      candidates: 3,
      eligible: 3,
      reason: expect.stringMatching(/^least loaded of 3 eligible agents/) as unknown,
    });
    expect(routing.load_seen.map((l) => l.agent_id).sort()).toEqual(fleet.map((a) => a.id).sort());
    expect(routing.load_seen[0]!.agent_id).toBe(routing.agent_id);
  });

  it('never has more than max_concurrency 2 tasks at once on an agent under a burst of 20', async () => {
    const pair = await agent({ mode: 'slow', delayMs: 300, type: 'cap2', maxConcurrency: 2 });
    const ids = await Promise.all(
      Array.from({ length: 20 }, () => submit({ task_type: 'work', agent_type: 'cap2', max_retries: 0, queue_timeout_seconds: 60 })),
    );
    const done = await waitForTasks(fixture.orch().url, ids, isTerminal, 60_000);
    expect(done.map((t) => [t.status, t.attempts])).toEqual(ids.map(() => ['completed', 1]));
    await waitForWorkflowEnd(fixture.orch(), ids);
    const seen = pair.deliveries();
    expect(seen).toHaveLength(20);
    const most = Math.max(...seen.map((d) => d.concurrent));
    expect(most, 'the agent held more tasks at once than its max_concurrency').toBeLessThanOrEqual(2);
    expect(most, 'the burst should have filled both slots').toBe(2);
    // Slots are released as answers come in (the agent's own heartbeat report may lag by an interval).
    await until(
      'the agent shows no task in flight',
      () => agentView(pair.id),
      (a) => a.in_flight === 0,
      10_000,
    );
  });
});

describe.concurrent('priority under saturation', () => {
  it('dispatches a critical task submitted after three low ones before them, and the low ones first come first served', async () => {
    const single = await agent({ mode: 'slow', delayMs: 800, type: 'single', maxConcurrency: 1 });
    // The first task is held 5 s, not 800 ms: on a loaded machine the agent answered it before the
    // pause below took effect, and the first low task, woken by that answer, got the slot before the
    // critical one was even submitted.
    const first = await submit({ task_type: 'work', agent_type: 'single', timeout_seconds: 30, parameters: { delay_ms: 5_000 } });
    await waitForTask(fixture.orch().url, first, (t) => t.status === 'sent');
    // The agent holds the first task until it is resumed: however slowly the machine accepts the
    // tasks below, its only slot stays taken until they all wait for it.
    await single.waitForDeliveries(1);
    single.signal('SIGSTOP');
    expect(single.answers(), 'the agent answered the first task before it was paused').toEqual([]);
    const low: string[] = [];
    let critical: string;
    try {
      for (let i = 0; i < 3; i++) {
        low.push(await submit({ task_type: 'work', agent_type: 'single', priority: 1, timeout_seconds: 30 }));
        // Parked before the next is submitted (its execution ends once it waits in the cache), so first
        // come, first served is well defined, and a slot freed later goes by the waiters' order alone.
        await waitForWorkflowEnd(fixture.orch(), low[i]!);
      }
      critical = await submit({ task_type: 'work', agent_type: 'single', priority: 15, timeout_seconds: 30 });
      await waitForWorkflowEnd(fixture.orch(), critical);
    } finally {
      single.signal('SIGCONT');
    }
    const done = await waitForTasks(fixture.orch().url, [first, ...low, critical], isTerminal, 30_000);
    expect(done.map((t) => t.status)).toEqual(done.map(() => 'completed'));
    expect(single.deliveries().map((d) => d.task_id)).toEqual([first, critical, ...low]);
  });

  it('fails a task whose only agent stays saturated once its queue timeout passes, saying no agent became available', async () => {
    const busy = await agent({ mode: 'hang', type: 'saturated', maxConcurrency: 1 });
    const blocker = await submit({ task_type: 'work', agent_type: 'saturated', timeout_seconds: 30, max_retries: 0 });
    await waitForTask(fixture.orch().url, blocker, (t) => t.status === 'sent');
    const started = Date.now();
    const waiting = await submit({ task_type: 'work', agent_type: 'saturated', max_retries: 0, queue_timeout_seconds: 3 });
    const done = await waitForTask(fixture.orch().url, waiting, isTerminal, 20_000);
    expect(done).toMatchObject({ status: 'failed', attempts: 0 });
    expect(String(done.error)).toContain('no agent became available within the queue timeout of 3 s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    // Its execution has ended: it cannot be sent anywhere any more.
    await waitForWorkflowEnd(fixture.orch(), waiting);
    expect(busy.deliveries().map((d) => d.task_id)).toEqual([blocker]);
    expect((await call(fixture.orch().url, 'DELETE', `/tasks/${blocker}`)).status).toBe(200);
  });
});

describe.concurrent('retries that help', () => {
  it('completes a task on a second agent after the first fails, without going back to the first while the second is healthy', async () => {
    const failing = await agent({ mode: 'fail500', type: 'affinity', name: 'affinity-failing' });
    const healthy = await agent({ mode: 'slow', delayMs: 1500, type: 'affinity', name: 'affinity-healthy', maxConcurrency: 1 });
    // Keep the healthy agent's only slot busy, so the first attempt goes to the failing agent: it
    // holds the blocker (paused) until that attempt has failed, however slowly it comes. Held 5 s,
    // so that it is still held when the pause takes effect on a loaded machine.
    const blocker = await submit({ task_type: 'work', agent_type: 'affinity', agent_id: healthy.id, parameters: { delay_ms: 5_000 } });
    await waitForTask(fixture.orch().url, blocker, (t) => t.status === 'sent');
    await healthy.waitForDeliveries(1);
    healthy.signal('SIGSTOP');
    expect(healthy.answers(), 'the healthy agent answered the blocker before it was paused').toEqual([]);
    let id = '';
    try {
      id = await submit({ task_type: 'work', agent_type: 'affinity', max_retries: 3, retry_delay_seconds: 1 });
      await failing.waitForAnswer(id, 1);
    } finally {
      healthy.signal('SIGCONT');
    }
    const done = await waitForTask(fixture.orch().url, id, isTerminal, 30_000);
    expect(done).toMatchObject({ status: 'completed', agent_id: healthy.id, attempts: 2 });
    expect(done.routing).toMatchObject({
      attempt: 2,
      agent_id: healthy.id,
      reason: expect.stringContaining('1 agent that failed this task before left out') as unknown,
    });
    // One delivery to the failing agent (the first attempt); the retry waited for the busy healthy agent instead.
    expect(failing.deliveries().filter((d) => d.task_id === id)).toHaveLength(1);
    expect(healthy.deliveries().map((d) => d.task_id)).toEqual([blocker, id]);
  });

  it('does not retry a failure the agent marks not retryable', async () => {
    const rejecting = await agent({ mode: 'reject', type: 'rejecting' });
    const id = await submit({ task_type: 'work', agent_type: 'rejecting', max_retries: 3 });
    const done = await waitForTask(fixture.orch().url, id, isTerminal);
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(String(done.error)).toContain('marked not retryable');
    // The agent's answer went out, and the task's execution has ended: no retry can come any more.
    expect(await rejecting.waitForAnswer(id, 1)).toMatchObject({ outcome: 'not retryable', aborted: null });
    await waitForWorkflowEnd(fixture.orch(), id);
    expect(rejecting.deliveries()).toHaveLength(1);
  });

  it("honours an agent's Retry-After (503 when it is full), without counting it against the agent", async () => {
    // Registered for 3 at once but refusing above 1: while the first task runs, the orchestrator sends
    // the second and is told to come back in 1 s, as often as the agent is still full.
    const choosy = await agent({ mode: 'slow', delayMs: 2000, type: 'choosy', maxConcurrency: 3, refuseAbove: 1 });
    const work = () => submit({ task_type: 'work', agent_type: 'choosy', max_retries: 5, retry_delay_seconds: 0 });
    const first = await work();
    await waitForTask(fixture.orch().url, first, (t) => t.status === 'sent');
    const second = await work();
    const done = await waitForTasks(fixture.orch().url, [first, second], isTerminal, 30_000);
    expect(done.map((t) => t.status)).toEqual(['completed', 'completed']);
    expect(done[0]!.attempts).toBe(1);
    const retried = done[1]!;
    expect(retried.attempts).toBeGreaterThanOrEqual(2);
    const [refusedAt, acceptedAt] = [
      Date.parse(String(retried.started_at)),
      Date.parse(String((retried.routing as { decided_at: string }).decided_at)),
    ];
    expect(acceptedAt - refusedAt, 'the retry came sooner than the agent asked').toBeGreaterThanOrEqual(
      1000 * (Number(retried.attempts) - 1),
    );
    expect((await agentView(choosy.id)).circuit).toMatchObject({ state: 'closed', recent_failures: 0 });
  });
});

describe.concurrent('passive health and draining', () => {
  it('sends a drained agent no new tasks while the one it holds finishes', async () => {
    const leaving = await agent({ mode: 'slow', delayMs: 1500, type: 'drain', name: 'drain-leaving' });
    const staying = await agent({ mode: 'ok', type: 'drain', name: 'drain-staying' });
    const held = await submit({ task_type: 'work', agent_type: 'drain', agent_id: leaving.id });
    await waitForTask(fixture.orch().url, held, (t) => t.status === 'sent');
    // Only the agent holds its token, so it drains itself (the fault agent does on SIGUSR2).
    expect((await call(fixture.orch().url, 'POST', `/agents/${leaving.id}/drain`)).status).toBe(401);
    await leaving.drain();
    expect((await agentView(leaving.id)).status).toBe('draining');
    const ids = await Promise.all(Array.from({ length: 4 }, () => submit({ task_type: 'work', agent_type: 'drain' })));
    const done = await waitForTasks(fixture.orch().url, [held, ...ids], isTerminal);
    expect(done.map((t) => [t.status, t.agent_id])).toEqual([['completed', leaving.id], ...ids.map(() => ['completed', staying.id])]);
    expect(leaving.deliveries().map((d) => d.task_id)).toEqual([held]);
    expect((await agentView(leaving.id)).status).toBe('draining');
  });

  it('retries at once elsewhere the tasks of an agent killed (SIGKILL) while it works on them', async () => {
    const doomed = await agent({ mode: 'slow', delayMs: 5_000, type: 'killed', name: 'killed-doomed' });
    const ids = await Promise.all(
      Array.from({ length: 2 }, () =>
        submit({ task_type: 'work', agent_type: 'killed', timeout_seconds: 30, max_retries: 2, retry_delay_seconds: 0 }),
      ),
    );
    await waitForTasks(fixture.orch().url, ids, (t) => t.status === 'sent');
    // Killed once it has read both: `sent` is written as the request goes out.
    await doomed.waitForDeliveries(2);
    const survivor = await agent({ mode: 'ok', type: 'killed', name: 'killed-survivor' });
    const killedAt = Date.now();
    doomed.proc.child.kill('SIGKILL');
    const done = await waitForTasks(fixture.orch().url, ids, isTerminal, 30_000);
    expect(done.map((t) => [t.status, t.agent_id, t.attempts])).toEqual(ids.map(() => ['completed', survivor.id, 2]));
    // The connection reset ended the attempts: nobody waited for the 30 s attempt timeout.
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(
      doomed
        .deliveries()
        .map((d) => d.task_id)
        .sort(),
    ).toEqual([...ids].sort());
  });

  it('retries the tasks of an agent that stops heartbeating elsewhere after their attempt timeout, and frees its slots', async () => {
    const dying = await agent({ mode: 'hang', type: 'death', name: 'death-dying' });
    const ids = await Promise.all(
      Array.from({ length: 3 }, () =>
        submit({ task_type: 'work', agent_type: 'death', timeout_seconds: 6, max_retries: 2, retry_delay_seconds: 0 }),
      ),
    );
    await waitForTasks(fixture.orch().url, ids, (t) => t.status === 'sent');
    expect((await agentView(dying.id)).in_flight).toBe(3);
    // Frozen once it has read all three: on a loaded machine it had read one when it was frozen.
    await dying.waitForDeliveries(3);
    // Frozen: no heartbeats, no answers, connections left open.
    dying.signal('SIGSTOP');
    const heir = await agent({ mode: 'ok', type: 'death', name: 'death-heir' });
    const done = await waitForTasks(fixture.orch().url, ids, isTerminal, 30_000);
    expect(done.map((t) => [t.status, t.agent_id, t.attempts])).toEqual(ids.map(() => ['completed', heir.id, 2]));
    const gone = await until(
      'the frozen agent turns unhealthy with its slots freed',
      () => agentView(dying.id),
      (a) => a.status === 'unhealthy' && a.in_flight === 0,
      30_000,
    );
    expect(gone).toMatchObject({ status: 'unhealthy', in_flight: 0 });
    expect(
      dying
        .deliveries()
        .map((d) => d.task_id)
        .sort(),
    ).toEqual([...ids].sort());
  });
});
