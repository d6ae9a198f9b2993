import { mkdirSync } from 'node:fs';
import dynalite from 'dynalite';
import { listen } from './listen';

export interface DynamoOptions {
  /** Folder for the LevelDB store, kept across restarts; in memory when absent. */
  path?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface DynamoStandIn {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * DynamoDB on 127.0.0.1 through dynalite, in this process. It has no transactions, no PartiQL and
 * never expires items by TTL, so code that runs on it must filter expired items when it reads.
 */
export async function startDynamo(options: DynamoOptions = {}): Promise<DynamoStandIn> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  // Tables are ACTIVE at once; dynalite's default 500 ms in CREATING would fail the first write.
  const server = dynalite({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.port);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        // dynalite's close() also flushes and closes LevelDB, so a restart on the same path sees every write.
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      return stopped;
    },
  };
}
