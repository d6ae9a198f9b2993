/**
 * Typed errors, classified once. `status` is the HTTP status the API answers with; only messages
 * of errors below 500 are shown to callers. `retryable` tells the workflow whether trying again can help.
 */
export class AppError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly retryable = false,
    options?: { cause?: unknown; expose?: boolean },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.expose = options?.expose ?? status < 500;
  }

  /** Whether the message is meant for the caller (every 4xx, and 503s that say what to change). */
  readonly expose: boolean;
}

export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message, 'validation_error', 400);
  }
}

export class InvalidJsonError extends AppError {
  constructor(detail: string) {
    super(`request body is not valid JSON (${detail}); send a JSON object`, 'invalid_json', 400);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(got: string) {
    super(`content-type must be application/json (got "${got}")`, 'unsupported_media_type', 415);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number, gotBytes: number) {
    super(
      `request body is ${gotBytes} bytes; the limit is ${limitBytes} bytes. Keep large inputs elsewhere (for example S3) and pass a reference in parameters`,
      'payload_too_large',
      413,
    );
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(message, code, 404);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(message, code, 409);
  }
}

/** No credential, or one this orchestrator does not know (401). */
export class UnauthorizedError extends AppError {
  constructor(message: string, code: string) {
    super(message, code, 401);
  }
}

/** A valid credential for something else: one agent acting for another (403). */
export class ForbiddenError extends AppError {
  constructor(message: string, code: string) {
    super(message, code, 403);
  }
}

/** Well-formed but not acceptable as it stands (for example an Idempotency-Key reused with another body). */
export class UnprocessableError extends AppError {
  constructor(message: string, code: string) {
    super(message, code, 422);
  }
}

export class NoCapableAgentError extends AppError {
  constructor(message: string) {
    super(message, 'no_capable_agent', 503, false, { expose: true });
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allowed: string[]) {
    super(`${method} is not allowed on ${path}; use ${allowed.join(' or ')}`, 'method_not_allowed', 405);
  }
}

/** A dependency (DynamoDB, SQS, Step Functions) failed; the caller may try again. */
export class DependencyError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(message, 'dependency_error', 503, true, { cause });
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
