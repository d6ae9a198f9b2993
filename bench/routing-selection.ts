/**
 * Benchmark: choosing an agent for a task among 10, 1 000 and 10 000 registered agents of one type
 * (all offering the capability: the worst case), with the production code path `chooseAgent`
 * (functions/app/choose-agent.ts) against dynalite and a real redis-server.
 *
 *   npm run bench:routing                 # sizes 10, 1000, 10000
 *   npm run bench:routing -- 10 100       # other sizes
 *
 * Each agent gets a random load of 0-5 of its 10 slots and a fresh heartbeat. Printed per size:
 * - `choose`: the production path (p50 / p95 / mean): the dispatcher's registry snapshot (re-read
 *   every REGISTRY_CACHE_SECONDS, so the first call of a run pays for it), a random sample of 64
 *   agents when more offer the task, the re-read of the chosen agent;
 * - the same steps over ALL agents without snapshot or sampling (p50), to show what those save:
 *   the registry read (DynamoDB Query), the cache reads (liveness, load, circuits), the pure
 *   planning, and the atomic slot script.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { inFlightOf } from '../functions/app/live-agents';
import { chooseAgent } from '../functions/app/choose-agent';
import { CachingAgentStore } from '../functions/adapters/caching-agent-store';
import { DynamoAgentStore } from '../functions/adapters/dynamo-agent-store';
import { cacheKeys } from '../functions/adapters/redis-cache-keys';
import { RedisTaskCache } from '../functions/adapters/redis-task-cache';
import { agentStatus, type AgentRecord } from '../functions/core/agent-model';
import { circuitState } from '../functions/core/circuit-breaker';
import { planRouting } from '../functions/core/routing';
import { loadConfig } from '../functions/composition/config';
import { task as fixtureTask } from '../harness/fixtures';
import { startDynamo } from '../local/stand-ins/dynamodb';
import { startRedis } from '../local/stand-ins/redis-launcher';
import { synthesizedTemplate } from '../local/template/synthesize';
import { LOCAL_AWS, LOCAL_CREDENTIALS, provisionTables } from '../local/provision';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const SIZES = sizes.length > 0 ? sizes : [10, 1_000, 10_000];

function iterationsFor(n: number): number {
  return n <= 100 ? 200 : n <= 1_000 ? 60 : 15;
}

function stats(samples: number[]): { p50: number; p95: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), mean: samples.reduce((x, y) => x + y, 0) / samples.length };
}

const ms = (v: number) => v.toFixed(2).padStart(9);

async function time<T>(samples: number[], op: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const out = await op();
  samples.push(performance.now() - start);
  return out;
}

async function main(): Promise<void> {
  const redisServer = await startRedis();
  if (redisServer.kind === 'none') throw new Error('the benchmark needs redis-server on PATH (apt-get install -y redis-server)');
  const dynamo = await startDynamo();
  const tables = await provisionTables(await synthesizedTemplate(), dynamo.endpoint);
  const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_AWS.region, credentials: LOCAL_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });

  const raw = new Redis(redisServer.url);
  const cache = RedisTaskCache.fromUrl(redisServer.url, { warn: (m) => console.error(m), fallback: () => undefined });
  const settings = loadConfig({}).settings;
  const store = new DynamoAgentStore(doc, tables.agents);
  const deps = { agents: new CachingAgentStore(store, settings.registryCacheSeconds), cache, settings };

  console.log(
    `choosing an agent: node ${process.version}, ${redisServer.kind === 'spawned' ? 'redis-server (spawned)' : 'redis'} ${redisServer.url}, dynalite (in memory)`,
  );
  console.log('                 production path          |   every agent, no snapshot, no sample (p50)');
  console.log('agents  iters |   choose p50   p95    mean |  registry     | cache reads     |  plan     | slot script       (ms)');
  for (const n of SIZES) {
    const type = `bench${n}`;
    const now = Date.now();
    const records: AgentRecord[] = Array.from({ length: n }, (_, i) => ({
      agent_id: `${type}-${String(i).padStart(5, '0')}`,
      name: `agent-${i}`,
      type,
      host: '10.0.0.1',
      port: 10_000 + (i % 50_000),
      capabilities: ['work', 'other'],
      status: 'healthy',
      version: '1.0.0',
      max_concurrency: 10,
      metadata: {},
      registered_at: new Date(now).toISOString(),
      last_heartbeat: new Date(now).toISOString(),
      in_flight: 0,
      signing_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      token_hash: '0'.repeat(64),
    }));
    for (let i = 0; i < records.length; i += 25) {
      await doc.send(
        new BatchWriteCommand({
          RequestItems: { [tables.agents]: records.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
    const fill = raw.pipeline();
    for (const r of records) {
      fill.set(cacheKeys.heartbeat(r.agent_id), JSON.stringify({ lastHeartbeatMs: now + 3_600_000, reportedInFlight: 0 }), 'EX', 3600);
      const load = Math.floor(Math.random() * 6);
      for (let k = 0; k < load; k++) fill.zadd(cacheKeys.pending(type, r.agent_id), now + 3_600_000, `busy-${k}`);
    }
    await fill.exec();

    const choose: number[] = [];
    const registry: number[] = [];
    const reads: number[] = [];
    const plan: number[] = [];
    const script: number[] = [];
    const iterations = iterationsFor(n);
    for (let i = 0; i < iterations; i++) {
      const at = Date.now();
      const iso = new Date(at).toISOString();
      const task = fixtureTask({ task_id: `bench-task-${n}-${i}`, task_type: 'work', agent_type: type, created_at: iso, updated_at: iso });
      const choice = await time(choose, () => chooseAgent(deps, task, at, at + 60_000));
      if (choice.kind !== 'chosen') throw new Error(`no agent chosen among ${n}: ${choice.reason}`);
      await cache.releaseSlot({ agentId: choice.agent.agent_id, type }, choice.slot);

      // The same steps one by one, to show where the time goes.
      const listed = await time(registry, () => deps.agents.list(type));
      const keys = listed.map((a) => ({ agentId: a.agent_id, type }));
      const [liveness, leases, circuits] = await time(reads, () =>
        Promise.all([cache.getLiveness(keys.map((k) => k.agentId)), cache.inFlight(keys, at), cache.circuits(keys, at, 60_000, false)]),
      );
      const planned = await time(plan, () =>
        planRouting(
          listed.map((agent) => ({
            agent,
            status: agentStatus(agent, at, settings.heartbeatIntervalSeconds, liveness?.get(agent.agent_id)),
            inFlight: inFlightOf(agent, liveness?.get(agent.agent_id), leases),
            circuit: circuitState(circuits?.get(agent.agent_id)?.open, at),
          })),
          { agentType: type, capability: 'work' },
        ),
      );
      if (planned.kind !== 'try') throw new Error(`unexpected plan ${planned.kind}`);
      const slotTask = `${task.task_id}-slot`;
      const answer = await time(script, () =>
        cache.acquireSlot({
          agentType: type,
          pool: `${type}:work`,
          taskId: slotTask,
          score: 0,
          nowMs: at,
          leaseUntilMs: at + 60_000,
          queueDeadlineMs: at + 60_000,
          token: 'bench',
          eligible: planned.eligible.map(({ agentId, capacity, tier }) => ({ agentId, capacity, tier })),
        }),
      );
      if (answer?.kind !== 'acquired') throw new Error(`slot script did not acquire: ${answer?.kind}`);
      await cache.releaseSlot({ agentId: answer.agentId, type }, answer.slot);
    }
    const c = stats(choose);
    console.log(
      `${String(n).padStart(6)} ${String(iterations).padStart(6)} | ${ms(c.p50)} ${ms(c.p95)} ${ms(c.mean)} | ${ms(stats(registry).p50)}     | ${ms(stats(reads).p50)}       | ${ms(stats(plan).p50)} | ${ms(stats(script).p50)}`,
    );
  }

  await cache.close();
  raw.disconnect();
  ddb.destroy();
  await dynamo.stop();
  await redisServer.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
