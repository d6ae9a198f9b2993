import { Redis } from 'ioredis';
import type { AgentLiveness } from '../core/agent-model';
import type { CircuitStats, OpenCircuit } from '../core/circuit-breaker';
import type {
  ActiveDispatch,
  AgentKey,
  SlotAnswer,
  SlotRequest,
  TaskCache,
  Waiter,
  WaiterState,
  WaiterSweep,
  WakeRequest,
} from '../core/cache-port';
import type { TaskStatusResponse } from '../core/task-model';
import { cacheKeys } from './redis-cache-keys';
import * as waiting from './redis-waiting-queue';

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

  /** Runs `op`, answering `fallback` (by default undefined: unknown) when the cache fails; warns at most every 10 s. */
  private async safe<T, F = undefined>(what: string, op: () => Promise<T>, fallback?: F): Promise<T | F> {
    try {
      return await op();
    } catch (err) {
      const now = Date.now();
      if (now - this.lastWarn > 10_000) {
        this.lastWarn = now;
        this.log.warn(`cache unavailable (${what}); carrying on without it`, { error: err instanceof Error ? err.message : String(err) });
      }
      return fallback as F;
    }
  }

  getResult(taskId: string): Promise<TaskStatusResponse | undefined> {
    return this.safe('get result', async () => {
      const raw = await this.redis.get(cacheKeys.result(taskId));
      return raw ? (JSON.parse(raw) as TaskStatusResponse) : undefined;
    });
  }

  putResult(result: TaskStatusResponse, ttlSeconds: number): Promise<void> {
    return this.safe('put result', async () => {
      await this.redis.set(cacheKeys.result(result.task_id), JSON.stringify(result), 'EX', ttlSeconds);
    });
  }

  putActive(taskId: string, active: ActiveDispatch, ttlSeconds: number): Promise<void> {
    return this.safe('put active', async () => {
      await this.redis.set(cacheKeys.active(taskId), JSON.stringify(active), 'EX', ttlSeconds);
    });
  }

  clearActive(taskId: string): Promise<void> {
    return this.safe('clear active', async () => {
      await this.redis.del(cacheKeys.active(taskId));
    });
  }

  acquireSlot(req: SlotRequest): Promise<SlotAnswer | undefined> {
    return this.safe('acquire slot', () => waiting.acquireSlot(this.redis, req));
  }

  releaseSlot(agent: AgentKey, slot: string, wake?: WakeRequest): Promise<Waiter[]> {
    return this.safe('release slot', () => waiting.wakeWaiters(this.redis, slot, agent, wake), []);
  }

  wakeWaiters(wake: WakeRequest): Promise<Waiter[]> {
    return this.safe('wake waiters', () => waiting.wakeWaiters(this.redis, '', wake.agent, wake), []);
  }

  waiterStates(tasks: ReadonlyArray<{ agentType: string; taskId: string }>): Promise<Map<string, WaiterState> | undefined> {
    return this.safe('read waiters', () => waiting.waiterStates(this.redis, tasks));
  }

  sweepWaiters(nowMs: number, limit: number): Promise<WaiterSweep | undefined> {
    return this.safe('sweep waiters', () => waiting.sweepWaiters(this.redis, nowMs, limit));
  }

  inFlight(agents: readonly AgentKey[], nowMs: number): Promise<Map<string, number> | undefined> {
    return this.safe('read load', async () => {
      if (agents.length === 0) return new Map<string, number>();
      const pipeline = this.redis.pipeline();
      // Slots of attempts whose dispatcher died expire on their own, so a lost release cannot pin an agent as busy.
      for (const a of agents) pipeline.zcount(cacheKeys.pending(a.type, a.agentId), `(${nowMs}`, '+inf');
      const results = (await pipeline.exec()) ?? [];
      const load = new Map<string, number>();
      agents.forEach((a, i) => {
        const [err, count] = results[i] ?? [null, 0];
        if (err) throw err;
        load.set(a.agentId, Number(count));
      });
      return load;
    });
  }

  leaveQueue(agentType: string, pool: string, taskId: string): Promise<string | undefined> {
    return this.safe('leave queue', () => waiting.leaveQueue(this.redis, agentType, pool, taskId));
  }

  recordOutcome(agent: AgentKey, dispatchId: string, failed: boolean, nowMs: number, windowMs: number): Promise<CircuitStats | undefined> {
    return this.safe('record outcome', async () => {
      const d = cacheKeys.dispatches(agent.type, agent.agentId);
      const f = cacheKeys.failures(agent.type, agent.agentId);
      const tx = this.redis.multi().zadd(d, nowMs, dispatchId);
      if (failed) tx.zadd(f, nowMs, dispatchId);
      const results = await tx
        .zremrangebyscore(d, '-inf', nowMs - windowMs)
        .zremrangebyscore(f, '-inf', nowMs - windowMs)
        .pexpire(d, windowMs)
        .pexpire(f, windowMs)
        .zcard(d)
        .zcard(f)
        .hget(cacheKeys.circuits(agent.type), agent.agentId)
        .exec();
      if (!results) throw new Error('the outcome transaction was aborted');
      const tail = results.slice(-3).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      const stats: CircuitStats = { dispatches: Number(tail[0]), failures: Number(tail[1]) };
      if (typeof tail[2] === 'string') stats.open = JSON.parse(tail[2]) as OpenCircuit;
      return stats;
    });
  }

  setCircuit(agent: AgentKey, open: OpenCircuit | undefined): Promise<void> {
    return this.safe('set circuit', async () => {
      const key = cacheKeys.circuits(agent.type);
      if (open) {
        await this.redis.multi().hset(key, agent.agentId, JSON.stringify(open)).pexpire(key, 86_400_000).exec();
        return;
      }
      await this.redis
        .multi()
        .hdel(key, agent.agentId)
        .del(cacheKeys.dispatches(agent.type, agent.agentId), cacheKeys.failures(agent.type, agent.agentId))
        .exec();
    });
  }

  circuits(
    agents: readonly AgentKey[],
    nowMs: number,
    windowMs: number,
    withCounts: boolean,
  ): Promise<Map<string, CircuitStats> | undefined> {
    return this.safe('read circuits', async () => {
      const out = new Map<string, CircuitStats>();
      const types = [...new Set(agents.map((a) => a.type))];
      const pipeline = this.redis.pipeline();
      for (const type of types) pipeline.hgetall(cacheKeys.circuits(type));
      if (withCounts) {
        for (const a of agents) {
          pipeline.zcount(cacheKeys.dispatches(a.type, a.agentId), `(${nowMs - windowMs}`, '+inf');
          pipeline.zcount(cacheKeys.failures(a.type, a.agentId), `(${nowMs - windowMs}`, '+inf');
        }
      }
      const results = ((await pipeline.exec()) ?? []).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      const open = new Map<string, OpenCircuit>();
      types.forEach((type, i) => {
        const hash = (results[i] ?? {}) as Record<string, string>;
        for (const [id, json] of Object.entries(hash)) open.set(`${type}\u0000${id}`, JSON.parse(json) as OpenCircuit);
      });
      agents.forEach((a, i) => {
        const stats: CircuitStats = withCounts
          ? { dispatches: Number(results[types.length + 2 * i]), failures: Number(results[types.length + 2 * i + 1]) }
          : { dispatches: 0, failures: 0 };
        const o = open.get(`${a.type}\u0000${a.agentId}`);
        if (o) stats.open = o;
        out.set(a.agentId, stats);
      });
      return out;
    });
  }

  putLiveness(agentId: string, live: AgentLiveness, ttlSeconds: number): Promise<void> {
    return this.safe('put liveness', async () => {
      await this.redis.set(cacheKeys.heartbeat(agentId), JSON.stringify(live), 'EX', ttlSeconds);
    });
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
    });
  }

  shouldPersistHeartbeat(agentId: string, periodSeconds: number): Promise<boolean> {
    return this.safe(
      'heartbeat gate',
      async () => (await this.redis.set(cacheKeys.persisted(agentId), '1', 'EX', periodSeconds, 'NX')) === 'OK',
      true,
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
