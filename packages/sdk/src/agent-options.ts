import { AGENT_TASK_REQUEST_MAX_BYTES, type RegisterAgentRequest, registerAgentRequestSchema } from '@optiinfra/contract';
import type { AgentLogger } from './agent-logger.js';
import type { ReportEvent, ReportRetryOptions } from './attempt-channel.js';
import { AgentConfigError } from './errors.js';

/** Time limits of the agent's server: a sender that is too slow is cut off, not waited for. */
export interface ServerTimeouts {
  /** To receive a request's headers. Default 10 000 ms. */
  headersMs: number;
  /** To receive a whole request, body included (not the handler's run). Default 30 000 ms. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. Default 5 000 ms. */
  keepAliveMs: number;
}

/** Key and certificate (PEM) to serve HTTPS with; the certificate must be valid for `advertiseHost`. */
export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
}

/** How `start()` retries registration while the orchestrator cannot be reached or answers 5xx. */
export interface RegistrationRetryOptions {
  /** Wait before the second attempt; doubles each time, with jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** Longest wait between attempts. Default 10 000 ms. */
  maxDelayMs?: number;
  /** Attempts before `start()` rejects with `OrchestratorUnreachableError`. Default: unlimited (bound it with `start({ signal })`). */
  maxAttempts?: number;
}

/** Options of `new Agent(options)`. Only `name` and `type` are required. */
export interface AgentOptions {
  /** Agent name, 1-64 letters, digits, "_", ".", ":" or "-". The same name, advertised host and port keep the same agent id. */
  name: string;
  /** Agent type that clients submit tasks for, such as "cost". */
  type: string;
  /** Task types to offer. Default: the task types given to `handle()`. */
  capabilities?: string[];
  /** Port to serve POST /task and GET /health on. Default 0: a free port, read from `agent.port` after `start()`. A fixed port keeps the agent id stable across restarts. */
  port?: number;
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Host the orchestrator should call, registered as the agent's `host`. Default: `host`; required when `host` is "0.0.0.0" or "::". */
  advertiseHost?: string;
  /** Base URL of the orchestrator API. Default "http://127.0.0.1:8080". */
  orchestratorUrl?: string;
  /** Version string sent at registration. Default "1.0.0". */
  version?: string;
  /** Tasks the orchestrator may send at once (registered as `max_concurrency`). Default 10 (1-1000). */
  maxConcurrency?: number;
  /** Deliveries beyond this many running tasks are refused with HTTP 503 and Retry-After: 1. Default: `maxConcurrency`. */
  refuseAbove?: number;
  /** Free-form JSON sent at registration. Default `{}`. */
  metadata?: Record<string, unknown>;
  /** Check Standard Webhooks signatures on deliveries once the orchestrator has given a signing secret; a bad signature gets HTTP 401. Default true. */
  verifySignatures?: boolean;
  /** Refuse (401) deliveries without a signature. Default true; false only for a sender that does not sign (the seed's orchestrator). */
  requireSignatures?: boolean;
  /** Serve POST /task over HTTPS with this key and certificate, and register the `https` scheme. Default: plain HTTP. */
  tls?: TlsOptions;
  /** Largest task body read; a larger one is refused with 413 before it is read. Default: the orchestrator's largest TaskRequest (about 84 KiB). */
  maxBodyBytes?: number;
  /** Header, request and keep-alive timeouts of the agent's server. */
  serverTimeouts?: Partial<ServerTimeouts>;
  /** How long `stop()` waits for running handlers before aborting their signals and closing connections. Default 30 000 ms. */
  stopGraceMs?: number;
  /** Time limit of each call to the orchestrator (register, heartbeat, unregister, report, progress). Default 10 000 ms. */
  requestTimeoutMs?: number;
  registrationRetry?: RegistrationRetryOptions;
  /** How long-running handlers' reports are retried. Default: from 500 ms doubling to 30 s, 20 tries. */
  reportRetry?: ReportRetryOptions;
  /** Called once per long-running attempt when its report settled (or was not sent): for metrics and tests. */
  onReport?: (event: ReportEvent) => void;
  /** Sent as X-Fleet-Token when registering, for an orchestrator that has FLEET_TOKENS. */
  fleetToken?: string;
  /** Sent as `Authorization: Bearer <apiToken>` on calls to the orchestrator (a local runtime started with API_TOKENS). */
  apiToken?: string;
  /** `fetch` used for calls to the orchestrator: swap in a signing (for example SigV4) or fake fetch. Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Where the agent reports registration, heartbeat and task problems. Default: silent. `console` fits. */
  logger?: AgentLogger;
}

export const AGENT_DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  orchestratorUrl: 'http://127.0.0.1:8080',
  maxConcurrency: 10,
  verifySignatures: true,
  requireSignatures: true,
  stopGraceMs: 30_000,
  maxBodyBytes: AGENT_TASK_REQUEST_MAX_BYTES,
  serverTimeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 } satisfies ServerTimeouts,
  requestTimeoutMs: 10_000,
  registrationRetry: { initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: Number.POSITIVE_INFINITY },
  /** Used when an orchestrator does not say how often to heartbeat (the seed's 30 s). */
  heartbeatIntervalSeconds: 30,
} as const;

/** The registration the options describe, validated by the wire contract; option names, not wire names, in the error. */
export function registrationRequest(options: AgentOptions, host: string, port: number, capabilities: string[]): RegisterAgentRequest {
  const parsed = registerAgentRequestSchema.safeParse({
    name: options.name,
    type: options.type,
    host,
    port,
    capabilities,
    version: options.version,
    max_concurrency: options.maxConcurrency ?? AGENT_DEFAULTS.maxConcurrency,
    metadata: options.metadata,
    // Sent only for TLS: an orchestrator that predates the field still takes the rest.
    ...(options.tls ? { scheme: 'https' } : {}),
  });
  if (!parsed.success) {
    const fieldNames: Record<string, string> = { host: 'advertiseHost', max_concurrency: 'maxConcurrency' };
    const issues = parsed.error.issues.map((i) => {
      const field = String(i.path[0] ?? 'options');
      return `${fieldNames[field] ?? field}${i.path.length > 1 ? `[${i.path.slice(1).join('.')}]` : ''} ${i.message}`;
    });
    throw new AgentConfigError(`invalid agent options: ${issues.join('; ')}`);
  }
  return parsed.data;
}
