/**
 * `chooseAgent` (functions/app/choose-agent.ts) on the in-memory registry and cache, with a fake
 * clock: sampling in large fleets, and the registry snapshot never handing out an agent that
 * changed since it was read.
 */
import { task as fixtureTask } from '../../harness/fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseAgent, ROUTING_SAMPLE_SIZE } from '../../functions/app/choose-agent';
import { CachingAgentStore } from '../../functions/adapters/caching-agent-store';
import { MemoryAgentStore } from '../../functions/adapters/memory-agent-store';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import type { AgentRecord } from '../../functions/core/agent-model';
import type { Task } from '../../functions/core/task-model';
import { loadConfig } from '../../functions/composition/config';
import { FakeClock } from '../support/fake-clock';

const clock = new FakeClock(Date.parse('2026-06-15T12:00:00.000Z'));
const store = new MemoryAgentStore();
const cached = new CachingAgentStore(store, 60, clock);
const cache = new MemoryTaskCache(clock);
const settings = loadConfig({}).settings;
let counter = 0;

afterAll(async () => {
  await cache.close();
});

function record(type: string, i: number, maxConcurrency = 10): AgentRecord {
  const now = clock.iso();
  return {
    agent_id: `${type}-${i}`,
    name: `${type}-agent-${i}`,
    type,
    host: '10.0.0.1',
    port: 9000 + i,
    capabilities: ['work'],
    status: 'healthy',
    version: '1.0.0',
    max_concurrency: maxConcurrency,
    metadata: {},
    registered_at: now,
    last_heartbeat: now,
    in_flight: 0,
    signing_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    token_hash: '0'.repeat(64),
  };
}

/** Registers the agents as they are given (each record's registered_at is the registration time). */
async function put(records: AgentRecord[]): Promise<void> {
  for (const { registered_at, ...agent } of records)
    await store.register(agent, registered_at, (await store.get(agent.agent_id))?.token_hash ?? null);
}

function task(type: string): Task {
  const now = clock.iso();
  return fixtureTask({ task_id: `task-${++counter}`, task_type: 'work', agent_type: type, created_at: now, updated_at: now });
}

const deps = () => ({ agents: cached, cache, settings });

describe('chooseAgent in a large fleet', () => {
  it(`chooses among a random sample of ${ROUTING_SAMPLE_SIZE} when more agents offer the task, and says so`, async () => {
    await put(Array.from({ length: 100 }, (_, i) => record('wide', i)));
    const t = task('wide');
    const choice = await chooseAgent(deps(), t, clock.now(), clock.now() + 60_000);
    expect(choice.kind).toBe('chosen');
    if (choice.kind !== 'chosen') return;
    expect(choice.routing.reason).toContain(`sampled ${ROUTING_SAMPLE_SIZE} of 100 agents`);
    expect(choice.routing).toMatchObject({ candidates: ROUTING_SAMPLE_SIZE, eligible: ROUTING_SAMPLE_SIZE });
  });

  it('falls back to every agent when the sample has no free slot, so the one free agent is found', async () => {
    const now = clock.now();
    await put(Array.from({ length: 150 }, (_, i) => record('needle', i, 1)));
    // Fill every agent's only slot but one.
    for (let i = 0; i < 150; i++) {
      if (i === 77) continue;
      const res = await cache.acquireSlot({
        agentType: 'needle',
        pool: `fill-${i}`,
        taskId: `fill-${i}`,
        score: 0,
        nowMs: now,
        queueDeadlineMs: now + 600_000,
        token: 'fill',
        leaseUntilMs: now + 600_000,
        eligible: [{ agentId: `needle-${i}`, capacity: 1, tier: 0 }],
      });
      expect(res.kind).toBe('acquired');
    }
    for (let round = 0; round < 3; round++) {
      const t = task('needle');
      const choice = await chooseAgent(deps(), t, now, now + 60_000);
      expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('needle-77');
      if (choice.kind === 'chosen') await cache.releaseSlot({ agentId: 'needle-77', type: 'needle' }, choice.slot);
    }
    const full = await chooseAgent(deps(), task('needle'), now, now + 60_000);
    expect(full.kind === 'chosen').toBe(true);
    expect((await chooseAgent(deps(), task('needle'), now, now + 60_000)).kind).toBe('wait');
  });
});

describe('chooseAgent with a registry snapshot', () => {
  it('never hands out an agent drained after the snapshot was taken', async () => {
    await put([record('snap', 1), record('snap', 2)]);
    const first = await chooseAgent(deps(), task('snap'), clock.now(), clock.now() + 60_000);
    expect(first.kind).toBe('chosen');
    await store.markDraining('snap-1', undefined);
    for (let i = 0; i < 10; i++) {
      const t = task('snap');
      const choice = await chooseAgent(deps(), t, clock.now(), clock.now() + 60_000);
      expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('snap-2');
      if (choice.kind === 'chosen') await cache.releaseSlot({ agentId: 'snap-2', type: 'snap' }, choice.slot);
    }
    await store.markDraining('snap-2', undefined);
    const none = await chooseAgent(deps(), task('snap'), clock.now(), clock.now() + 60_000);
    expect(none).toMatchObject({ kind: 'wait', reason: expect.stringContaining('2 draining agents skipped') as unknown });
  });

  it('reads the table again before going back to an agent that failed the task, so a new agent gets it', async () => {
    await put([record('again', 1)]);
    expect((await chooseAgent(deps(), task('again'), clock.now(), clock.now() + 60_000)).kind).toBe('chosen');
    await put([record('again', 2)]);
    const retry = { ...task('again'), attempts: 1, failed_agents: ['again-1'] };
    const choice = await chooseAgent(deps(), retry, clock.now(), clock.now() + 60_000);
    expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('again-2');
  });

  it('does not read the table again while the agents are merely busy', async () => {
    let lists = 0;
    const counting = new CachingAgentStore(
      Object.assign(Object.create(store) as MemoryAgentStore, {
        list: async (type?: string) => {
          lists += 1;
          return store.list(type);
        },
      }),
      60,
      clock,
    );
    await put([record('busy', 1, 1)]);
    const now = clock.now();
    const first = await chooseAgent({ agents: counting, cache, settings }, task('busy'), now, now + 60_000);
    expect(first.kind).toBe('chosen');
    for (let i = 0; i < 5; i++)
      expect((await chooseAgent({ agents: counting, cache, settings }, task('busy'), now, now + 60_000)).kind).toBe('wait');
    expect(lists).toBe(1);
  });

  it('reads the table again when the snapshot has no agent for the task, so a new agent is found at once', async () => {
    expect(await chooseAgent(deps(), task('late'), clock.now(), clock.now() + 60_000)).toMatchObject({ kind: 'wait' });
    await put([record('late', 1)]);
    const choice = await chooseAgent(deps(), task('late'), clock.now(), clock.now() + 60_000);
    expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('late-1');
  });
});
