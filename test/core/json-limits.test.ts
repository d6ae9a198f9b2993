import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, jsonDepth, jsonLimitProblem, numberProblem, unstorablePlace } from '@optiinfra/contract';

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

describe('unstorablePlace', () => {
  it.each([
    ['2^64', '{"a":18446744073709551616}', ['a'], 'beyond ±9007199254740991'],
    ['2^53, the first integer past the safe range', '{"a":9007199254740992}', ['a'], 'send it as a string'],
    ['-2^53', '{"a":-9007199254740992}', ['a'], 'beyond ±9007199254740991'],
    ['1e126, above what DynamoDB keeps', '{"a":1e126}', ['a'], 'beyond ±9007199254740991'],
    ['1e400 (Infinity once parsed)', '{"a":{"b":1e400}}', ['a', 'b'], 'is not a finite number'],
    ['-1e400', '{"a":[0,-1e400]}', ['a', 1], 'is not a finite number'],
    ["1e-131, below DynamoDB's smallest magnitude", '{"a":1e-131}', ['a'], 'closer to 0 than 1e-130'],
    ['5e-324, the smallest double', '{"x":[{"y":5e-324}]}', ['x', 0, 'y'], 'closer to 0 than 1e-130'],
    ['a top-level __proto__ key', '{"__proto__":{"admin":true}}', ['__proto__'], 'a key named "__proto__"'],
    ['a nested __proto__ key', '{"a":{"b":{"__proto__":1}}}', ['a', 'b', '__proto__'], 'rename the key'],
    ['a __proto__ key inside a list', '{"a":[{"__proto__":{"S":"x"}}]}', ['a', 0, '__proto__'], 'a key named "__proto__"'],
    ['the value itself', '1e400', [], 'is not a finite number'],
  ])('finds %s', (_label, json, path, fragment) => {
    const place = unstorablePlace(JSON.parse(json));
    expect(place?.path).toEqual(path);
    expect(place?.problem).toContain(fragment);
  });

  it.each([
    ['the largest safe integer', '{"a":9007199254740991,"b":-9007199254740991}'],
    ['1e-130, the smallest magnitude DynamoDB keeps', '{"a":1e-130,"b":-1.5e-130}'],
    ['0, -0, fractions and exponents', '{"a":0,"b":-0,"c":0.1,"d":1e-7,"e":3.14159e10}'],
    ['keys that only look special', '{"constructor":1,"prototype":{"__proto":2},"proto__":3,"":4}'],
    ['strings, booleans, null, empty containers', '{"s":"1e400","t":true,"n":null,"o":{},"l":[]}'],
  ])('accepts %s', (_label, json) => {
    expect(unstorablePlace(JSON.parse(json))).toBeUndefined();
  });

  it('answers the first place met, depth first', () => {
    expect(unstorablePlace(JSON.parse('{"a":[1,{"b":1e400}],"c":1e400}'))?.path).toEqual(['a', 1, 'b']);
  });

  it('walks 100 000 levels without overflowing the stack, and finds what is at the bottom', () => {
    let value: unknown = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 100_000; i++) value = i % 2 === 0 ? { a: value } : [value];
    const place = unstorablePlace(value);
    expect(place?.path).toHaveLength(100_000);
    expect(place?.problem).toContain('not a finite number');
    expect(unstorablePlace(nested(100_000))).toBeUndefined();
  });

  it('numberProblem names the number and what to send instead', () => {
    expect(numberProblem(2 ** 64)).toBe(
      'is 18446744073709552000 as a double, beyond ±9007199254740991 (2^53 - 1), the largest number kept exactly; send it as a string',
    );
    expect(numberProblem(Number.NaN)).toContain('is not a finite number');
    expect(numberProblem(12.5)).toBeUndefined();
  });
});
