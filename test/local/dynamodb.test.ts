import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  paginateQuery,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamo } from '../../local/stand-ins/dynamodb';
import type { Proc } from '../../harness/processes';
import { startDynamoProcess } from '../support/start-dynamo-process';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function clientFor(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  cleanups.push(() => client.destroy());
  return client;
}

const table = {
  TableName: 'Things',
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' as const }],
  BillingMode: 'PAY_PER_REQUEST' as const,
};

/** As on AWS, a new table is CREATING first; dynalite makes it ACTIVE on the next timer tick. */
async function createTable(ddb: DynamoDBClient): Promise<void> {
  await ddb.send(new CreateTableCommand(table));
  const deadline = Date.now() + 2000;
  while ((await ddb.send(new DescribeTableCommand({ TableName: table.TableName }))).Table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error('table not ACTIVE in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('startDynamo', () => {
  it('serves DynamoDB on 127.0.0.1, with a new table ACTIVE at once', async () => {
    const dynamo = await startDynamo();
    cleanups.push(() => dynamo.stop());
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ddb = clientFor(dynamo.endpoint);
    await createTable(ddb);
    await ddb.send(new PutItemCommand({ TableName: 'Things', Item: { id: { S: 'a' } } }));
    expect((await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { id: { S: 'a' } } }))).Item).toEqual({ id: { S: 'a' } });
  });

  it('keeps tables and items on disk across a restart with the same path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dynamo-stand-in-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const first = await startDynamo({ path: dir });
    const ddb1 = clientFor(first.endpoint);
    await createTable(ddb1);
    await ddb1.send(new PutItemCommand({ TableName: 'Things', Item: { id: { S: 'kept' }, n: { N: '42' } } }));
    ddb1.destroy();
    await first.stop();

    const second = await startDynamo({ path: dir });
    cleanups.push(() => second.stop());
    const item = await clientFor(second.endpoint).send(new GetItemCommand({ TableName: 'Things', Key: { id: { S: 'kept' } } }));
    expect(item.Item).toEqual({ id: { S: 'kept' }, n: { N: '42' } });
  });
});

describe('startDynamo after the process was killed', () => {
  const jobs = {
    TableName: 'Jobs',
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
    AttributeDefinitions: [
      { AttributeName: 'id', AttributeType: 'S' as const },
      { AttributeName: 'state', AttributeType: 'S' as const },
      { AttributeName: 'created', AttributeType: 'S' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'by-state',
        KeySchema: [
          { AttributeName: 'state', KeyType: 'HASH' as const },
          { AttributeName: 'created', KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
  const ITEMS = 20;

  async function startChild(dir: string, env: Record<string, string> = {}): Promise<{ proc: Proc; ddb: DynamoDBClient }> {
    const { proc, endpoint } = await startDynamoProcess(dir, env);
    cleanups.push(() => proc.stop('SIGKILL'));
    return { proc, ddb: clientFor(endpoint) };
  }

  async function listedUnder(ddb: DynamoDBClient, state: string): Promise<string[]> {
    const ids: string[] = [];
    const query = {
      TableName: 'Jobs',
      IndexName: 'by-state',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':s': { S: state } },
    };
    for await (const page of paginateQuery({ client: ddb }, query)) ids.push(...(page.Items ?? []).map((i) => i.id!.S!));
    return ids.sort();
  }

  // dynalite deletes an item's old index entries, writes the new ones, then writes the item: a kill
  // in between leaves an item its index does not list (in the chaos run, a task that no status
  // listing, and so no reconciler, could find). The test stalls the index writes so the kill lands there.
  it('lists every item in its index again, though the kill fell between the index writes and the item write', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dynamo-killed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let { proc, ddb } = await startChild(dir, { STALL_WRITES_MATCHING: '^index-' });
    await ddb.send(new CreateTableCommand(jobs));
    // CREATING until dynalite's next tick, as on AWS.
    await waitUntilTableExists({ client: ddb, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { TableName: jobs.TableName });
    const ids = Array.from({ length: ITEMS }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries())
      await ddb.send(new PutItemCommand({ TableName: 'Jobs', Item: { id: { S: id }, state: { S: 'a' }, created: { S: String(i) } } }));
    expect(await listedUnder(ddb, 'a')).toEqual(ids);

    proc.child.kill('SIGUSR2');
    await proc.waitFor(/^stalling$/m);
    const moved = ids.slice(0, 10);
    const updates = moved.map((id) =>
      ddb
        .send(
          new UpdateItemCommand({
            TableName: 'Jobs',
            Key: { id: { S: id } },
            UpdateExpression: 'SET #s = :s',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':s': { S: 'b' } },
          }),
          { abortSignal: AbortSignal.timeout(20_000) },
        )
        .catch(() => undefined),
    );
    // Each update has deleted its entry under 'a' and hangs writing the one under 'b'.
    while ((await listedUnder(ddb, 'a')).length > ITEMS - moved.length) await new Promise((r) => setTimeout(r, 20));
    await proc.stop('SIGKILL');
    await Promise.all(updates);

    ({ proc, ddb } = await startChild(dir));
    const recovery = JSON.parse((await proc.waitFor(/^recovery (.+)$/m))[1]!) as unknown;
    expect(recovery).toEqual({ items: ITEMS, restored: moved.length });
    // The updates never wrote their items, so every item is still in 'a', and listed there again.
    const items = (await ddb.send(new ScanCommand({ TableName: 'Jobs', ConsistentRead: true }))).Items ?? [];
    expect(items.map((i) => i.state!.S)).toEqual(ids.map(() => 'a'));
    expect(await listedUnder(ddb, 'a')).toEqual(ids);
    expect(await listedUnder(ddb, 'b')).toEqual([]);

    // A clean stop leaves nothing to mend. The child prints `recovery` right after `endpoint`, before
    // it serves anything: once it has answered a request (and the test has read what came before
    // the answer), the line would be here.
    await proc.stop('SIGTERM');
    ({ proc, ddb } = await startChild(dir));
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(['Jobs']);
    await new Promise((r) => setImmediate(r));
    expect(proc.output()).not.toMatch(/^recovery /m);
  }, 60_000);
});
