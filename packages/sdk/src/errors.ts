/**
 * Errors the SDK throws. `code` is stable and machine-readable; messages say what to change.
 */
export class AgentError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The options given to `new Agent()` cannot work (for example an invalid name, or no handler). */
export class AgentConfigError extends AgentError {
  constructor(message: string) {
    super(message, 'invalid_config');
  }
}

/** The orchestrator refused the registration (a 4xx); retrying the same request will not help. */
export class RegistrationError extends AgentError {
  constructor(
    message: string,
    /** HTTP status of the orchestrator's answer. */
    readonly status: number,
    /** The orchestrator's error code, such as `validation_error`. */
    readonly orchestratorCode: string | undefined,
  ) {
    super(message, 'registration_refused');
  }
}

/** The orchestrator could not be reached (or kept answering 5xx) for as long as the agent was told to try. */
export class OrchestratorUnreachableError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'orchestrator_unreachable', options);
  }
}

/** `start()` was aborted through its `signal`, or `stop()` was called while it was still registering. */
export class AgentAbortedError extends AgentError {
  constructor(message = 'agent start was aborted') {
    super(message, 'aborted');
  }
}

/**
 * Throw from a task handler when another attempt cannot succeed (bad parameters, a resource that does
 * not exist): the agent answers `{"status": "failed", "retryable": false}` and the orchestrator fails
 * the task at once instead of retrying it. Any error with `retryable === false` does the same.
 */
export class NonRetryableTaskError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableTaskError';
  }
}
