import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** What RedisTaskCache talks to: one server (the local runtime), or a cluster (ElastiCache Serverless). */
export type CacheClient = Redis | Cluster;

export interface CacheConnectionOptions {
  /**
   * A cluster-mode client: it reads the slot map (CLUSTER SLOTS), sends each command to the node
   * of its keys' slot and follows MOVED and ASK. ElastiCache Serverless is cluster-mode only.
   */
  cluster: boolean;
  /** TLS options for a rediss:// URL (the tests trust their own certificate authority with `ca`). */
  tls?: ConnectionOptions;
}

// A cache that is down must cost a request little: fail fast, keep reconnecting in the background.
const perConnection = {
  commandTimeout: 500,
  connectTimeout: 2000,
  maxRetriesPerRequest: 1,
} satisfies RedisOptions;
const backoff = (times: number) => Math.min(times * 200, 2000);

/** A client for CACHE_URL; errors reach the caller of each command, never the process. */
export function connectCache(url: string, options: CacheConnectionOptions): CacheClient {
  const parsed = new URL(url);
  const tls = parsed.protocol === 'rediss:' ? { ...options.tls } : undefined;
  if (!options.cluster) {
    const redis = new Redis(url, { ...perConnection, enableOfflineQueue: true, retryStrategy: backoff, ...(tls ? { tls } : {}) });
    redis.on('error', () => undefined);
    return redis;
  }
  const cluster = new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
    // The certificate names the endpoint, not its addresses: connect by name (ioredis' advice for ElastiCache with TLS).
    dnsLookup: (address, callback) => callback(null, address),
    // No auto-pipelining: ioredis retries a pipeline after MOVED, ASK or TRYAGAIN only if it held no
    // write that succeeded, so a write batched with another during a slot migration would fail.
    // Commands sent one by one are each retried; they still go out without waiting for each other.
    enableOfflineQueue: true,
    clusterRetryStrategy: backoff,
    slotsRefreshTimeout: 2000,
    redisOptions: {
      ...perConnection,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(tls ? { tls } : {}),
    },
  });
  cluster.on('error', () => undefined);
  return cluster;
}
