/**
 * `reconcile` (functions/app/reconcile.ts): which unfinished tasks go back on the intake queue, read
 * through the status index of a dynalite Tasks table and sent to a fauxqs queue.
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../functions/app/reconcile';
import { DynamoTaskStore } from '../../functions/adapters/dynamo-task-store';
import { SqsTaskQueue } from '../../functions/adapters/sqs-task-queue';
import type { TaskStatus } from '../../functions/core/task-model';
import { tablesFromTemplate } from '../../local/stand-ins/asl-from-template';
import { type DynamoStandIn, startDynamo } from '../../local/stand-ins/dynamodb';
import { type SqsStandIn, startSqs } from '../../local/stand-ins/sqs';
import { synthesizeTemplate } from '../../local/synthesized-template';
import { task as fixtureTask } from '../core/fixtures';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: DynamoStandIn;
let sqsServer: SqsStandIn;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let queueUrl: string;
let tasks: DynamoTaskStore;
let queue: SqsTaskQueue;
let run = 0;
const NOW = Date.parse('2026-11-30T12:00:00.000Z');
const clock = { now: () => NOW };

beforeAll(async () => {
  dynamo = await startDynamo();
  sqsServer = await startSqs();
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  sqs = new SQSClient({ endpoint: sqsServer.endpoint, region: 'us-east-1', credentials, useQueueUrlAsEndpoint: false });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'intake' }))).QueueUrl!;
  queue = new SqsTaskQueue(sqs, queueUrl);
}, 60_000);

const tasksTable = tablesFromTemplate(synthesizeTemplate()).find((t) => t.input.KeySchema?.[0]?.AttributeName === 'task_id')!.input;
const docOf = (client: DynamoDBClient) => DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** A Tasks table as the stack defines it, once ACTIVE (dynalite answers CREATING until its next tick, as AWS does). */
async function createTable(client: DynamoDBClient, TableName: string): Promise<void> {
  await client.send(new CreateTableCommand({ ...tasksTable, TableName }));
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { TableName });
}

// A fresh table per test, so each sees only its own tasks.
beforeEach(async () => {
  const TableName = `tasks-${++run}`;
  await createTable(ddb, TableName);
  tasks = new DynamoTaskStore(docOf(ddb), TableName);
  await drainQueue();
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  ddb?.destroy();
  await sqsServer?.stop();
  await dynamo?.stop();
});

/** Every task id on the intake queue (and empties it). */
async function drainQueue(): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return ids.sort();
    ids.push(...messages.map((m) => (JSON.parse(m.Body!) as { task_id: string }).task_id));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

async function stored(id: string, status: TaskStatus, options: { updatedSecondsAgo: number; leaseUntil?: number }): Promise<void> {
  const task = fixtureTask({
    task_id: id,
    status,
    created_at: ago(options.updatedSecondsAgo + 1),
    updated_at: ago(options.updatedSecondsAgo),
    attempts: status === 'pending' || status === 'queued' ? 0 : 1,
    ...(options.leaseUntil === undefined ? {} : { lease_until: options.leaseUntil }),
  });
  await tasks.create(task);
}

describe('reconcile', () => {
  it('requeues unfinished tasks nothing has touched for the stale time and whose lease is over; leaves the rest alone', async () => {
    await stored('stale-pending', 'pending', { updatedSecondsAgo: 600 });
    await stored('stale-sent', 'sent', { updatedSecondsAgo: 600, leaseUntil: NOW - 1000 });
    await stored('stale-retrying', 'retrying', { updatedSecondsAgo: 600 });
    await stored('fresh-queued', 'queued', { updatedSecondsAgo: 10 });
    await stored('leased-running', 'running', { updatedSecondsAgo: 600, leaseUntil: NOW + 60_000 });
    await stored('old-completed', 'completed', { updatedSecondsAgo: 600 });
    await stored('old-failed', 'failed', { updatedSecondsAgo: 600 });

    const out = await reconcile({ tasks, queue, clock }, 120);

    expect(out.requeued).toBe(3);
    expect([...out.task_ids].sort()).toEqual(['stale-pending', 'stale-retrying', 'stale-sent']);
    expect(await drainQueue()).toEqual(['stale-pending', 'stale-retrying', 'stale-sent']);
  });

  it('at start-up (stale time 0) requeues every unfinished task, fresh and leased ones too, and no finished one', async () => {
    await stored('fresh-queued', 'queued', { updatedSecondsAgo: 1 });
    await stored('leased-running', 'running', { updatedSecondsAgo: 1, leaseUntil: NOW + 60_000 });
    await stored('done', 'completed', { updatedSecondsAgo: 1 });

    expect((await reconcile({ tasks, queue, clock }, 0)).requeued).toBe(2);
    expect(await drainQueue()).toEqual(['fresh-queued', 'leased-running']);
  });

  it('a crowd of fresh tasks in one status hides no stale task in another', async () => {
    for (let i = 0; i < 30; i++) await stored(`fresh-${String(i).padStart(2, '0')}`, 'queued', { updatedSecondsAgo: 5 });
    await stored('stale-sent', 'sent', { updatedSecondsAgo: 600, leaseUntil: NOW - 1000 });

    // A budget of 10 that the 30 queued tasks would fill if they were read.
    expect((await reconcile({ tasks, queue, clock }, 120, 10)).task_ids).toEqual(['stale-sent']);
    expect(await drainQueue()).toEqual(['stale-sent']);
  });

  it('each status has its own budget', async () => {
    for (let i = 0; i < 4; i++) await stored(`stale-pending-${i}`, 'pending', { updatedSecondsAgo: 600 });
    for (let i = 0; i < 4; i++) await stored(`stale-retrying-${i}`, 'retrying', { updatedSecondsAgo: 600 });

    const out = await reconcile({ tasks, queue, clock }, 120, 2);
    expect(out.requeued).toBe(4);
    expect((await drainQueue()).map((id) => id.replace(/-\d$/, ''))).toEqual([
      'stale-pending',
      'stale-pending',
      'stale-retrying',
      'stale-retrying',
    ]);
  });
});
