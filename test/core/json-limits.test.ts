import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, jsonDepth, jsonLimitProblem } from '../../functions/core/json-limits';

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

describe('jsonDepth', () => {
  it.each([
    ['a number', 1, 0],
    ['null', null, 0],
    ['a string', 'x', 0],
    ['an empty object', {}, 1],
    ['a flat object', { a: 1, b: 'x' }, 1],
    ['an empty array', [], 1],
    ['an object in an array', [{ a: 1 }], 2],
    ['the deepest branch counts', { a: 1, b: { c: { d: [1] } }, e: [] }, 4],
    ['16 levels', nested(16), 16],
  ])('%s has depth %i', (_label, value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('measures 100 000 levels without overflowing the stack', () => {
    expect(jsonDepth(nested(100_000))).toBe(100_000);
  });

  it('stops early once past the limit', () => {
    expect(jsonDepth(nested(100_000), 16)).toBe(17);
  });
});

describe('jsonLimitProblem', () => {
  it('accepts a value at the limits', () => {
    expect(jsonLimitProblem(nested(JSON_LIMITS.maxDepth), JSON_LIMITS.maxDepth, 1_000)).toBeUndefined();
    expect(jsonLimitProblem({ s: 'x'.repeat(1_000 - 8) }, 16, 1_000)).toBeUndefined();
  });

  it('names the depth limit, and never stringifies a too-deep value', () => {
    expect(jsonLimitProblem(nested(100_000), 16, 1_000_000)).toBe('must nest at most 16 levels of objects and arrays (got more than 16)');
  });

  it('names the size limit and the size received', () => {
    expect(jsonLimitProblem({ s: 'x'.repeat(1_000) }, 16, 1_000)).toBe(
      'must be at most 1000 bytes as JSON (got 1008); keep large inputs elsewhere and pass a reference',
    );
  });

  it('counts bytes, not characters', () => {
    expect(jsonLimitProblem({ s: 'é'.repeat(500) }, 16, 1_000)).toContain('(got 1008)');
  });
});
