import type { AgentLiveness } from '../core/agent-model';
import type { ActiveDispatch, TaskCache } from '../core/ports';
import type { TaskStatusResponse } from '../core/task-model';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * In-process stand-in for the cache, used by `npm start` only when no redis-server is configured or
 * installed (it prints a notice). Same semantics as RedisTaskCache, in one process's memory.
 */
export class MemoryTaskCache implements TaskCache {
  private readonly values = new Map<string, Entry<unknown>>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly waiting = new Map<string, Map<string, { score: number; seen: number }>>();

  private put(key: string, value: unknown, ttlSeconds: number): void {
    this.values.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  private read<T>(key: string): T | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  async getResult(taskId: string): Promise<TaskStatusResponse | undefined> {
    return this.read(`result:${taskId}`);
  }
  async putResult(result: TaskStatusResponse, ttlSeconds: number): Promise<void> {
    this.put(`result:${result.task_id}`, result, ttlSeconds);
  }
  async putActive(taskId: string, active: ActiveDispatch, ttlSeconds: number): Promise<void> {
    this.put(`active:${taskId}`, active, ttlSeconds);
  }
  async clearActive(taskId: string): Promise<void> {
    this.values.delete(`active:${taskId}`);
  }
  async addLease(agentId: string, taskId: string, untilMs: number): Promise<void> {
    const leases = this.leases.get(agentId) ?? new Map<string, number>();
    leases.set(taskId, untilMs);
    this.leases.set(agentId, leases);
  }
  async removeLease(agentId: string, taskId: string): Promise<void> {
    this.leases.get(agentId)?.delete(taskId);
  }
  async inFlight(agentIds: readonly string[], nowMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of agentIds) {
      const leases = this.leases.get(id);
      for (const [task, until] of leases ?? []) if (until <= nowMs) leases!.delete(task);
      out.set(id, leases?.size ?? 0);
    }
    return out;
  }
  async putLiveness(agentId: string, live: AgentLiveness, ttlSeconds: number): Promise<void> {
    this.put(`heartbeat:${agentId}`, live, ttlSeconds);
  }
  async getLiveness(agentIds: readonly string[]): Promise<Map<string, AgentLiveness>> {
    const out = new Map<string, AgentLiveness>();
    for (const id of agentIds) {
      const live = this.read<AgentLiveness>(`heartbeat:${id}`);
      if (live) out.set(id, live);
    }
    return out;
  }
  async shouldPersistHeartbeat(agentId: string, periodSeconds: number): Promise<boolean> {
    if (this.read(`persisted:${agentId}`)) return false;
    this.put(`persisted:${agentId}`, true, periodSeconds);
    return true;
  }
  async waitTurn(pool: string, taskId: string, score: number, freeSlots: number, nowMs: number, staleMs: number): Promise<boolean> {
    const waiters = this.waiting.get(pool) ?? new Map<string, { score: number; seen: number }>();
    this.waiting.set(pool, waiters);
    for (const [id, w] of waiters) if (w.seen < nowMs - staleMs) waiters.delete(id);
    waiters.set(taskId, { score: waiters.get(taskId)?.score ?? score, seen: nowMs });
    const mine = waiters.get(taskId)!.score;
    const ahead = [...waiters.entries()].filter(([id, w]) => w.score < mine || (w.score === mine && id < taskId)).length;
    return ahead < freeSlots;
  }
  async leaveQueue(pool: string, taskId: string): Promise<void> {
    this.waiting.get(pool)?.delete(taskId);
  }
  async close(): Promise<void> {
    this.values.clear();
  }
}
