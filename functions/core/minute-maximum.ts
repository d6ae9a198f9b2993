/**
 * Which observations of a gauge a process must publish so that CloudWatch's Maximum per minute is
 * unchanged: per key (an agent type), the first observation of a minute and every new maximum of that
 * minute. Any observation it drops is <= one already published in the same minute, so the Maximum
 * over all the processes' publications is the one every observation would have given; a Maximum over
 * longer periods (5 minutes, an hour) is the maximum of those minutes', so it is unchanged too.
 *
 * Bounded: one entry per key (the current minute and its maximum), replaced when the minute changes,
 * and at most `maxKeys` keys, the least recently published evicted first. Forgetting a key only
 * makes its next observation publish again, so eviction never loses a maximum.
 */

const MINUTE_MS = 60_000;
/** More agent types than a deployment has (MAX_AGENTS_PER_TYPE bounds agents, not types): a bound, not a budget. */
export const DEFAULT_MAX_GAUGE_KEYS = 1_000;

interface MinuteMax {
  minute: number;
  max: number;
}

export class MinuteMaximum {
  /** Key → its minute's maximum; Map order is publication order, so the first key is the least recently published. */
  private readonly entries = new Map<string, MinuteMax>();

  constructor(private readonly maxKeys: number = DEFAULT_MAX_GAUGE_KEYS) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
  }

  /**
   * Whether to publish `value` for `key`, observed at `timestampMs` (epoch ms: the timestamp the
   * published metric carries, so both agree on its minute). Records it when the answer is yes.
   */
  shouldPublish(key: string, value: number, timestampMs: number): boolean {
    // Not a number CloudWatch compares (it would also stop every later value of the minute): pass it on, keep nothing.
    if (!Number.isFinite(value)) return true;
    const minute = Math.floor(timestampMs / MINUTE_MS);
    const entry = this.entries.get(key);
    // Same minute and not above what was published in it: CloudWatch already has a value at least as high.
    if (entry && entry.minute === minute && !(value > entry.max)) return false;
    // A first observation of the minute (or of the key), a new maximum, or a value from another
    // minute (a clock stepped back): publishing it is always safe.
    this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { minute, max: value });
    return true;
  }

  /** Keys held: at most maxKeys. */
  get size(): number {
    return this.entries.size;
  }
}
