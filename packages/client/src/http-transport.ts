import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, apiErrorOf, NetworkError, unreachableMessage } from './errors.js';
import type { RequestSigner } from './sigv4-signer.js';

export interface RetrySettings {
  /** Retries after the first try. */
  maxRetries: number;
  /** The first retry waits up to this long (full jitter), each later one up to twice as long as the one before. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface TransportSettings {
  apiUrl: URL;
  token?: string;
  signer?: RequestSigner;
  retry: RetrySettings;
  requestTimeoutMs: number;
  userAgent: string;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Whether sending it again after a lost answer is harmless: reads, cancels, and submits with an Idempotency-Key. */
  idempotent: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A 503 that says no registered agent can serve the task will say so again: only a briefly
 * unavailable dependency (503 `dependency_error`, API Gateway's own 503) or throttling (429) is worth a retry.
 */
const PERMANENT_503 = new Set(['no_capable_agent']);

function worthRetrying(err: unknown, call: HttpCall): boolean {
  if (err instanceof NetworkError) return call.idempotent;
  if (err instanceof ApiError) return err.status === 429 || (err.status === 503 && !PERMANENT_503.has(err.code));
  return false;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Sends calls to the API: authentication, a timeout per request, and retries with backoff. */
export class HttpTransport {
  constructor(private readonly settings: TransportSettings) {}

  /**
   * The parsed JSON of a 2xx answer, typed by the caller with the contract's answer types. Not
   * checked against their schemas (@optiinfra/contract/responses): a newer API that adds a field or
   * a status must not make an older client refuse its answers.
   */
  async send(call: HttpCall): Promise<unknown> {
    const { retry } = this.settings;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(call);
      } catch (err) {
        if (attempt >= retry.maxRetries || !worthRetrying(err, call)) throw err;
        const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
        const jittered = Math.random() * ceiling;
        const asked = err instanceof ApiError ? err.retryAfterMs : undefined;
        try {
          await sleep(Math.min(Math.max(jittered, asked ?? 0), retry.maxDelayMs * 4), undefined, { signal: call.signal });
        } catch (sleepErr) {
          throw call.signal?.aborted ? call.signal.reason : sleepErr;
        }
      }
    }
  }

  private url(call: HttpCall): URL {
    const base = this.settings.apiUrl;
    const url = new URL(base.pathname.replace(/\/$/, '') + call.path, base);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async headers(call: HttpCall, url: URL, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.settings.userAgent, ...call.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.settings.signer)
      return this.settings.signer.sign({ method: call.method, url, headers, ...(body === undefined ? {} : { body }) });
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    return headers;
  }

  private async sendOnce(call: HttpCall): Promise<unknown> {
    const url = this.url(call);
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    // Signed again on every try: a signature carries its time.
    const headers = await this.headers(call, url, body);
    const timeoutMs = call.timeoutMs ?? this.settings.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method: call.method, headers, ...(body === undefined ? {} : { body }), signal });
      text = await response.text();
    } catch (err) {
      if (call.signal?.aborted) throw call.signal.reason;
      if (timeout.aborted)
        throw new NetworkError(`no answer from ${url.origin} within ${timeoutMs} ms (${call.method} ${call.path})`, { cause: err });
      throw new NetworkError(unreachableMessage(url, err), { cause: err });
    }
    const parsed = parseBody(text);
    if (!response.ok) throw apiErrorOf(response.status, parsed, retryAfterMs(response.headers.get('retry-after')));
    return parsed;
  }
}
