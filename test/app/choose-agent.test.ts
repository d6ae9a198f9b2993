/**
 * `chooseAgent` (functions/app/choose-agent.ts) against dynalite and the in-process cache: sampling in
 * large fleets, and the registry snapshot never handing out an agent that changed since it was read.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseAgent, ROUTING_SAMPLE_SIZE } from '../../functions/app/choose-agent';
import { CachingAgentStore } from '../../functions/adapters/caching-agent-store';
import { DynamoAgentStore } from '../../functions/adapters/dynamo-agent-store';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import type { AgentRecord } from '../../functions/core/agent-model';
import type { Task } from '../../functions/core/task-model';
import { loadConfig } from '../../functions/composition/config';
import { type DynamoStandIn, startDynamo } from '../../local/stand-ins/dynamodb';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { tablesFromTemplate } from '../../local/template/tables';

let dynamo: DynamoStandIn;
let doc: DynamoDBDocumentClient;
let table: string;
let store: DynamoAgentStore;
let cached: CachingAgentStore;
const cache = new MemoryTaskCache();
const settings = loadConfig({}).settings;
let counter = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
  const ddb = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const agents = tablesFromTemplate(await synthesizedTemplate()).find((t) => t.input.KeySchema?.[0]?.AttributeName === 'agent_id')!;
  await ddb.send(new CreateTableCommand(agents.input));
  table = agents.input.TableName!;
  store = new DynamoAgentStore(doc, table);
  cached = new CachingAgentStore(store, 60);
}, 60_000);

afterAll(async () => {
  await cache.close();
  await dynamo?.stop();
});

function record(type: string, i: number, maxConcurrency = 10): AgentRecord {
  const now = new Date().toISOString();
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

async function put(records: AgentRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({ RequestItems: { [table]: records.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }),
    );
  }
}

function task(type: string): Task {
  const now = new Date().toISOString();
  return {
    task_id: `task-${++counter}`,
    task_type: 'work',
    agent_type: type,
    priority: 5,
    parameters: {},
    metadata: {},
    timeout_seconds: 30,
    max_retries: 3,
    status: 'pending',
    created_at: now,
    updated_at: now,
    attempts: 0,
  };
}

const deps = () => ({ agents: cached, cache, settings });

describe('chooseAgent in a large fleet', () => {
  it(`chooses among a random sample of ${ROUTING_SAMPLE_SIZE} when more agents offer the task, and says so`, async () => {
    await put(Array.from({ length: 100 }, (_, i) => record('wide', i)));
    const t = task('wide');
    const choice = await chooseAgent(deps(), t, Date.now(), Date.now() + 60_000);
    expect(choice.kind).toBe('chosen');
    if (choice.kind !== 'chosen') return;
    expect(choice.routing.reason).toContain(`sampled ${ROUTING_SAMPLE_SIZE} of 100 agents`);
    expect(choice.routing).toMatchObject({ candidates: ROUTING_SAMPLE_SIZE, eligible: ROUTING_SAMPLE_SIZE });
  });

  it('falls back to every agent when the sample has no free slot, so the one free agent is found', async () => {
    const now = Date.now();
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
        staleMs: 60_000,
        leaseUntilMs: now + 600_000,
        eligible: [{ agentId: `needle-${i}`, capacity: 1, tier: 0 }],
      });
      expect(res.kind).toBe('acquired');
    }
    for (let round = 0; round < 3; round++) {
      const t = task('needle');
      const choice = await chooseAgent(deps(), t, now, now + 60_000);
      expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('needle-77');
      await cache.releaseSlot({ agentId: 'needle-77', type: 'needle' }, t.task_id);
    }
    const full = await chooseAgent(deps(), task('needle'), now, now + 60_000);
    expect(full.kind === 'chosen').toBe(true);
    expect((await chooseAgent(deps(), task('needle'), now, now + 60_000)).kind).toBe('wait');
  });
});

describe('chooseAgent with a registry snapshot', () => {
  it('never hands out an agent drained after the snapshot was taken', async () => {
    await put([record('snap', 1), record('snap', 2)]);
    const first = await chooseAgent(deps(), task('snap'), Date.now(), Date.now() + 60_000);
    expect(first.kind).toBe('chosen');
    await store.markDraining('snap-1', undefined);
    for (let i = 0; i < 10; i++) {
      const t = task('snap');
      const choice = await chooseAgent(deps(), t, Date.now(), Date.now() + 60_000);
      expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('snap-2');
      await cache.releaseSlot({ agentId: 'snap-2', type: 'snap' }, t.task_id);
    }
    await store.markDraining('snap-2', undefined);
    const none = await chooseAgent(deps(), task('snap'), Date.now(), Date.now() + 60_000);
    expect(none).toMatchObject({ kind: 'wait', reason: expect.stringContaining('2 draining agents skipped') as unknown });
  });

  it('reads the table again before going back to an agent that failed the task, so a new agent gets it', async () => {
    await put([record('again', 1)]);
    expect((await chooseAgent(deps(), task('again'), Date.now(), Date.now() + 60_000)).kind).toBe('chosen');
    await put([record('again', 2)]);
    const retry = { ...task('again'), attempts: 1, failed_agents: ['again-1'] };
    const choice = await chooseAgent(deps(), retry, Date.now(), Date.now() + 60_000);
    expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('again-2');
  });

  it('does not read the table again while the agents are merely busy', async () => {
    let lists = 0;
    const counting = new CachingAgentStore(
      Object.assign(Object.create(store) as DynamoAgentStore, {
        list: async (type?: string) => {
          lists += 1;
          return store.list(type);
        },
      }),
      60,
    );
    await put([record('busy', 1, 1)]);
    const now = Date.now();
    const first = await chooseAgent({ agents: counting, cache, settings }, task('busy'), now, now + 60_000);
    expect(first.kind).toBe('chosen');
    for (let i = 0; i < 5; i++)
      expect((await chooseAgent({ agents: counting, cache, settings }, task('busy'), now, now + 60_000)).kind).toBe('wait');
    expect(lists).toBe(1);
  });

  it('reads the table again when the snapshot has no agent for the task, so a new agent is found at once', async () => {
    expect(await chooseAgent(deps(), task('late'), Date.now(), Date.now() + 60_000)).toMatchObject({ kind: 'wait' });
    await put([record('late', 1)]);
    const choice = await chooseAgent(deps(), task('late'), Date.now(), Date.now() + 60_000);
    expect(choice.kind === 'chosen' && choice.agent.agent_id).toBe('late-1');
  });
});
