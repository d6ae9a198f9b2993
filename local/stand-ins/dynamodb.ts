import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type AttributeValue,
  DescribeTableCommand,
  DynamoDBClient,
  paginateListTables,
  paginateScan,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { listen } from './listen';

export interface DynamoOptions {
  /** Folder for the LevelDB store, kept across restarts; in memory when absent. */
  path?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

/** What start-up found and mended after a run that did not stop cleanly. */
export interface DynamoRecovery {
  /** Items read. */
  items: number;
  /** Items written again because an index lacked their entry. */
  restored: number;
}

export interface DynamoStandIn {
  endpoint: string;
  /** Set when the last process on this path was killed rather than stopped. */
  recovery?: DynamoRecovery;
  stop(): Promise<void>;
}

/** Present while a process has the store open; left behind by one that was killed. */
const OPEN_MARKER = 'stand-in-open';

/**
 * DynamoDB on 127.0.0.1 through dynalite, in this process. It has no transactions, no PartiQL and
 * never expires items by TTL, so code that runs on it must filter expired items when it reads.
 *
 * dynalite writes an item and its index entries as separate LevelDB writes (old index entries
 * deleted, new ones put, then the item), so a process killed between them leaves an item that its
 * secondary index no longer lists: an unfinished task no listing or reconciler finds. DynamoDB's indexes are only
 * late, never lossy, so after such a kill the stand-in writes those items again before serving.
 */
export async function startDynamo(options: DynamoOptions = {}): Promise<DynamoStandIn> {
  const marker = options.path ? path.join(options.path, OPEN_MARKER) : undefined;
  if (options.path) mkdirSync(options.path, { recursive: true });
  const killedLastTime = marker !== undefined && existsSync(marker);
  // Tables are ACTIVE at once; dynalite's default 500 ms in CREATING would fail the first write.
  const server = dynalite({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.port);
  const endpoint = `http://127.0.0.1:${port}`;
  let recovery: DynamoRecovery | undefined;
  try {
    if (killedLastTime) recovery = await restoreIndexEntries(endpoint);
  } catch (err) {
    server.close();
    throw err;
  }
  if (marker) writeFileSync(marker, `${process.pid}\n`);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    ...(recovery ? { recovery } : {}),
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        // dynalite's close() also flushes and closes LevelDB, so a restart on the same path sees every write.
        server.close((err) => {
          if (err) return reject(err);
          if (marker) rmSync(marker, { force: true });
          resolve();
        });
        server.closeIdleConnections();
      });
      return stopped;
    },
  };
}

type Item = Record<string, AttributeValue>;

/** The item's key in one index (its table key and the index's keys), or undefined when the index does not hold it. */
function entryKey(item: Item, attributes: readonly string[]): string | undefined {
  if (!attributes.every((a) => item[a] !== undefined)) return undefined;
  return JSON.stringify(attributes.map((a) => item[a]));
}

/**
 * Puts back, for every table, the items one of its secondary indexes lacks. Writing an item
 * unchanged makes dynalite write its index entries again. An entry left under a key the item no
 * longer has (killed after the index write, before the item write) stays: readers fetch the item
 * and check it, and it goes when the item next moves to that key and away.
 */
async function restoreIndexEntries(endpoint: string): Promise<DynamoRecovery> {
  const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  let items = 0;
  let restored = 0;
  try {
    for await (const page of paginateListTables({ client: ddb }, {})) {
      for (const tableName of page.TableNames ?? []) {
        const table = (await ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
        const tableKey = (table?.KeySchema ?? []).map((k) => k.AttributeName!);
        const indexes = [...(table?.GlobalSecondaryIndexes ?? []), ...(table?.LocalSecondaryIndexes ?? [])].map((i) => ({
          name: i.IndexName!,
          attributes: [...tableKey, ...(i.KeySchema ?? []).map((k) => k.AttributeName!).filter((a) => !tableKey.includes(a))],
        }));
        if (indexes.length === 0) continue;
        const present = new Map<string, Set<string>>();
        for (const index of indexes) {
          const entries = new Set<string>();
          for await (const scan of paginateScan({ client: ddb }, { TableName: tableName, IndexName: index.name })) {
            for (const entry of scan.Items ?? []) entries.add(entryKey(entry, index.attributes) ?? '');
          }
          present.set(index.name, entries);
        }
        for await (const scan of paginateScan({ client: ddb }, { TableName: tableName, ConsistentRead: true })) {
          for (const item of scan.Items ?? []) {
            items++;
            const missing = indexes.some((index) => {
              const key = entryKey(item, index.attributes);
              return key !== undefined && !present.get(index.name)!.has(key);
            });
            if (!missing) continue;
            await ddb.send(new PutItemCommand({ TableName: tableName, Item: item }));
            restored++;
          }
        }
      }
    }
  } finally {
    ddb.destroy();
  }
  return { items, restored };
}
