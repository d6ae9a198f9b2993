/**
 * What POST /tasks reads of the registry, on DynamoAgentStore over dynalite with the agents table as
 * the CDK app defines it: one small item per submit, however many agents the type has, and a
 * capability accepted as soon as its agent's registration is answered. The document client is the
 * real one, with a middleware that records each command and the capacity it consumed.
 */
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerAgent } from '../../functions/app/agents';
import { submitTask } from '../../functions/app/tasks';
import { DynamoAgentStore } from '../../functions/adapters/dynamo-agent-store';
import { INDEX_LAG_MS } from '../../functions/adapters/dynamo-type-offers';
import type { AgentRecord } from '../../functions/core/agent-model';
import { registerAgentRequestSchema } from '@optiinfra/contract';
import { agentRecord } from '../../harness/fixtures';
import { type DynamoStandIn, startDynamo } from '../../local/stand-ins/dynamodb';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { tablesFromTemplate } from '../../local/template/tables';
import { world } from '../app/world';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: DynamoStandIn;
let ddb: DynamoDBClient;
let agentsTable: CreateTableCommandInput;
let run = 0;
const clients: DynamoDBClient[] = [];

interface Sent {
  command: string;
  capacity: number;
}
let sent: Sent[];

beforeAll(async () => {
  const tables = tablesFromTemplate(await synthesizedTemplate());
  agentsTable = tables.find((t) => t.input.KeySchema?.[0]?.AttributeName === 'agent_id')!.input;
  dynamo = await startDynamo();
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  ddb?.destroy();
  await dynamo?.stop();
});

/** As the composition root makes it (on its own client), plus a middleware recording each command and its consumed capacity. */
function recordingDoc(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  clients.push(client);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      sent.push({ command: String(context.commandName), capacity: consumed?.CapacityUnits ?? Number.NaN });
      return out;
    },
    { step: 'initialize', name: 'recordCapacity' },
  );
  return doc;
}

async function newStore(): Promise<DynamoAgentStore> {
  const TableName = `agents-offers-${++run}`;
  await ddb.send(new CreateTableCommand({ ...agentsTable, TableName }));
  await waitUntilTableExists({ client: ddb, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { TableName });
  return new DynamoAgentStore(recordingDoc(), TableName);
}

function registration(overrides: Partial<AgentRecord>): Omit<AgentRecord, 'registered_at'> {
  const { registered_at: _registered, ...rest } = agentRecord(overrides);
  return rest;
}

const request = {
  task_type: 'analyze_cost',
  agent_type: 'cost',
  priority: 5,
  parameters: {},
  metadata: {},
  timeout_seconds: 60,
  max_retries: 0,
};
const unexpected = (err: unknown) => {
  throw err;
};

beforeEach(() => {
  sent = [];
});

describe("submit's registry read", () => {
  it('is one read of at most one capacity unit, the same for 1 agent of the type as for 200', async () => {
    const w = world();
    const store = await newStore();
    const deps = { ...w.deps, agents: store };
    const readsOfOneSubmit = async (): Promise<Sent[]> => {
      sent = [];
      await expect(submitTask(deps, request, unexpected)).resolves.toMatchObject({ status: 'pending' });
      return [...sent];
    };
    // Every agent offers many capabilities, as a large fleet's do: the old whole-type query read them all.
    const capabilities = ['analyze_cost', ...Array.from({ length: 9 }, (_, c) => `capability-${c}`)];
    await store.register(registration({ agent_id: 'agent-0000', capabilities }), w.clock.iso(), null);
    const withOne = await readsOfOneSubmit();
    for (let a = 1; a < 200; a++)
      await store.register(registration({ agent_id: `agent-${String(a).padStart(4, '0')}`, capabilities }), w.clock.iso(), null);
    expect(await store.list('cost')).toHaveLength(200);
    const withMany = await readsOfOneSubmit();

    expect(withMany).toEqual(withOne);
    expect(withMany.map((s) => s.command)).toEqual(['GetItemCommand']);
    expect(withMany[0]!.capacity).toBeLessThanOrEqual(1);
  });

  it('accepts a capability whose agent registered a moment ago, through the register use case', async () => {
    const w = world();
    const store = await newStore();
    const deps = { ...w.deps, agents: store };
    await expect(submitTask(deps, request, unexpected)).rejects.toMatchObject({ status: 503, code: 'no_capable_agent' });
    await store.register(registration({ agent_id: 'old', capabilities: ['forecast'] }), w.clock.iso(), null);
    await expect(submitTask(deps, request, unexpected)).rejects.toMatchObject({
      status: 503,
      message: 'no registered "cost" agent offers "analyze_cost"; they offer forecast',
    });
    w.clock.advance(60_000);
    const fresh = registerAgentRequestSchema.parse({
      name: 'fresh',
      type: 'cost',
      host: '10.0.1.20',
      port: 8080,
      capabilities: ['analyze_cost'],
    });
    await registerAgent(deps, fresh, undefined);
    await expect(submitTask(deps, request, unexpected)).resolves.toMatchObject({ status: 'pending' });
    // Another agent of the type leaves just after: its refresh leaves the summary alone, since
    // DynamoDB's index may not show the new agent yet (dynalite's always does: this checks the rule only).
    const old = (await store.markDraining('old', undefined))!;
    await store.refreshOffers('cost', w.clock.now() + INDEX_LAG_MS - 1, old);
    expect(await store.offeredBy('cost')).toEqual({ capabilities: ['analyze_cost', 'forecast'] });
    await store.refreshOffers('cost', w.clock.now() + INDEX_LAG_MS, old);
    expect(await store.offeredBy('cost')).toEqual({ capabilities: ['analyze_cost'] });
    // An agent that leaves right after its own registration, the type's last: what only it offered
    // goes at once; what it shares with an agent the index lists stays.
    const brief = registration({ agent_id: 'brief', capabilities: ['analyze_cost', 'brief-only'] });
    await store.register(brief, w.clock.iso(), null);
    const left = (await store.markDraining('brief', Math.floor(w.clock.now() / 1000) + 60))!;
    await store.refreshOffers('cost', w.clock.now(), left);
    expect(await store.offeredBy('cost')).toEqual({ capabilities: ['analyze_cost'] });
  });
});
