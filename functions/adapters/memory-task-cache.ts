import type { AgentLiveness } from '../core/agent-model';
import type { CircuitStats, OpenCircuit } from '../core/circuit-breaker';
import { type Clock, systemClock } from '../core/ports';
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
import { FinishListeners } from './finish-listeners';
import { MemoryWaitingQueues } from './memory-waiting-queue';
import type { TaskStatusResponse } from '../core/task-model';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * In-process stand-in for the cache, used by `npm start` only when no redis-server is configured or
 * installed (it prints a notice). Same semantics as RedisTaskCache, in one process's memory. Entries
 * kept for a time (results, liveness, the heartbeat write throttle) expire by `clock`.
 */
export class MemoryTaskCache implements TaskCache {
  private readonly values = new Map<string, Entry<unknown>>();
  private readonly outcomes = new Map<string, Array<{ id: string; at: number; failed: boolean }>>();
  private readonly open = new Map<string, OpenCircuit>();
  /** type → "task id:attempt" → due (ms). */
  private readonly running = new Map<string, Map<string, number>>();
  private readonly queues = new MemoryWaitingQueues((agent) => this.open.get(`${agent.type}\u0000${agent.agentId}`));
  /** Notices of finished tasks reach the listeners of this process only, as one Redis reaches its subscribers. */
  private readonly listeners = new FinishListeners();

  constructor(private readonly clock: Clock = systemClock) {}

  private put(key: string, value: unknown, ttlSeconds: number): void {
    this.values.set(key, { value, expiresAt: this.clock.now() + ttlSeconds * 1000 });
  }

  private read<T>(key: string): T | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
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
  async acquireSlot(req: SlotRequest): Promise<SlotAnswer> {
    return this.queues.acquire(req);
  }
  async releaseSlot(agent: AgentKey, slot: string, wake?: WakeRequest): Promise<Waiter[]> {
    return this.queues.release(agent, slot, wake);
  }
  async wakeWaiters(wake: WakeRequest): Promise<Waiter[]> {
    return this.queues.wake(wake);
  }
  async inFlight(agents: readonly AgentKey[], nowMs: number): Promise<Map<string, number>> {
    return new Map(agents.map((a) => [a.agentId, this.queues.slotsOf(a, nowMs).size]));
  }
  async leaveQueue(agentType: string, pool: string, taskId: string): Promise<string | undefined> {
    return this.queues.leave(agentType, pool, taskId);
  }
  async waiterStates(tasks: ReadonlyArray<{ agentType: string; taskId: string }>): Promise<Map<string, WaiterState>> {
    return this.queues.states(tasks);
  }
  async sweepWaiters(nowMs: number, limit: number): Promise<WaiterSweep> {
    return this.queues.sweep(nowMs, limit);
  }
  async trackAttempt(agent: AgentKey, slot: string, attempt: TrackedAttempt, dueMs: number, slotUntilMs: number): Promise<boolean> {
    this.queues.extend(agent, slot, slotUntilMs);
    const running = this.running.get(attempt.agentType) ?? new Map<string, number>();
    running.set(trackedMember(attempt), dueMs);
    this.running.set(attempt.agentType, running);
    return true;
  }
  async untrackAttempt(attempt: TrackedAttempt): Promise<void> {
    this.running.get(attempt.agentType)?.delete(trackedMember(attempt));
  }
  async sweepAttempts(nowMs: number, limit: number): Promise<TrackedAttempt[]> {
    const out: TrackedAttempt[] = [];
    for (const [agentType, running] of this.running) {
      const due = [...running].filter(([, at]) => at <= nowMs).sort((a, b) => a[1] - b[1]);
      for (const [member] of due.slice(0, limit)) out.push(trackedFromMember(agentType, member));
    }
    return out;
  }
  async recordOutcome(agent: AgentKey, dispatchId: string, failed: boolean, nowMs: number, windowMs: number): Promise<CircuitStats> {
    const key = `${agent.type}\u0000${agent.agentId}`;
    const window = (this.outcomes.get(key) ?? []).filter((o) => o.at > nowMs - windowMs && o.id !== dispatchId);
    window.push({ id: dispatchId, at: nowMs, failed });
    this.outcomes.set(key, window);
    const stats: CircuitStats = { dispatches: window.length, failures: window.filter((o) => o.failed).length };
    const open = this.open.get(key);
    if (open) stats.open = open;
    return stats;
  }
  async setCircuit(agent: AgentKey, open: OpenCircuit | undefined): Promise<void> {
    const key = `${agent.type}\u0000${agent.agentId}`;
    if (open) {
      this.open.set(key, open);
      return;
    }
    this.open.delete(key);
    this.outcomes.delete(key);
  }
  async circuits(agents: readonly AgentKey[], nowMs: number, windowMs: number, withCounts: boolean): Promise<Map<string, CircuitStats>> {
    const out = new Map<string, CircuitStats>();
    for (const a of agents) {
      const key = `${a.type}\u0000${a.agentId}`;
      const window = withCounts ? (this.outcomes.get(key) ?? []).filter((o) => o.at > nowMs - windowMs) : [];
      const stats: CircuitStats = { dispatches: window.length, failures: window.filter((o) => o.failed).length };
      const open = this.open.get(key);
      if (open) stats.open = open;
      out.set(a.agentId, stats);
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
  async announceFinished(taskId: string): Promise<void> {
    this.listeners.deliver(taskId);
  }
  async listenForFinish(taskId: string): Promise<FinishListener> {
    return this.listeners.add(taskId, async () => undefined).listener;
  }
  async close(): Promise<void> {
    this.values.clear();
  }
}
