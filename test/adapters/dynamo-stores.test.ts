/**
 * The store contracts on DynamoTaskStore and DynamoAgentStore, over dynalite with the tables exactly
 * as the CDK app defines them (a fresh table per test); memory-stores.test.ts runs the same suites
 * on the in-memory stores. Then what only DynamoDB can do: an index that lists a task twice.
 */
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../functions/app/reconcile';
import { DynamoAgentStore } from '../../functions/adapters/dynamo-agent-store';
import { DynamoCallbackStore } from '../../functions/adapters/dynamo-callback-store';
import { DynamoTaskStore } from '../../functions/adapters/dynamo-task-store';
import { MemoryAgentStore } from '../../functions/adapters/memory-agent-store';
import { MemoryTaskCache } from '../../functions/adapters/memory-task-cache';
import { noMetrics } from '../../functions/app/deps';
import { noActivity } from '../../functions/core/activity';
import { loadConfig } from '../../functions/composition/config';
import type { TaskQueue } from '../../functions/core/ports';
import { TASKS_TABLE_KEYS, taskShard } from '../../functions/core/table-keys';
import { tempDir } from '../../harness/processes';
import { type DynamoStandIn, startDynamo } from '../../local/stand-ins/dynamodb';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { tablesFromTemplate } from '../../local/template/tables';
import { task as fixtureTask } from '../../harness/fixtures';
import { startDynamoProcess } from '../support/start-dynamo-process';
import { describeAgentStoreContract } from './agent-store-contract';
import { describeAttemptLogContract } from './attempt-log-contract';
import { describeCallbackStoreContract } from './callback-store-contract';
import { describeTaskStoreContract } from './task-store-contract';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: DynamoStandIn;
let ddb: DynamoDBClient;
let tasksTable: CreateTableCommandInput;
let agentsTable: CreateTableCommandInput;
let run = 0;

/** As the composition root makes it. */
const docOf = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });

beforeAll(async () => {
  const tables = tablesFromTemplate(await synthesizedTemplate());
  const byKey = (key: string) => tables.find((t) => t.input.KeySchema?.[0]?.AttributeName === key)!.input;
  tasksTable = byKey(TASKS_TABLE_KEYS.partitionKey);
  agentsTable = byKey('agent_id');
  dynamo = await startDynamo();
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
}, 120_000);

afterAll(async () => {
  ddb?.destroy();
  await dynamo?.stop();
});

/** A table as the stack defines it, once ACTIVE (dynalite answers CREATING until its next tick, as AWS does). */
async function createTable(client: DynamoDBClient, input: CreateTableCommandInput, TableName: string): Promise<string> {
  await client.send(new CreateTableCommand({ ...input, TableName }));
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { TableName });
  return TableName;
}

describeTaskStoreContract({
  name: 'DynamoTaskStore (dynalite)',
  make: async (clock) => new DynamoTaskStore(docOf(ddb), await createTable(ddb, tasksTable, `tasks-${++run}`), clock),
});

describeAttemptLogContract({
  name: 'DynamoTaskStore (dynalite)',
  make: async (clock) => new DynamoTaskStore(docOf(ddb), await createTable(ddb, tasksTable, `tasks-${++run}`), clock),
});

describeCallbackStoreContract({
  name: 'DynamoCallbackStore (dynalite)',
  make: async (clock) => {
    const table = await createTable(ddb, tasksTable, `tasks-${++run}`);
    return { tasks: new DynamoTaskStore(docOf(ddb), table, clock), callbacks: new DynamoCallbackStore(docOf(ddb), table) };
  },
});

describeAgentStoreContract({
  name: 'DynamoAgentStore (dynalite)',
  make: async () => new DynamoAgentStore(docOf(ddb), await createTable(ddb, agentsTable, `agents-${++run}`)),
});

describe('DynamoTaskStore when the indexes list a task as both unfinished and finished', () => {
  const NOW = Date.parse('2026-11-30T12:00:00.000Z');
  const clock = { now: () => NOW };
  const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

  // The indexes may list a task in both `open` and `finished`: for a moment on DynamoDB (indexes are
  // eventually consistent), and locally after a kill between dynalite's index and item writes,
  // which is how this test makes it (index writes stall, the process is killed, then restarted).
  it('reconcile requeues such a task once, and listings show it once', async () => {
    const data = tempDir('reconcile-dynamo-');
    const requeued: string[] = [];
    const queue: TaskQueue = { enqueue: async (taskId) => void requeued.push(taskId), enqueueCallback: async () => undefined };
    let child = await startDynamoProcess(data.dir, { STALL_WRITES_MATCHING: '^item-' });
    let client: DynamoDBClient | undefined;
    try {
      client = new DynamoDBClient({ endpoint: child.endpoint, region: 'us-east-1', credentials });
      const table = await createTable(client, tasksTable, tasksTable.TableName!);
      let tasks = new DynamoTaskStore(docOf(client), table);
      await tasks.create(
        fixtureTask({ task_id: 'twice', status: 'sent', created_at: ago(601), updated_at: ago(600), attempts: 1, lease_until: NOW - 1000 }),
      );
      child.proc.child.kill('SIGUSR2');
      await child.proc.waitFor(/^stalling$/m);
      // The terminal write moves the index entry from `open` to `finished`; the item write hangs, so the item stays 'sent'.
      const { open, finished } = TASKS_TABLE_KEYS;
      const update = docOf(client)
        .send(
          new UpdateCommand({
            TableName: table,
            Key: { task_id: 'twice' },
            UpdateExpression: 'SET #s = :s, #finished = :shard REMOVE #open',
            ExpressionAttributeNames: { '#s': 'status', '#finished': finished.partitionKey, '#open': open.partitionKey },
            ExpressionAttributeValues: { ':s': 'completed', ':shard': taskShard('twice') },
          }),
          { abortSignal: AbortSignal.timeout(20_000) },
        )
        .catch(() => undefined);
      const underFinished = () =>
        docOf(client!).send(
          new QueryCommand({
            TableName: table,
            IndexName: finished.name,
            KeyConditionExpression: '#s = :s',
            ExpressionAttributeNames: { '#s': finished.partitionKey },
            ExpressionAttributeValues: { ':s': taskShard('twice') },
          }),
        );
      while (((await underFinished()).Items ?? []).length === 0) await new Promise((r) => setTimeout(r, 20));
      await child.proc.stop('SIGKILL');
      await update;
      client.destroy();

      // The restart lists the item in `open` again; the entry in `finished` stays.
      child = await startDynamoProcess(data.dir);
      client = new DynamoDBClient({ endpoint: child.endpoint, region: 'us-east-1', credentials });
      // Two items: the task and its payload (which no index lists).
      await child.proc.waitFor(/^recovery \{"items":2,"restored":1\}$/m);
      tasks = new DynamoTaskStore(docOf(client), table, clock);
      expect(((await underFinished()).Items ?? []).map((i) => String(i.task_id))).toEqual(['twice']);
      expect((await tasks.list({ limit: 10 })).tasks.map((t) => `${t.task_id} ${t.status}`)).toEqual(['twice sent']);
      expect((await tasks.list({ status: 'completed', limit: 10 })).tasks).toEqual([]);

      const rest = { settings: loadConfig({}).settings, metrics: noMetrics, activity: noActivity, agents: new MemoryAgentStore() };
      expect(await reconcile({ tasks, queue, clock, cache: new MemoryTaskCache(), ...rest }, 0)).toEqual({
        requeued: 1,
        task_ids: ['twice'],
        overdue: 0,
        lost_wake_ups: 0,
        attempts_ended: 0,
      });
      expect(requeued).toEqual(['twice']);
    } finally {
      client?.destroy();
      await child.proc.stop('SIGKILL');
      data.remove();
    }
  }, 60_000);
});
