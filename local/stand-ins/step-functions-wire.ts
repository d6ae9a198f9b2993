/**
 * How the local Step Functions endpoint speaks: the errors it answers with their AWS types, the
 * fields it reads from a request, and execution times and failures as DescribeExecution reports them.
 */

/** An error the API answers with its AWS error type (HTTP 400). */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function toEpochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

/** Error name and cause as DescribeExecution reports them for a failed run. */
export function failureOf(err: unknown): { error: string; cause?: string } {
  const e = err as { name?: string; message?: string; cause?: { name?: string; message?: string } };
  if (e?.name === 'ExecutionTimeoutError') return { error: 'States.Timeout', cause: 'The execution timed out' };
  if (e?.name === 'ExecutionError' && e.cause) return { error: e.cause.name ?? 'Error', cause: e.cause.message };
  return { error: e?.name ?? 'Error', cause: e?.message ?? String(err) };
}

export function stringField(body: Record<string, unknown>, field: string, required: true): string;
export function stringField(body: Record<string, unknown>, field: string, required?: false): string | undefined;
export function stringField(body: Record<string, unknown>, field: string, required = false): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw new ApiError('MissingRequiredParameter', `${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new ApiError('ValidationException', `${field} must be a string`);
  return value;
}
