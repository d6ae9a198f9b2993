/**
 * What the in-memory stores share with DynamoDB as the Dynamo stores use it: a stored value is a
 * copy with undefined dropped (the document client's removeUndefinedValues), and a request
 * DynamoDB would refuse is an error of the same name, not a quiet success.
 */

/**
 * A copy of `value` as DynamoDB would hand it back: plain objects and arrays copied all the way
 * down, without undefined members or elements, so nobody can change stored state through it.
 */
export function storedCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map((v: unknown) => storedCopy(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = storedCopy(v);
    return out as T;
  }
  return value;
}

export type StoreErrorName = 'ValidationException' | 'ConditionalCheckFailedException';

/** An error named as DynamoDB names it (ValidationException, ConditionalCheckFailedException), with its message. */
export function storeError(name: StoreErrorName, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** The request names the same attribute twice (DynamoDB refuses such an update expression). */
export function overlappingPath(paths: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path)) return path;
    seen.add(path);
  }
  return undefined;
}

export function overlapError(path: string): Error {
  return storeError(
    'ValidationException',
    `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${path}], path two: [${path}]`,
  );
}
