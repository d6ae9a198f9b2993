import type { FinishListener } from '../core/finish-notices';

/**
 * The listeners of one process, by channel: many requests may wait for one task (the local runtime
 * serves them all in one process), and the channel is subscribed once for all of them and given up
 * when the last one closes.
 */
export class FinishListeners {
  private readonly byChannel = new Map<string, Set<() => void>>();

  /** A new listener on `channel`; `first` when the channel had none (subscribe it); `onLast` runs when the last one closes. */
  add(channel: string, onLast: () => Promise<void>): { listener: FinishListener; first: boolean } {
    const existing = this.byChannel.get(channel);
    const wakers = existing ?? new Set<() => void>();
    if (!existing) this.byChannel.set(channel, wakers);
    let wake: () => void = () => undefined;
    const heard = new Promise<void>((resolve) => {
      wake = resolve;
    });
    wakers.add(wake);
    const close = async (): Promise<void> => {
      // Only the set this listener joined: a later subscription of the same channel is not ours to end.
      if (!wakers.delete(wake) || wakers.size > 0 || this.byChannel.get(channel) !== wakers) return;
      this.byChannel.delete(channel);
      await onLast().catch(() => undefined);
    };
    return { listener: { heard, close }, first: !existing };
  }

  /** Wakes every listener of the channel (they stay until they close). */
  deliver(channel: string): void {
    for (const wake of this.byChannel.get(channel) ?? []) wake();
  }
}
