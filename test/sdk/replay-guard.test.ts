import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../packages/sdk/src/replay-guard';

describe('ReplayGuard', () => {
  it('knows an id until its time is up, then forgets it', () => {
    const guard = new ReplayGuard(10);
    expect(guard.remember('t:1', 1_000, 0)).toBe('remembered');
    expect(guard.has('t:1', 999)).toBe(true);
    expect(guard.remember('t:1', 2_000, 500)).toBe('duplicate');
    expect(guard.has('t:1', 1_000)).toBe(false);
    expect(guard.remember('t:1', 3_000, 1_000)).toBe('remembered');
  });

  it('stays within its bound: when every id is still in its window it refuses new ones rather than forget one', () => {
    const guard = new ReplayGuard(3);
    for (const id of ['a', 'b', 'c']) expect(guard.remember(id, 10_000, 0)).toBe('remembered');
    expect(guard.remember('d', 10_000, 1)).toBe('full');
    expect(guard.size).toBe(3);
    expect(guard.has('a', 1)).toBe(true);
    // Once they expire there is room again, even when the expired ones are not the oldest inserted.
    const mixed = new ReplayGuard(2);
    mixed.remember('late', 5_000, 0);
    mixed.remember('early', 1_000, 0);
    expect(mixed.remember('next', 9_000, 2_000)).toBe('remembered');
    expect(mixed.size).toBe(2);
  });
});
