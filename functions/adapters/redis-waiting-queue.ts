/** RedisTaskCache's slots and waiting queues: the scripts of redis-slot-script.ts, their arguments and answers. */
import { randomUUID } from 'node:crypto';
import type { AgentKey, SlotAnswer, SlotRequest, Waiter, WaiterState, WaiterSweep, WakeRequest } from '../core/cache-port';
import { PRIORITY } from '../core/task-model';
import { priorityOfScore, WAKE_RESERVATION_MS } from '../core/waiting-queue';
import { cacheKeys } from './redis-cache-keys';
import type { CacheClient } from './redis-connection';
import { ACQUIRE_SLOT, GIVE_BACK, LEAVE_QUEUE, SWEEP_WAITERS, WAKE_WAITERS } from './redis-slot-script';

/** The name of an acquisition's slot: the task id and a token, so a racing execution's release frees only its own. */
export const slotName = (taskId: string, token: string) => `${taskId}:${token}`;

/** Task and score pairs; score -1 is a waiter past its queue deadline (started at normal priority, to fail). */
function waiters(flat: readonly unknown[]): Waiter[] {
  const out: Waiter[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const score = Number(flat[i + 1]);
    out.push({ taskId: String(flat[i]), priority: score < 0 ? PRIORITY.normal : priorityOfScore(score) });
  }
  return out;
}

export async function acquireSlot(redis: CacheClient, req: SlotRequest): Promise<SlotAnswer> {
  const t = req.agentType;
  const keys = [
    cacheKeys.waiting(t, req.pool),
    cacheKeys.parked(t),
    cacheKeys.woken(t),
    cacheKeys.handed(t),
    ...req.eligible.map((e) => cacheKeys.pending(t, e.agentId)),
  ];
  const slot = slotName(req.taskId, req.token);
  const args = (cameBack: boolean) => [
    req.taskId,
    req.score,
    req.nowMs,
    req.leaseUntilMs,
    req.queueDeadlineMs,
    slot,
    cameBack ? '1' : '0',
    req.nowMs + WAKE_RESERVATION_MS,
    ...req.eligible.flatMap((e) => [e.agentId, e.capacity, e.tier]),
  ];
  let raw = (await redis.eval(ACQUIRE_SLOT, keys.length, ...keys, ...args(false))) as unknown[];
  // A slot handed to it on an agent no longer eligible: give it back (its key is not among these), then ask again.
  for (let attempt = 0; raw[0] === 3; attempt++) {
    if (attempt === 3) throw new Error('the slot handed to the task kept changing');
    await giveBack(redis, t, req.taskId, String(raw[2]));
    raw = (await redis.eval(ACQUIRE_SLOT, keys.length, ...keys, ...args(true))) as unknown[];
  }
  const [code, best, free, position, deadline, taken, fresh, parkedNow] = raw;
  const n = req.eligible.length;
  const loads = new Map<string, number>();
  req.eligible.forEach((e, i) => loads.set(e.agentId, Number(raw[8 + i] ?? 0)));
  const waiting = Number(parkedNow);
  if (code === 2) {
    const acquired = { kind: 'acquired' as const, agentId: req.eligible[Number(best) - 1]!.agentId, slot: String(taken), loads };
    return waiting >= 0 ? { ...acquired, waiting } : acquired;
  }
  // Each type with parked tasks is listed once, for the reconciler (a key of its own: another cluster slot).
  if (fresh === 1) await redis.sadd(cacheKeys.waitingTypes(), t);
  const parked = { loads, deadlineMs: Number(deadline), woken: waiters(raw.slice(8 + n)), waiting };
  if (code === 1) return { kind: 'behind', freeSlots: Number(free), position: Number(position), ...parked };
  return { kind: 'busy', ...parked };
}

/** Gives back the slot `handed` ("agent\nslot") to its agent, if it is still the task's. Answers the agent. */
async function giveBack(redis: CacheClient, type: string, taskId: string, handed: string): Promise<string> {
  const sep = handed.indexOf('\n');
  const [agent, slot] = [handed.slice(0, sep), handed.slice(sep + 1)];
  await redis.eval(GIVE_BACK, 2, cacheKeys.handed(type), cacheKeys.pending(type, agent), taskId, handed, slot);
  return agent;
}

/** Frees `slot` (unless empty) and, with `wake`, hands the agent's free slots to the first waiters of its pools. */
export async function wakeWaiters(redis: CacheClient, slot: string, agent: AgentKey, wake: WakeRequest | undefined): Promise<Waiter[]> {
  if (!wake) {
    if (slot) await redis.zrem(cacheKeys.pending(agent.type, agent.agentId), slot);
    return [];
  }
  const keys = [
    cacheKeys.pending(agent.type, agent.agentId),
    cacheKeys.woken(agent.type),
    cacheKeys.handed(agent.type),
    cacheKeys.circuits(agent.type),
    cacheKeys.parked(agent.type),
    ...wake.pools.map((p) => cacheKeys.waiting(agent.type, p)),
  ];
  const args = [slot, wake.nowMs, wake.nowMs + WAKE_RESERVATION_MS, wake.capacity, agent.agentId, randomUUID().slice(0, 8)];
  return waiters((await redis.eval(WAKE_WAITERS, keys.length, ...keys, ...args)) as unknown[]);
}

export async function leaveQueue(redis: CacheClient, agentType: string, pool: string, taskId: string): Promise<string | undefined> {
  const t = agentType;
  const handed = await redis.eval(
    LEAVE_QUEUE,
    4,
    cacheKeys.waiting(t, pool),
    cacheKeys.parked(t),
    cacheKeys.woken(t),
    cacheKeys.handed(t),
    taskId,
  );
  // A slot was handed to it: give it back, and answer its agent (whose waiters may take it).
  return typeof handed === 'string' && handed !== '' ? giveBack(redis, t, taskId, handed) : undefined;
}

export async function waiterStates(
  redis: CacheClient,
  tasks: ReadonlyArray<{ agentType: string; taskId: string }>,
): Promise<Map<string, WaiterState>> {
  const out = new Map<string, WaiterState>();
  // The tasks may be of several types (several slots of a cluster): one command each, sent without waiting.
  const scores = await Promise.all(
    tasks.map((t) =>
      Promise.all([redis.zscore(cacheKeys.parked(t.agentType), t.taskId), redis.zscore(cacheKeys.woken(t.agentType), t.taskId)]),
    ),
  );
  tasks.forEach((t, i) => {
    const [deadline, woken] = scores[i] ?? [null, null];
    if (deadline === null || deadline === undefined) return;
    const state: WaiterState = { deadlineMs: Number(deadline) };
    if (woken !== null && woken !== undefined) state.wokenUntilMs = Number(woken);
    out.set(t.taskId, state);
  });
  return out;
}

export async function sweepWaiters(redis: CacheClient, nowMs: number, limit: number): Promise<WaiterSweep> {
  const types = await redis.smembers(cacheKeys.waitingTypes());
  const sweep: WaiterSweep = { overdue: [], lostWakeUps: [] };
  for (const t of types) {
    const raw = (await redis.eval(
      SWEEP_WAITERS,
      2,
      cacheKeys.parked(t),
      cacheKeys.woken(t),
      nowMs,
      limit,
      nowMs + WAKE_RESERVATION_MS,
    )) as string[];
    const split = raw.indexOf('');
    sweep.overdue.push(...raw.slice(0, split));
    sweep.lostWakeUps.push(...raw.slice(split + 1));
  }
  return sweep;
}
