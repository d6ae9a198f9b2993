import { Redis } from 'ioredis';
import type { AgentLiveness } from '../core/agent-model';
import type { ActiveDispatch, TaskCache } from '../core/ports';
import type { TaskStatusResponse } from '../core/task-model';

/**
 * Cache keys. The seed's task keys, plus agent liveness and the priority queue of waiting tasks.
 * A pool's two waiting keys share a hash tag so one script can touch both on a cluster.
 */
export const cacheKeys = {
  /** Tasks sent to an agent and not yet answered: sorted set, score = lease end (ms). Its size is the agent's load. */
  pending: (agentId: string) => `task:pending:${agentId}`,
  active: (taskId: string) => `task:active:${taskId}`,
  result: (taskId: string) => `task:result:${taskId}`,
  heartbeat: (agentId: string) => `agent:heartbeat:${agentId}`,
  persisted: (agentId: string) => `agent:persisted:${agentId}`,
  waiting: (pool: string) => `task:waiting:{${pool}}`,
  waitingSeen: (pool: string) => `task:waiting-seen:{${pool}}`,
};

const WAIT_TURN = `
local stale = tonumber(ARGV[4]) - tonumber(ARGV[5])
local seen = redis.call('HGETALL', KEYS[2])
for i = 1, #seen, 2 do
  if tonumber(seen[i + 1]) < stale then
    redis.call('ZREM', KEYS[1], seen[i])
    redis.call('HDEL', KEYS[2], seen[i])
  end
end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], 3600000)
redis.call('PEXPIRE', KEYS[2], 3600000)
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank < tonumber(ARGV[3]) then return 1 end
return 0`;

export interface CacheLogger {
  warn(message: string, extra?: Record<string, unknown>): void;
}

/** The TaskCache on Redis / ElastiCache (Valkey). Failures degrade to "unknown" instead of failing the caller. */
export class RedisTaskCache implements TaskCache {
  private lastWarn = 0;

  constructor(
    private readonly redis: Redis,
    private readonly log: CacheLogger,
  ) {}

  static fromUrl(url: string, log: CacheLogger): RedisTaskCache {
    const redis = new Redis(url, {
      // A cache that is down must cost a request little: fail fast, keep reconnecting in the background.
      commandTimeout: 500,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    redis.on('error', () => undefined);
    return new RedisTaskCache(redis, log);
  }

  private async safe<T>(what: string, op: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await op();
    } catch (err) {
      const now = Date.now();
      if (now - this.lastWarn > 10_000) {
        this.lastWarn = now;
        this.log.warn(`cache unavailable (${what}); carrying on without it`, { error: err instanceof Error ? err.message : String(err) });
      }
      return fallback;
    }
  }

  getResult(taskId: string): Promise<TaskStatusResponse | undefined> {
    return this.safe('get result', async () => {
      const raw = await this.redis.get(cacheKeys.result(taskId));
      return raw ? (JSON.parse(raw) as TaskStatusResponse) : undefined;
    }, undefined);
  }

  putResult(result: TaskStatusResponse, ttlSeconds: number): Promise<void> {
    return this.safe('put result', async () => {
      await this.redis.set(cacheKeys.result(result.task_id), JSON.stringify(result), 'EX', ttlSeconds);
    }, undefined);
  }

  putActive(taskId: string, active: ActiveDispatch, ttlSeconds: number): Promise<void> {
    return this.safe('put active', async () => {
      await this.redis.set(cacheKeys.active(taskId), JSON.stringify(active), 'EX', ttlSeconds);
    }, undefined);
  }

  clearActive(taskId: string): Promise<void> {
    return this.safe('clear active', async () => {
      await this.redis.del(cacheKeys.active(taskId));
    }, undefined);
  }

  addLease(agentId: string, taskId: string, untilMs: number): Promise<void> {
    return this.safe('add lease', async () => {
      await this.redis.multi().zadd(cacheKeys.pending(agentId), untilMs, taskId).pexpire(cacheKeys.pending(agentId), 3_600_000).exec();
    }, undefined);
  }

  removeLease(agentId: string, taskId: string): Promise<void> {
    return this.safe('remove lease', async () => {
      await this.redis.zrem(cacheKeys.pending(agentId), taskId);
    }, undefined);
  }

  inFlight(agentIds: readonly string[], nowMs: number): Promise<Map<string, number> | undefined> {
    return this.safe('read load', async () => {
      if (agentIds.length === 0) return new Map<string, number>();
      const pipeline = this.redis.pipeline();
      // Leases of attempts whose dispatcher died expire on their own, so a lost decrement cannot pin an agent as busy.
      for (const id of agentIds) pipeline.zremrangebyscore(cacheKeys.pending(id), '-inf', nowMs).zcard(cacheKeys.pending(id));
      const results = (await pipeline.exec()) ?? [];
      const load = new Map<string, number>();
      agentIds.forEach((id, i) => {
        const [err, count] = results[i * 2 + 1] ?? [null, 0];
        if (err) throw err;
        load.set(id, Number(count));
      });
      return load;
    }, undefined);
  }

  putLiveness(agentId: string, live: AgentLiveness, ttlSeconds: number): Promise<void> {
    return this.safe('put liveness', async () => {
      await this.redis.set(cacheKeys.heartbeat(agentId), JSON.stringify(live), 'EX', ttlSeconds);
    }, undefined);
  }

  getLiveness(agentIds: readonly string[]): Promise<Map<string, AgentLiveness> | undefined> {
    return this.safe('read liveness', async () => {
      const out = new Map<string, AgentLiveness>();
      if (agentIds.length === 0) return out;
      const pipeline = this.redis.pipeline();
      for (const id of agentIds) pipeline.get(cacheKeys.heartbeat(id));
      const results = (await pipeline.exec()) ?? [];
      agentIds.forEach((id, i) => {
        const [err, raw] = results[i] ?? [null, null];
        if (err) throw err;
        if (typeof raw === 'string') out.set(id, JSON.parse(raw) as AgentLiveness);
      });
      return out;
    }, undefined);
  }

  shouldPersistHeartbeat(agentId: string, periodSeconds: number): Promise<boolean> {
    return this.safe('heartbeat gate', async () => (await this.redis.set(cacheKeys.persisted(agentId), '1', 'EX', periodSeconds, 'NX')) === 'OK', true);
  }

  waitTurn(pool: string, taskId: string, score: number, freeSlots: number, nowMs: number, staleMs: number): Promise<boolean> {
    return this.safe('priority gate', async () => {
      const allowed = await this.redis.eval(WAIT_TURN, 2, cacheKeys.waiting(pool), cacheKeys.waitingSeen(pool), taskId, score, freeSlots, nowMs, staleMs);
      return allowed === 1;
    }, true);
  }

  leaveQueue(pool: string, taskId: string): Promise<void> {
    return this.safe('leave queue', async () => {
      await this.redis.multi().zrem(cacheKeys.waiting(pool), taskId).hdel(cacheKeys.waitingSeen(pool), taskId).exec();
    }, undefined);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
