import http from 'node:http';
import type { AddressInfo } from 'node:net';
import getRawBody from 'raw-body';
import { type RequestSigner, unreachableMessage } from '@optiinfra/client';
import {
  type ConsoleAssets,
  CONSOLE_SECURITY_HEADERS,
  consoleServer,
  isConsolePath,
  SERVER_KEEP_ALIVE_MS,
  sendConsoleJson,
} from '@optiinfra/console';
import type { ConsoleMetrics } from '@optiinfra/contract/dashboard-metrics';

/** How `optiinfra console` reaches the API and what it serves. */
export interface ConsoleProxyOptions {
  /** The API's base URL (a stack's ApiUrl output, or --api). */
  apiUrl: URL;
  /** Signs every forwarded call (SigV4 for a deployed stack); the page's own Authorization is then dropped. */
  signer?: RequestSigner;
  /** Sent as the bearer token of every forwarded call (--token); without it and a signer, the page's own token goes through. */
  token?: string;
  assets: ConsoleAssets;
  /** GET /ui/metrics from elsewhere (CloudWatch); without it, that path is forwarded to the API (the local runtime answers it). */
  metrics?: (minutes: number) => Promise<ConsoleMetrics>;
  /** 0 picks a free port. */
  port: number;
  /** Longest a forwarded call may take: a task's long poll holds 20 s. Default 35 000 ms. */
  requestTimeoutMs?: number;
  /** Where a call the API could not answer is told (stderr). */
  warn?: (line: string) => void;
}

/** The calls the page makes, and only those: nothing else of the API (agents' routes) is reachable through the proxy. */
const FORWARDED: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/health$/ },
  { method: 'GET', path: /^\/tasks$/ },
  { method: 'POST', path: /^\/tasks$/ },
  { method: 'GET', path: /^\/tasks\/[^/]+$/ },
  { method: 'DELETE', path: /^\/tasks\/[^/]+$/ },
  { method: 'GET', path: /^\/agents$/ },
];
const FORWARDED_LIST = 'GET /health, GET and POST /tasks, GET and DELETE /tasks/{id}, GET /agents';
/** The request headers a forwarded call keeps; cookies, origin and the browser's own headers stay here. */
const REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
/** The answer headers the page may need. */
const ANSWER_HEADERS = ['content-type', 'cache-control', 'retry-after', 'www-authenticate', 'etag'] as const;
/** Above the API's own limits: its 413 tells the caller what to fix; this only keeps the proxy's memory bounded. */
const MAX_BODY_BYTES = 1_048_576;
const DEFAULT_TIMEOUT_MS = 35_000;

const send = (res: http.ServerResponse, status: number, error: string, code: string) => sendConsoleJson(res, status, { error, code });

/**
 * Only the page on this machine may use the proxy's credentials. A Host other than the proxy's own
 * address is a DNS-rebinding page, and a browser call from another site (Sec-Fetch-Site, Origin) is a
 * page that would submit or cancel tasks with them: both are refused. Calls from outside a browser
 * (curl) send neither header and pass.
 */
function foreignCaller(req: http.IncomingMessage, port: number): string | undefined {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? ''))
    return `this console answers only at http://127.0.0.1:${port}/ui/ (got Host ${JSON.stringify((req.headers.host ?? '').slice(0, 100))})`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `a page of another site may not call the console's API (Sec-Fetch-Site ${site}): open http://127.0.0.1:${port}/ui/`;
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`))
    return `a page of ${JSON.stringify(origin.slice(0, 100))} may not call the console's API: open http://127.0.0.1:${port}/ui/`;
  return undefined;
}

/**
 * Serves the console page on 127.0.0.1 and forwards the page's API calls to `apiUrl`, signed or with
 * the token: the page holds no AWS credentials, and nothing but the page's own calls goes through.
 */
export async function startConsoleProxy(options: ConsoleProxyOptions): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const serveConsole = consoleServer({ assets: options.assets, ...(options.metrics ? { metrics: options.metrics } : {}) });
  const base = options.apiUrl.pathname.replace(/\/$/, '');
  let port = options.port;

  async function forward(req: http.IncomingMessage, res: http.ServerResponse, method: string, pathAndQuery: string): Promise<void> {
    let body: string | undefined;
    if (method === 'POST') {
      try {
        body = await getRawBody(req, { limit: MAX_BODY_BYTES, encoding: 'utf8' });
      } catch (err) {
        if ((err as { type?: string }).type !== 'entity.too.large')
          return send(res, 400, 'the request body could not be read to its end; send it again', 'bad_request');
        const problem = `the request body is over ${MAX_BODY_BYTES} bytes: keep large inputs elsewhere and pass a reference`;
        return send(res, 413, problem, 'payload_too_large');
      }
    }
    const url = new URL(base + pathAndQuery, options.apiUrl);
    let headers: Record<string, string> = {};
    for (const name of REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (options.signer) headers = await options.signer.sign({ method, url, headers, ...(body === undefined ? {} : { body }) });
    else if (options.token) headers.authorization = `Bearer ${options.token}`;
    else if (req.headers.authorization) headers.authorization = req.headers.authorization;
    let answer: Response;
    let text: ArrayBuffer;
    // A page that leaves (another task opened during a 20 s long poll) ends the call it was waiting on.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), gone.signal]);
      answer = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
      text = await answer.arrayBuffer();
    } catch (err) {
      if (gone.signal.aborted) return;
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      const line = timedOut
        ? `the API at ${url.origin} did not answer ${method} ${url.pathname} within ${timeoutMs} ms`
        : unreachableMessage(url, err);
      options.warn?.(line);
      return send(res, timedOut ? 504 : 502, line, timedOut ? 'gateway_timeout' : 'bad_gateway');
    }
    const out: Record<string, string> = { 'x-content-type-options': 'nosniff' };
    for (const name of ANSWER_HEADERS) {
      const value = answer.headers.get(name);
      if (value !== null) out[name] = value;
    }
    res.writeHead(answer.status, out);
    res.end(Buffer.from(text));
  }

  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    const mark = raw.indexOf('?');
    const pathname = mark >= 0 ? raw.slice(0, mark) : raw;
    const search = mark >= 0 ? raw.slice(mark) : '';
    const method = (req.method ?? 'GET').toUpperCase();
    const refused = foreignCaller(req, port);
    const handle = async (): Promise<void> => {
      if (refused) return send(res, 403, refused, 'forbidden');
      if (pathname === '/' && method === 'GET') {
        res.writeHead(302, { ...CONSOLE_SECURITY_HEADERS, location: '/ui/' });
        return void res.end();
      }
      if (pathname === '/ui/metrics' && !options.metrics && method === 'GET') return forward(req, res, method, raw);
      if (isConsolePath(pathname)) {
        const request = {
          method,
          pathname,
          search,
          ifNoneMatch: req.headers['if-none-match'],
          // The proxy holds the credentials: whoever reached it past foreignCaller may read.
          authorized: true,
          refuseUnauthorized: () => send(res, 401, 'not authorized', 'unauthorized'),
        };
        return serveConsole(request, res);
      }
      if (FORWARDED.some((r) => r.method === method && r.path.test(pathname))) return forward(req, res, method, raw);
      return send(
        res,
        404,
        `optiinfra console forwards only the page's calls (${FORWARDED_LIST}), not ${method} ${pathname.slice(0, 100)}: open /ui/`,
        'not_found',
      );
    };
    handle()
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        options.warn?.(message);
        if (!res.headersSent)
          send(res, 502, message, err instanceof Error && err.name === 'MetricsUnavailableError' ? 'metrics_unavailable' : 'bad_gateway');
        else res.destroy();
      })
      .finally(() => req.resume());
  });
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
