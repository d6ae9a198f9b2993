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
