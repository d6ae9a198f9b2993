/**
 * No cache at all (CACHE_URL unset): every read answers "unknown" and every write does nothing, as
 * RedisTaskCache does while its server is down. Routing then uses the heartbeats stored in
 * DynamoDB, and a task that finds no free agent looks again after a poll interval, since nothing
 * could wake it. A waiting read hears no notice of a task's end and re-reads the task instead.
 */
import type { AgentLiveness } from '../core/agent-model';
import type { CircuitStats } from '../core/circuit-breaker';
import type { SlotAnswer, TaskCache, TrackedAttempt, Waiter, WaiterState, WaiterSweep } from '../core/cache-port';
import type { FinishListener } from '../core/finish-notices';
import type { TaskStatusResponse } from '../core/task-model';

export class NoTaskCache implements TaskCache {
  async getResult(): Promise<TaskStatusResponse | undefined> {
    return undefined;
  }
  async putResult(): Promise<void> {}
  async putActive(): Promise<void> {}
  async clearActive(): Promise<void> {}
  async acquireSlot(): Promise<SlotAnswer | undefined> {
    return undefined;
  }
  async releaseSlot(): Promise<Waiter[]> {
    return [];
  }
  async wakeWaiters(): Promise<Waiter[]> {
    return [];
  }
  async inFlight(): Promise<Map<string, number> | undefined> {
    return undefined;
  }
  async leaveQueue(): Promise<string | undefined> {
    return undefined;
  }
  async waiterStates(): Promise<Map<string, WaiterState> | undefined> {
    return undefined;
  }
  async sweepWaiters(): Promise<WaiterSweep | undefined> {
    return undefined;
  }
  async trackAttempt(): Promise<boolean> {
    return false;
  }
  async untrackAttempt(): Promise<void> {}
  async sweepAttempts(): Promise<TrackedAttempt[] | undefined> {
    return undefined;
  }
  async recordOutcome(): Promise<CircuitStats | undefined> {
    return undefined;
  }
  async setCircuit(): Promise<void> {}
  async circuits(): Promise<Map<string, CircuitStats> | undefined> {
    return undefined;
  }
  async putLiveness(): Promise<void> {}
  async getLiveness(): Promise<Map<string, AgentLiveness> | undefined> {
    return undefined;
  }
  async shouldPersistHeartbeat(): Promise<boolean> {
    return true;
  }
  async announceFinished(): Promise<void> {}
  async listenForFinish(): Promise<FinishListener | undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}
