/**
 * Limits on the free-form JSON the orchestrator stores (task parameters and metadata, agent
 * metadata, agent results). DynamoDB refuses documents nested more than 32 levels, and deep
 * nesting overflows the stack of anything recursive (JSON.stringify, the DynamoDB marshaller), so
 * depth is measured without recursion before anything else touches the value.
 */

export const JSON_LIMITS = {
  /** Levels of objects/arrays inside a field, the field itself being level 1. */
  maxDepth: 16,
  parametersBytes: 65_536,
  metadataBytes: 16_384,
} as const;

/** Nesting depth of a JSON value: 0 for a scalar, 1 for a flat object or array. Iterative, so any depth is safe. */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > stopAt) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, level]);
    }
  }
  return deepest;
}

/** Why `value` breaks the limits, or undefined when it does not. */
export function jsonLimitProblem(value: unknown, maxDepth: number, maxBytes: number): string | undefined {
  const depth = jsonDepth(value, maxDepth);
  if (depth > maxDepth) return `must nest at most ${maxDepth} levels of objects and arrays (got more than ${maxDepth})`;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > maxBytes) return `must be at most ${maxBytes} bytes as JSON (got ${bytes}); keep large inputs elsewhere and pass a reference`;
  return undefined;
}

/** Where a JSON value holds something the task store cannot keep, and what is wrong there. */
export interface UnstorablePlace {
  /** Keys and array indexes from the value down to the place; empty for the value itself. */
  path: Array<string | number>;
  problem: string;
}

/** The smallest magnitude DynamoDB keeps besides 0 (it answers "Number underflow" below it). */
const SMALLEST_STORED_MAGNITUDE = 1e-130;

/**
 * Why the task store cannot keep the number `n`, or undefined when it can. As the document client
 * marshals (lib-dynamodb, without allowImpreciseNumbers), numbers beyond ±Number.MAX_SAFE_INTEGER
 * are refused, and so are NaN and ±Infinity (JSON.parse makes 1e400 Infinity). DynamoDB itself
 * refuses magnitudes below 1E-130. Its other limits (38 significant digits, magnitudes up to
 * 9.99…E+125) cannot be broken by a double that passes these: a double prints at most 17
 * significant digits, and anything above 2^53 is already refused.
 */
export function numberProblem(n: number): string | undefined {
  if (!Number.isFinite(n))
    return `is not a finite number (a JSON number such as 1e400 is too large for a double); send a number of magnitude at most ${Number.MAX_SAFE_INTEGER}, or a string`;
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER)
    return `is ${n} as a double, beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1), the largest number kept exactly; send it as a string`;
  if (n !== 0 && Math.abs(n) < SMALLEST_STORED_MAGNITUDE)
    return `is ${n}, closer to 0 than 1e-130, the smallest magnitude the task store keeps; send 0, or the number as a string`;
  return undefined;
}

const PROTO_PROBLEM =
  'is a key named "__proto__", which the task store cannot keep (JavaScript reads it as the object\'s prototype); rename the key';

/**
 * A place (the first one met depth first) where `value` holds what the task store cannot keep: a
 * number of numberProblem, or a key named `__proto__` (the marshaller turns it into the prototype
 * of the map it builds, so DynamoDB refuses the item or, inside a list, keeps garbage). Undefined
 * when all of it can be stored. Iterative, each node visited once, so any depth is safe.
 */
export function unstorablePlace(value: unknown): UnstorablePlace | undefined {
  interface Node {
    value: unknown;
    key?: string | number;
    parent?: Node;
  }
  const pathOf = (node: Node): Array<string | number> => {
    const path: Array<string | number> = [];
    for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) path.push(n.key);
    return path.reverse();
  };
  const stack: Node[] = [{ value }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'number') {
      const problem = numberProblem(v);
      if (problem) return { path: pathOf(node), problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: i, parent: node });
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return { path: [...pathOf(node), '__proto__'], problem: PROTO_PROBLEM };
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      stack.push({ value: (v as Record<string, unknown>)[key], key, parent: node });
    }
  }
  return undefined;
}
