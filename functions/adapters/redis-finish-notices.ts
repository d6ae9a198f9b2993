import { Cluster } from 'ioredis';
import type { FinishListener, FinishNotices } from '../core/finish-notices';
import type { TaskStatus } from '../core/task-model';
import { FinishListeners } from './finish-listeners';
import { cacheKeys } from './redis-cache-keys';
import type { CacheClient } from './redis-connection';

const noError = (): undefined => undefined;
const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(`SSUBSCRIBE failed: ${String(err)}`));

/** How RedisTaskCache runs a command: within its deadline, answering `fallback` when the cache fails. */
export type SafeCall = <T, F>(what: string, op: () => Promise<T>, fallback: F) => Promise<T | F>;

/**
 * Notices of finished tasks over Redis sharded pub/sub (SPUBLISH / SSUBSCRIBE): each task has a
 * channel of its own, which a cluster serves from the shard of its slot, so notices spread over the
 * shards as the task keys do and no node relays every message (classic PUBLISH goes to every node).
 * Subscribing needs a connection of its own; it is opened on the first wait, so functions that only
 * announce (dispatcher, reconciler) never open it.
 */
export class RedisFinishNotices implements FinishNotices {
  private subscriber: CacheClient | undefined;
  private readonly listeners = new FinishListeners();
  /** The SSUBSCRIBE of each channel with listeners, which later listeners of the channel wait for too. */
  private readonly subscribed = new Map<string, Promise<Error | undefined>>();

  constructor(
    private readonly redis: CacheClient,
    private readonly safe: SafeCall,
  ) {}

  async announceFinished(taskId: string, status: TaskStatus): Promise<void> {
    await this.safe('announce finished', () => this.redis.spublish(cacheKeys.finished(taskId), status), undefined);
  }

  async listenForFinish(taskId: string): Promise<FinishListener | undefined> {
    const sub = this.connection();
    // Reconnecting: a subscription would only queue, and the request has a better use for its time.
    if (sub.status === 'reconnecting' || sub.status === 'end') return undefined;
    const channel = cacheKeys.finished(taskId);
    const { listener, first } = this.listeners.add(channel, () => this.unsubscribe(channel));
    // Settled with its error rather than rejected: a request that gave up on it leaves no rejection unhandled.
    if (first) this.subscribed.set(channel, sub.ssubscribe(channel).then(noError, asError));
    const subscribing = this.subscribed.get(channel);
    const ok = await this.safe(
      'listen for finish',
      async () => {
        const failed = await subscribing;
        if (failed) throw failed;
        return true;
      },
      false,
    );
    if (ok) return listener;
    await listener.close();
    return undefined;
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  private async unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
    // Not awaited: the answer is already sent, and a cluster that is down would hold this until it is back.
    this.subscriber?.sunsubscribe(channel).catch(noError);
  }

  private connection(): CacheClient {
    if (this.subscriber) return this.subscriber;
    // On a cluster, one subscriber connection per shard, each holding the channels of its slots.
    const sub = this.redis instanceof Cluster ? this.redis.duplicate([], { shardedSubscribers: true }) : this.redis.duplicate();
    sub.on('error', () => undefined);
    sub.on('smessage', (channel: string) => this.listeners.deliver(channel));
    this.subscriber = sub;
    return sub;
  }
}
