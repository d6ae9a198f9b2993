/**
 * The `webhook-id`s of deliveries this agent accepted, each kept until its signed timestamp is out
 * of the tolerance window (after which the signature check refuses it anyway). Bounded: when full
 * of ids that are all still in their window, new deliveries are refused rather than old ids
 * forgotten, so a replay can never slip through by eviction.
 */
export class ReplayGuard {
  /** id → when it may be forgotten (ms). Insertion order is close to expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.seen.size;
  }

  has(id: string, nowMs: number): boolean {
    const until = this.seen.get(id);
    return until !== undefined && until > nowMs;
  }

  /** Records `id` until `untilMs`; false when it was already there, or when the memory is full. */
  remember(id: string, untilMs: number, nowMs: number): 'remembered' | 'duplicate' | 'full' {
    if (this.has(id, nowMs)) return 'duplicate';
    this.forgetExpired(nowMs, false);
    if (this.seen.size >= this.maxEntries) this.forgetExpired(nowMs, true);
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(id, untilMs);
    return 'remembered';
  }

  private forgetExpired(nowMs: number, everywhere: boolean): void {
    for (const [id, until] of this.seen) {
      // Ids arrive roughly in timestamp order: usually stop at the first one still in its window.
      if (until <= nowMs) this.seen.delete(id);
      else if (!everywhere) break;
    }
  }
}
