/**
 * What the callback use cases need from the outside world: the conditional writes that keep a
 * task's callback to one send at a time, its listing of due callbacks, and the guarded HTTP POST.
 */
import type { CallbackAnswer } from './task-callback';

/** How a callback attempt ended, for the state item: delivered and failed end it; a retry waits until `retryAt`. */
export type CallbackSettlement =
  | { status: 'sent'; at: string }
  | { status: 'failed'; error: string }
  | { status: 'pending'; error: string; retryAt: number };

/** A task whose callback is pending, and when (ms since epoch) its next attempt may be claimed. */
export interface DueCallback {
  taskId: string;
  dueAt: number;
}

/**
 * The callback fields of the task's state item. Each write is conditional on the callback being
 * pending with the attempt count read, so two senders never hold the same attempt; a pending
 * callback is listed in a sparse, sharded index by when it is due, until it is sent or failed.
 */
export interface CallbackStore {
  /**
   * Takes attempt `attempts + 1`: only while the callback is pending, `attempts` were claimed, and no
   * lease runs at `nowMs`; the lease ends at `leaseUntil`. False when another sender got there first.
   */
  claim(taskId: string, attempts: number, nowMs: number, leaseUntil: number): Promise<boolean>;
  /** Records how claimed attempt `attempt` ended; false when it is no longer the callback's latest attempt. */
  settle(taskId: string, attempt: number, outcome: CallbackSettlement): Promise<boolean>;
  /** Pending callbacks due before `beforeMs` (all when undefined), the most overdue first, up to `limit` per shard. */
  listDue(beforeMs: number | undefined, limit: number): Promise<DueCallback[]>;
}

export interface CallbackTarget {
  url: string;
  secret: string;
}

export interface CallbackClient {
  /** POSTs `body` signed with the target's secret under `webhookId`, through the outbound guard, within `timeoutMs`; never throws. */
  send(target: CallbackTarget, webhookId: string, body: string, timeoutMs: number): Promise<CallbackAnswer>;
}
