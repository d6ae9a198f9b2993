import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_GAUGE_KEYS, MinuteMaximum } from '../../functions/core/minute-maximum';

const MINUTE = 60_000;
/** A fake clock: a minute boundary, so `at(0)` is a minute's first millisecond. */
const T0 = 28_000_000 * MINUTE;
const at = (ms: number) => T0 + ms;

/** CloudWatch's Maximum per minute of the values published, for one key. */
function maxPerMinute(published: Array<{ value: number; t: number }>): Map<number, number> {
  const maxima = new Map<number, number>();
  for (const { value, t } of published) {
    const minute = Math.floor(t / MINUTE);
    maxima.set(minute, Math.max(maxima.get(minute) ?? Number.NEGATIVE_INFINITY, value));
  }
  return maxima;
}

describe('MinuteMaximum', () => {
  it("publishes a minute's first value and its new maxima, and nothing that is not above them", () => {
    const gate = new MinuteMaximum();
    const seen = [3, 2, 3, 5, 4, 5, 6, 1].map((value, i) => gate.shouldPublish('cost', value, at(i * 1000)));
    expect(seen).toEqual([true, false, false, true, false, false, true, false]);
  });

  it('publishes the first value of the next minute, even when it is lower', () => {
    const gate = new MinuteMaximum();
    expect(gate.shouldPublish('cost', 9, at(59_999))).toBe(true);
    expect(gate.shouldPublish('cost', 1, at(MINUTE))).toBe(true);
    expect(gate.shouldPublish('cost', 1, at(MINUTE + 1))).toBe(false);
    expect(gate.shouldPublish('cost', 2, at(MINUTE + 2))).toBe(true);
  });

  it('keeps each key apart', () => {
    const gate = new MinuteMaximum();
    expect(gate.shouldPublish('cost', 5, at(0))).toBe(true);
    expect(gate.shouldPublish('planner', 1, at(1))).toBe(true);
    expect(gate.shouldPublish('cost', 4, at(2))).toBe(false);
    expect(gate.shouldPublish('planner', 1, at(3))).toBe(false);
    expect(gate.size).toBe(2);
  });

  it('publishes again when the clock steps back into an earlier minute (never loses a maximum)', () => {
    const gate = new MinuteMaximum();
    expect(gate.shouldPublish('cost', 5, at(MINUTE))).toBe(true);
    expect(gate.shouldPublish('cost', 1, at(MINUTE - 10))).toBe(true);
    expect(gate.shouldPublish('cost', 1, at(MINUTE + 5))).toBe(true);
  });

  it('passes on a value that is not a finite number without letting it hide later ones', () => {
    const gate = new MinuteMaximum();
    expect(gate.shouldPublish('cost', Number.NaN, at(0))).toBe(true);
    expect(gate.shouldPublish('cost', 0, at(1))).toBe(true);
    expect(gate.shouldPublish('cost', 0, at(2))).toBe(false);
  });

  /** 5 000 random observations of three keys, ~1 s apart: each key's Maximum per minute, of all of them and of those published. */
  function randomRun(maxKeys: number) {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const gate = new MinuteMaximum(maxKeys);
    const keys = ['a', 'b', 'c'];
    const all = new Map(keys.map((k) => [k, [] as Array<{ value: number; t: number }>]));
    const published = new Map(keys.map((k) => [k, [] as Array<{ value: number; t: number }>]));
    let t = at(0);
    let maxSize = 0;
    for (let i = 0; i < 5_000; i++) {
      t += Math.floor(random() * 2_000);
      const key = keys[Math.floor(random() * keys.length)]!;
      const value = Math.floor(random() * 20);
      all.get(key)!.push({ value, t });
      if (gate.shouldPublish(key, value, t)) published.get(key)!.push({ value, t });
      maxSize = Math.max(maxSize, gate.size);
    }
    const kept = [...published.values()].reduce((n, list) => n + list.length, 0);
    return { keys, all, published, kept, maxSize };
  }

  it('gives the same Maximum per minute as publishing every value, and publishes a fraction of them', () => {
    const { keys, all, published, kept } = randomRun(DEFAULT_MAX_GAUGE_KEYS);
    for (const key of keys) expect(maxPerMinute(published.get(key)!), key).toEqual(maxPerMinute(all.get(key)!));
    // ~20 values per key and minute, of 0..19: the first and a few new maxima of each minute go out.
    expect(kept).toBeLessThan(5_000 / 4);
  });

  it('gives the same Maximum per minute when keys are evicted all the time (three keys, room for two)', () => {
    const { keys, all, published, maxSize } = randomRun(2);
    expect(maxSize).toBe(2);
    for (const key of keys) expect(maxPerMinute(published.get(key)!), key).toEqual(maxPerMinute(all.get(key)!));
  });

  it('holds at most maxKeys keys, forgetting the least recently published, which then publishes again', () => {
    const gate = new MinuteMaximum(2);
    expect(gate.shouldPublish('a', 1, at(0))).toBe(true);
    expect(gate.shouldPublish('b', 1, at(1))).toBe(true);
    expect(gate.shouldPublish('a', 2, at(2))).toBe(true); // a is now the most recent
    expect(gate.shouldPublish('c', 1, at(3))).toBe(true); // evicts b
    expect(gate.size).toBe(2);
    expect(gate.shouldPublish('a', 2, at(4))).toBe(false);
    expect(gate.shouldPublish('b', 1, at(5))).toBe(true); // forgotten: published again (evicts a, published at 2)
    expect(gate.shouldPublish('c', 1, at(6))).toBe(false);
    expect(gate.shouldPublish('a', 2, at(7))).toBe(true);
  });

  it('holds one entry per key, up to the default bound of 1 000 agent types', () => {
    const gate = new MinuteMaximum();
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < DEFAULT_MAX_GAUGE_KEYS + 500; i++) gate.shouldPublish(`type-${i}`, i, at(minute * MINUTE + i));
    }
    expect(DEFAULT_MAX_GAUGE_KEYS).toBe(1_000);
    expect(gate.size).toBe(DEFAULT_MAX_GAUGE_KEYS);
  });

  it('refuses a bound that is not a positive integer, naming the value', () => {
    expect(() => new MinuteMaximum(0)).toThrow('maxKeys must be a positive integer, got 0');
  });
});
