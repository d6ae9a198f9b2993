import { randomUUID } from 'node:crypto';
import type { AgentView, TaskStatusResponse, TaskSubmitResponse } from '@optiinfra/contract';
import {
  CLIENT_DEFAULTS,
  type CallOptions,
  type ClientOptions,
  type RunOptions,
  type SubmitOptions,
  type WaitOptions,
} from './client-options.js';
import { ConfigurationError } from './errors.js';
import { type HttpCall, HttpTransport } from './http-transport.js';
import { type RequestSigner, regionOfApiUrl, sigv4Signer } from './sigv4-signer.js';
import type { AgentPage, CancelTaskResponse, ListAgentsOptions, ListTasksOptions, SubmitTaskInput, TaskPage } from './wire-types.js';
import { waitForTask } from './wait-for-task.js';

export const CLIENT_VERSION = '0.1.0';

/** A typed client for the people who submit tasks: every method is one API call, except `wait` and `run`. */
export interface OptiinfraClient {
  /** POST /tasks. An Idempotency-Key goes with it unless `idempotencyKey: false`. */
  submit(task: SubmitTaskInput, options?: SubmitOptions): Promise<TaskSubmitResponse>;
  /** GET /tasks/{id}. */
  get(taskId: string, options?: CallOptions): Promise<TaskStatusResponse>;
  /** GET /tasks, newest first, one page per iteration, following `next_token` until the last page. */
  list(query?: ListTasksOptions, options?: CallOptions): AsyncIterable<TaskPage>;
  /** DELETE /tasks/{id}: 409 `task_already_finished` (an ApiError) once the task has ended. */
  cancel(taskId: string, options?: CallOptions): Promise<CancelTaskResponse>;
  /** Resolves with the task once it is terminal (completed, failed, timeout or cancelled), whatever its status. */
  wait(taskId: string, options?: WaitOptions): Promise<TaskStatusResponse>;
  /** `submit`, then `wait`: resolves with the terminal task (check its `status`), as Step Functions' StartSyncExecution does. */
  run(task: SubmitTaskInput, options?: RunOptions): Promise<TaskStatusResponse>;
  /** GET /agents, sorted by name, one page per iteration. */
  agents(query?: ListAgentsOptions, options?: CallOptions): AsyncIterable<AgentPage>;
  /** GET /agents/{id}. */
  agent(agentId: string, options?: CallOptions): Promise<AgentView>;
}

function parseApiUrl(apiUrl: string): URL {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ConfigurationError(`apiUrl must be an http(s) URL such as http://127.0.0.1:8080 (got "${apiUrl}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(`apiUrl must be an http(s) URL such as http://127.0.0.1:8080 (got "${apiUrl}")`);
  }
  return url;
}

/** Where the calls go and how they are signed, as a client with these options would send them. */
export interface ApiEndpoint {
  url: URL;
  /** Present when the calls are signed with SigV4 (an execute-api URL, or `sigv4: true`). */
  signer?: RequestSigner;
  /** The region signed for, with the signer. */
  region?: string;
}

/**
 * The endpoint of `options`: the URL checked, and the SigV4 signer when the calls are signed (an
 * execute-api host, or `sigv4: true`). Throws ConfigurationError before any call. `optiinfra
 * console` forwards the page's calls with it, signed exactly as the client signs its own.
 */
export function apiEndpoint(options: Pick<ClientOptions, 'apiUrl' | 'sigv4' | 'region' | 'credentials'>): ApiEndpoint {
  const url = parseApiUrl(options.apiUrl);
  const onAws = regionOfApiUrl(url) !== undefined;
  if (!(options.sigv4 ?? onAws)) return { url };
  const region = options.region ?? regionOfApiUrl(url) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigurationError(`no region to sign requests to ${url.origin} for: pass region, or set AWS_REGION`);
  return { url, region, signer: sigv4Signer({ region, ...(options.credentials ? { credentials: options.credentials } : {}) }) };
}

const withSignal = (options: CallOptions | undefined): Pick<HttpCall, 'signal'> => (options?.signal ? { signal: options.signal } : {});

function idempotencyHeaders(key: string | false | undefined): Record<string, string> {
  if (key === false) return {};
  return { 'idempotency-key': key ?? randomUUID() };
}

/** Creates a client. Nothing is sent until a method is called; SigV4's AWS modules load on the first signed request. */
export function createClient(options: ClientOptions): OptiinfraClient {
  const { url: apiUrl, signer } = apiEndpoint(options);
  const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
  const transport = new HttpTransport({
    apiUrl,
    ...(options.token ? { token: options.token } : {}),
    ...(signer ? { signer } : {}),
    retry: {
      maxRetries: options.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
      baseDelayMs: options.retryBaseDelayMs ?? CLIENT_DEFAULTS.retryBaseDelayMs,
      maxDelayMs: options.retryMaxDelayMs ?? CLIENT_DEFAULTS.retryMaxDelayMs,
    },
    requestTimeoutMs,
    userAgent: options.userAgent ?? `optiinfra-client/${CLIENT_VERSION}`,
  });
  const taskPath = (id: string) => `/tasks/${encodeURIComponent(id)}`;

  async function* pages<P extends { next_token?: string }>(
    path: string,
    query: Record<string, string | number | undefined>,
    call?: CallOptions,
  ) {
    let next = query.next_token;
    do {
      const page = (await transport.send({
        method: 'GET',
        path,
        query: { ...query, next_token: next },
        idempotent: true,
        ...withSignal(call),
      })) as P;
      yield page;
      next = page.next_token;
    } while (next);
  }

  const client: OptiinfraClient = {
    async submit(task, call) {
      const headers = idempotencyHeaders(call?.idempotencyKey);
      const sent = { method: 'POST', path: '/tasks', body: task, headers, idempotent: 'idempotency-key' in headers } as const;
      return (await transport.send({ ...sent, ...withSignal(call) })) as TaskSubmitResponse;
    },
    async get(taskId, call) {
      return (await transport.send({ method: 'GET', path: taskPath(taskId), idempotent: true, ...withSignal(call) })) as TaskStatusResponse;
    },
    list(query = {}, call) {
      return pages<TaskPage>(
        '/tasks',
        { status: query.status, agent_type: query.agent_type, limit: query.limit, next_token: query.next_token },
        call,
      );
    },
    async cancel(taskId, call) {
      // Not repeated after a lost answer: the repeat of a cancel that took effect would answer 409 task_already_finished.
      return (await transport.send({
        method: 'DELETE',
        path: taskPath(taskId),
        idempotent: false,
        ...withSignal(call),
      })) as CancelTaskResponse;
    },
    wait(taskId, waitOptions) {
      return waitForTask(transport, requestTimeoutMs, taskId, waitOptions);
    },
    async run(task, runOptions = {}) {
      const { idempotencyKey, ...waitOptions } = runOptions;
      const submitted = await client.submit(task, {
        ...withSignal(runOptions),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      return client.wait(submitted.task_id, waitOptions);
    },
    agents(query = {}, call) {
      return pages<AgentPage>(
        '/agents',
        { type: query.type, status: query.status, limit: query.limit, next_token: query.next_token },
        call,
      );
    },
    async agent(agentId, call) {
      return (await transport.send({
        method: 'GET',
        path: `/agents/${encodeURIComponent(agentId)}`,
        idempotent: true,
        ...withSignal(call),
      })) as AgentView;
    },
  };
  return client;
}
