/**
 * The client's errors, one class per way a call can fail, so callers branch on the class (and on
 * `code` for the API's own answers) rather than on message text.
 */
export class OptiinfraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One `{field, message}` of a 400 validation error. */
export interface ApiErrorDetail {
  field: string;
  message: string;
}

/** The API answered with a 4xx or 5xx: `code` is the API's machine code (`task_not_found`, `no_capable_agent`, ...). */
export class ApiError extends OptiinfraError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    /** The answer's `Retry-After`, in milliseconds, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** No answer from the API: the connection failed, was reset, or no answer came within the request timeout. */
export class NetworkError extends OptiinfraError {}

/** Why `fetch` got no answer from `url`, in the words of a NetworkError (the client's, `optiinfra console`'s 502). */
export function unreachableMessage(url: URL, err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: unknown }).code;
  const why = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
  return `could not reach the API at ${url.origin} (${why}); is it running, and is the URL right?`;
}

/** `wait` or `run` gave up before the task ended; `task` is the last state seen, if any. */
export class TimeoutError extends OptiinfraError {
  constructor(
    message: string,
    readonly task?: unknown,
  ) {
    super(message);
  }
}

/** The client was set up wrongly (no region to sign for, a URL that is not http(s)); raised before any request. */
export class ConfigurationError extends OptiinfraError {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function detailsOf(value: unknown): ApiErrorDetail[] {
  if (!Array.isArray(value)) return [];
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return value.filter(isRecord).map((d) => ({ field: text(d.field), message: text(d.message) }));
}

/**
 * Builds the ApiError of an answer. The API's errors are `{error, code, details?}`; API Gateway's own
 * (a 403 for a bad signature, a 429 from throttling) are `{message}`, and a proxy may send no JSON at all.
 */
export function apiErrorOf(status: number, body: unknown, retryAfterMs?: number): ApiError {
  if (isRecord(body)) {
    const message = typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : undefined;
    const code = typeof body.code === 'string' ? body.code : `http_${status}`;
    if (message) return new ApiError(status, code, message, detailsOf(body.details), retryAfterMs);
  }
  const text = typeof body === 'string' && body.trim() ? `: ${body.trim().slice(0, 200)}` : '';
  return new ApiError(status, `http_${status}`, `the API answered HTTP ${status}${text}`, [], retryAfterMs);
}
