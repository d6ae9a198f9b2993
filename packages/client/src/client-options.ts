import type { TaskStatusResponse } from '@optiinfra/contract';
import type { AwsCredentials, AwsCredentialsProvider } from './sigv4-signer.js';

/** How to reach the API. Only `apiUrl` is required. */
export interface ClientOptions {
  /** Base URL of the API: `http://127.0.0.1:8080` locally, the stack's `ApiUrl` output on AWS. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer <token>`: one of the local runtime's `API_TOKENS`. Ignored when signing. */
  token?: string;
  /**
   * Sign requests with SigV4 for API Gateway (service `execute-api`). Default: on when `apiUrl` is an
   * `execute-api` host, as a deployed stack's is; set it for a custom domain in front of the API.
   */
  sigv4?: boolean;
  /** Region to sign for. Default: the one in an `execute-api` URL, else AWS_REGION or AWS_DEFAULT_REGION. */
  region?: string;
  /** Credentials to sign with. Default: the AWS SDK's default credential chain (environment, profile, SSO, instance role). */
  credentials?: AwsCredentials | AwsCredentialsProvider;
  /** Retries after the first try, on network errors (for calls safe to repeat), 429 and 503. Default 3. */
  maxRetries?: number;
  /** The first retry waits up to this long, each later one up to twice as long (full jitter). Default 200 ms. */
  retryBaseDelayMs?: number;
  /** The longest wait before a retry (a `Retry-After` may ask for up to 4 times this). Default 5 000 ms. */
  retryMaxDelayMs?: number;
  /** How long one request may take before it counts as a network error; a wait's long poll gets its own N s on top. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Sent as `User-Agent`. Default `optiinfra-client/<version>`. */
  userAgent?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call (and its retries); the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface SubmitOptions extends CallOptions {
  /**
   * The `Idempotency-Key` header. Default: a new UUID per call, reused on its retries, so a retried
   * submit never creates a second task. `false` sends none (and then a lost answer is not retried).
   */
  idempotencyKey?: string | false;
}

export interface WaitOptions extends CallOptions {
  /** Give up (TimeoutError) after this long. Default: wait until the task ends. */
  timeoutMs?: number;
  /** Longest a single request waits on the server (`?wait=N`), 1-20 s. Default 20 (API Gateway allows 30). */
  pollSeconds?: number;
  /** Called with each state seen that is not yet terminal (status, agent, attempts, progress). */
  onUpdate?: (task: TaskStatusResponse) => void;
}

export interface RunOptions extends WaitOptions {
  idempotencyKey?: string | false;
}

export const CLIENT_DEFAULTS = {
  maxRetries: 3,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 5_000,
  requestTimeoutMs: 30_000,
  pollSeconds: 20,
  /** API Gateway ends a request at 30 s; 20 s leaves room for the answer. */
  maxPollSeconds: 20,
} as const;
