import type { AgentLiveness } from '../core/agent-model';
import type { CircuitStats, OpenCircuit } from '../core/circuit-breaker';
import {
  type ActiveDispatch,
  type AgentKey,
  type SlotAnswer,
  type SlotRequest,
  type TaskCache,
  type TrackedAttempt,
  trackedFromMember,
  trackedMember,
  type Waiter,
  type WaiterState,
  type WaiterSweep,
  type WakeRequest,
} from '../core/cache-port';
import type { FinishListener } from '../core/finish-notices';
import type { TaskStatus, TaskStatusResponse } from '../core/task-model';
import { CacheFallbacks, type CacheObserver } from './cache-fallbacks';
import { cacheKeys } from './redis-cache-keys';
import { RECORD_OUTCOME, SET_CIRCUIT } from './redis-circuit-script';
import { type CacheClient, type CacheConnectionOptions, connectCache } from './redis-connection';
import { RedisFinishNotices } from './redis-finish-notices';
import * as waiting from './redis-waiting-queue';

/**
 * However the client waits (a cluster whose slot map cannot be read queues commands until it can),
 * a call gives up after this long and the caller carries on without the cache.
 */
export const CACHE_CALL_DEADLINE_MS = 1500;

/**
 * The TaskCache on Redis / ElastiCache (Valkey), one server or a cluster. Failures degrade to
 * "unknown" instead of failing the caller; each is counted, each cause logged once.
 */
export class RedisTaskCache implements TaskCache {
  private readonly fallbacks: CacheFallbacks;
  private readonly notices: RedisFinishNotices;

  constructor(
    private readonly redis: CacheClient,
    observer: CacheObserver,
  ) {
    this.fallbacks = new CacheFallbacks(observer);
    this.notices = new RedisFinishNotices(redis, (what, op, fallback) => this.safe(what, op, fallback));
  }

  static fromUrl(url: string, observer: CacheObserver, options: CacheConnectionOptions = { cluster: false }): RedisTaskCache {
    return new RedisTaskCache(connectCache(url, options), observer);
  }

  /** Runs `op`, answering `fallback` (by default undefined: unknown) when the cache fails or is too slow. */
  private async safe<T, F = undefined>(what: string, op: () => Promise<T>, fallback?: F): Promise<T | F> {
    // Between reconnection attempts a command would only queue: while the cache is known down, fall back at once.
    if (this.redis.status === 'reconnecting' || this.redis.status === 'end') {
      this.fallbacks.report(what, new Error(this.redis.status === 'end' ? 'the cache client is closed' : 'the cache is reconnecting'));
      return fallback as F;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CACHE_CALL_DEADLINE_MS} ms`)), CACHE_CALL_DEADLINE_MS);
    });
    try {
      return await Promise.race([op(), deadline]);
    } catch (err) {
      this.fallbacks.report(what, err);
      return fallback as F;
    } finally {
      clearTimeout(timer);
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
      // Slots of attempts whose dispatcher died expire on their own, so a lost release cannot pin an agent as busy.
      const counts = await Promise.all(agents.map((a) => this.redis.zcount(cacheKeys.pending(a.type, a.agentId), `(${nowMs}`, '+inf')));
      return new Map(agents.map((a, i) => [a.agentId, counts[i] ?? 0]));
    });
  }

  leaveQueue(agentType: string, pool: string, taskId: string): Promise<string | undefined> {
    return this.safe('leave queue', () => waiting.leaveQueue(this.redis, agentType, pool, taskId));
  }

  trackAttempt(agent: AgentKey, slot: string, attempt: TrackedAttempt, dueMs: number, slotUntilMs: number): Promise<boolean> {
    return this.safe(
      'track attempt',
      async () => {
        // Both keys carry the type's hash tag: one transaction on one cluster slot. XX: a released slot stays released.
        const replies = await this.redis
          .multi()
          .zadd(cacheKeys.pending(agent.type, agent.agentId), 'XX', slotUntilMs, slot)
          .zadd(cacheKeys.running(attempt.agentType), dueMs, trackedMember(attempt))
          .zcard(cacheKeys.running(attempt.agentType))
          .exec();
        // The type is listed for the sweep when its set was empty (a key of its own: written once, not per attempt).
        if (Number(replies?.[2]?.[1]) === 1) await this.redis.sadd(cacheKeys.runningTypes(), attempt.agentType);
        return true;
      },
      false,
    );
  }

  untrackAttempt(attempt: TrackedAttempt): Promise<void> {
    return this.safe('untrack attempt', async () => {
      await this.redis.zrem(cacheKeys.running(attempt.agentType), trackedMember(attempt));
    });
  }

  sweepAttempts(nowMs: number, limit: number): Promise<TrackedAttempt[] | undefined> {
    return this.safe('sweep attempts', async () => {
      const types = await this.redis.smembers(cacheKeys.runningTypes());
      const due = await Promise.all(
        types.map((type) => this.redis.zrangebyscore(cacheKeys.running(type), '-inf', nowMs, 'LIMIT', 0, limit)),
      );
      return types.flatMap((type, i) => (due[i] ?? []).map((member) => trackedFromMember(type, member)));
    });
  }

  recordOutcome(agent: AgentKey, dispatchId: string, failed: boolean, nowMs: number, windowMs: number): Promise<CircuitStats | undefined> {
    return this.safe('record outcome', async () => {
      const [dispatches, failures, open] = (await this.redis.eval(
        RECORD_OUTCOME,
        3,
        cacheKeys.dispatches(agent.type, agent.agentId),
        cacheKeys.failures(agent.type, agent.agentId),
        cacheKeys.circuits(agent.type),
        nowMs,
        dispatchId,
        failed ? 1 : 0,
        windowMs,
        agent.agentId,
      )) as [number, number, string | null];
      const stats: CircuitStats = { dispatches: Number(dispatches), failures: Number(failures) };
      if (typeof open === 'string') stats.open = JSON.parse(open) as OpenCircuit;
      return stats;
    });
  }

  setCircuit(agent: AgentKey, open: OpenCircuit | undefined): Promise<void> {
    return this.safe('set circuit', async () => {
      await this.redis.eval(
        SET_CIRCUIT,
        3,
        cacheKeys.circuits(agent.type),
        cacheKeys.dispatches(agent.type, agent.agentId),
        cacheKeys.failures(agent.type, agent.agentId),
        agent.agentId,
        open ? JSON.stringify(open) : '',
      );
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
      const since = `(${nowMs - windowMs}`;
      const [hashes, counts] = await Promise.all([
        Promise.all(types.map((type) => this.redis.hgetall(cacheKeys.circuits(type)))),
        withCounts
          ? Promise.all(
              agents.map((a) =>
                Promise.all([
                  this.redis.zcount(cacheKeys.dispatches(a.type, a.agentId), since, '+inf'),
                  this.redis.zcount(cacheKeys.failures(a.type, a.agentId), since, '+inf'),
                ]),
              ),
            )
          : undefined,
      ]);
      const open = new Map<string, OpenCircuit>();
      types.forEach((type, i) => {
        for (const [id, json] of Object.entries(hashes[i] ?? {})) open.set(`${type}\u0000${id}`, JSON.parse(json) as OpenCircuit);
      });
      agents.forEach((a, i) => {
        const [dispatches, failures] = counts?.[i] ?? [0, 0];
        const stats: CircuitStats = { dispatches, failures };
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
      // One command per agent: their keys spread over the cluster's slots (a pipeline must stay on one node).
      const raws = await Promise.all(agentIds.map((id) => this.redis.get(cacheKeys.heartbeat(id))));
      agentIds.forEach((id, i) => {
        const raw = raws[i];
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

  announceFinished(taskId: string, status: TaskStatus): Promise<void> {
    return this.notices.announceFinished(taskId, status);
  }

  listenForFinish(taskId: string): Promise<FinishListener | undefined> {
    return this.notices.listenForFinish(taskId);
  }

  async close(): Promise<void> {
    await this.notices.close();
    this.redis.disconnect();
  }
}
