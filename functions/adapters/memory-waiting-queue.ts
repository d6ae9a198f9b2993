/**
 * MemoryTaskCache's slots and waiting queues: the semantics of redis-slot-script.ts in one
 * process's memory (the local stand-in; it scans its maps, which is fine at its scale).
 */
import { randomUUID } from 'node:crypto';
import type { OpenCircuit } from '../core/circuit-breaker';
import type { AgentKey, SlotAnswer, SlotRequest, Waiter, WaiterState, WaiterSweep, WakeRequest } from '../core/cache-port';
import { pickLeastLoaded } from '../core/routing';
import { PRIORITY } from '../core/task-model';
import { priorityOfScore, WAKE_RESERVATION_MS } from '../core/waiting-queue';

const key = (...parts: string[]) => parts.join('\u0000');

export class MemoryWaitingQueues {
  /** type + agent id → slot name → slot end (ms). */
  private readonly slots = new Map<string, Map<string, number>>();
  /** type + pool → task id → score. */
  private readonly queues = new Map<string, Map<string, number>>();
  /** type → task id → queue deadline (ms). */
  private readonly parked = new Map<string, Map<string, number>>();
  /** type → task id → reservation end (ms). */
  private readonly woken = new Map<string, Map<string, number>>();
  /** type → task id → the slot handed to it. */
  private readonly handed = new Map<string, Map<string, { agentId: string; slot: string }>>();

  constructor(private readonly circuitOf: (agent: AgentKey) => OpenCircuit | undefined) {}

  private of<V>(maps: Map<string, Map<string, V>>, k: string): Map<string, V> {
    const found = maps.get(k) ?? new Map<string, V>();
    maps.set(k, found);
    return found;
  }

  slotsOf(agent: AgentKey, nowMs: number): Map<string, number> {
    const slots = this.of(this.slots, key(agent.type, agent.agentId));
    for (const [name, until] of slots) if (until <= nowMs) slots.delete(name);
    return slots;
  }

  /** A held slot now ends at `untilMs` (one already released or expired stays free, as ZADD XX leaves it). */
  extend(agent: AgentKey, slot: string, untilMs: number): void {
    const slots = this.slots.get(key(agent.type, agent.agentId));
    if (slots?.has(slot)) slots.set(slot, untilMs);
  }

  private head(queue: Map<string, number>): [string, number] | undefined {
    let best: [string, number] | undefined;
    for (const [id, score] of queue) if (!best || score < best[1] || (score === best[1] && id < best[0])) best = [id, score];
    return best;
  }

  private hand(type: string, agentId: string, taskId: string, slot: string, nowMs: number): void {
    this.slotsOf({ type, agentId }, nowMs).set(slot, nowMs + WAKE_RESERVATION_MS);
    this.of(this.handed, type).set(taskId, { agentId, slot });
    this.of(this.woken, type).set(taskId, nowMs + WAKE_RESERVATION_MS);
  }

  /** `came`: the task had parked before this call. */
  private took(req: SlotRequest, agentId: string, slot: string, loads: Map<string, number>, came: boolean): SlotAnswer {
    this.of(this.queues, key(req.agentType, req.pool)).delete(req.taskId);
    const parked = this.of(this.parked, req.agentType);
    parked.delete(req.taskId);
    this.of(this.woken, req.agentType).delete(req.taskId);
    return came ? { kind: 'acquired', agentId, slot, loads, waiting: parked.size } : { kind: 'acquired', agentId, slot, loads };
  }

  acquire(req: SlotRequest): SlotAnswer {
    const type = req.agentType;
    const loads = new Map(req.eligible.map((e) => [e.agentId, this.slotsOf({ type, agentId: e.agentId }, req.nowMs).size]));
    this.of(this.woken, type).delete(req.taskId);
    const came = this.of(this.parked, type).has(req.taskId);
    const handed = this.of(this.handed, type).get(req.taskId);
    if (handed) {
      this.of(this.handed, type).delete(req.taskId);
      const slots = this.slotsOf({ type, agentId: handed.agentId }, req.nowMs);
      if (req.eligible.some((e) => e.agentId === handed.agentId) && slots.has(handed.slot)) {
        slots.set(handed.slot, req.leaseUntilMs);
        return this.took(req, handed.agentId, handed.slot, loads, came);
      }
      slots.delete(handed.slot);
    }
    const queue = this.of(this.queues, key(type, req.pool));
    if (!queue.has(req.taskId)) queue.set(req.taskId, req.score);
    const parked = this.of(this.parked, type);
    if (!parked.has(req.taskId)) parked.set(req.taskId, req.queueDeadlineMs);
    const score = queue.get(req.taskId)!;
    const position = [...queue].filter(([id, s]) => s < score || (s === score && id < req.taskId)).length;
    const { pick, freeSlots } = pickLeastLoaded(req.eligible, (id) => loads.get(id) ?? 0);
    const slot = `${req.taskId}:${req.token}`;
    if (pick && position < freeSlots) {
      this.slotsOf({ type, agentId: pick.agentId }, req.nowMs).set(slot, req.leaseUntilMs);
      return this.took(req, pick.agentId, slot, loads, came);
    }
    const woken: Waiter[] = [];
    for (let left = freeSlots; left > 0; left--) {
      const head = this.head(queue);
      const next = pickLeastLoaded(req.eligible, (id) => loads.get(id) ?? 0).pick;
      if (!head || head[0] === req.taskId || !next) break;
      queue.delete(head[0]);
      this.hand(type, next.agentId, head[0], `${head[0]}:w:${slot}`, req.nowMs);
      loads.set(next.agentId, (loads.get(next.agentId) ?? 0) + 1);
      woken.push({ taskId: head[0], priority: priorityOfScore(head[1]) });
    }
    const deadlineMs = parked.get(req.taskId)!;
    if (!pick) return { kind: 'busy', loads, deadlineMs, woken, waiting: parked.size };
    return { kind: 'behind', loads, freeSlots, position, deadlineMs, woken, waiting: parked.size };
  }

  release(agent: AgentKey, slot: string, wake: WakeRequest | undefined): Waiter[] {
    this.slots.get(key(agent.type, agent.agentId))?.delete(slot);
    return wake ? this.wake(wake) : [];
  }

  /** Up to `limit` waiters of `type` past their deadline, each answered once per reservation period (marked woken). */
  private overdue(type: string, nowMs: number, limit: number): string[] {
    const woken = this.of(this.woken, type);
    const due = [...this.of(this.parked, type)]
      .filter(([, deadline]) => deadline <= nowMs)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([id]) => id)
      .filter((id) => (woken.get(id) ?? 0) <= nowMs);
    for (const id of due) woken.set(id, nowMs + WAKE_RESERVATION_MS);
    return due;
  }

  wake(req: WakeRequest): Waiter[] {
    const { agent, nowMs } = req;
    const woken: Waiter[] = this.overdue(agent.type, nowMs, 10).map((taskId) => ({ taskId, priority: PRIORITY.normal }));
    const open = this.circuitOf(agent);
    if (open && open.openUntilMs > nowMs) return woken;
    const capacity = open ? 1 : req.capacity;
    const slots = this.slotsOf(agent, nowMs);
    const token = randomUUID().slice(0, 8);
    while (capacity - slots.size > 0) {
      let best: { pool: string; id: string; score: number } | undefined;
      for (const pool of req.pools) {
        const head = this.head(this.of(this.queues, key(agent.type, pool)));
        if (head && (!best || head[1] < best.score)) best = { pool, id: head[0], score: head[1] };
      }
      if (!best) break;
      this.of(this.queues, key(agent.type, best.pool)).delete(best.id);
      this.hand(agent.type, agent.agentId, best.id, `${best.id}:w:${token}:${slots.size}`, nowMs);
      woken.push({ taskId: best.id, priority: priorityOfScore(best.score) });
    }
    return woken;
  }

  leave(type: string, pool: string, taskId: string): string | undefined {
    this.of(this.queues, key(type, pool)).delete(taskId);
    this.of(this.parked, type).delete(taskId);
    this.of(this.woken, type).delete(taskId);
    const handed = this.of(this.handed, type).get(taskId);
    if (!handed) return undefined;
    this.of(this.handed, type).delete(taskId);
    this.slots.get(key(type, handed.agentId))?.delete(handed.slot);
    return handed.agentId;
  }

  states(tasks: ReadonlyArray<{ agentType: string; taskId: string }>): Map<string, WaiterState> {
    const out = new Map<string, WaiterState>();
    for (const { agentType, taskId } of tasks) {
      const deadlineMs = this.parked.get(agentType)?.get(taskId);
      if (deadlineMs === undefined) continue;
      const wokenUntilMs = this.woken.get(agentType)?.get(taskId);
      out.set(taskId, wokenUntilMs === undefined ? { deadlineMs } : { deadlineMs, wokenUntilMs });
    }
    return out;
  }

  sweep(nowMs: number, limit: number): WaiterSweep {
    const sweep: WaiterSweep = { overdue: [], lostWakeUps: [] };
    for (const [type, woken] of this.woken) {
      const lost = [...woken]
        .filter(([, until]) => until <= nowMs)
        .sort((a, b) => a[1] - b[1])
        .slice(0, limit)
        .map(([id]) => id);
      for (const id of lost) woken.set(id, nowMs + WAKE_RESERVATION_MS);
      sweep.lostWakeUps.push(...lost);
      sweep.overdue.push(...this.overdue(type, nowMs, limit));
    }
    for (const type of this.parked.keys()) if (!this.woken.has(type)) sweep.overdue.push(...this.overdue(type, nowMs, limit));
    return sweep;
  }
}
