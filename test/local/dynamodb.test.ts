import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamo } from '../../local/stand-ins/dynamodb';

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
