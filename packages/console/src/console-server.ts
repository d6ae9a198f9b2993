import { createHash } from 'node:crypto';
import type http from 'node:http';
import { type ConsoleMetrics, parseMetricsMinutes } from '@optiinfra/contract/dashboard-metrics';
import type { ConsoleAssets } from './console-assets.js';

/** What a server needs to serve the console at /ui/ (the local runtime's API server, `optiinfra console`). */
export interface ConsoleOptions {
  /** The page's files (consoleAssets() of @optiinfra/console). */
  assets: ConsoleAssets;
  /** The figures of GET /ui/metrics over the last `minutes`; without it that path answers 404. */
  metrics?: (minutes: number) => Promise<ConsoleMetrics>;
}

export const CONSOLE_PATH = '/ui';

/**
 * How long the servers of the page (the local runtime's API server, `optiinfra console`) keep an idle
 * keep-alive connection: longer than clients keep theirs (undici 4 s; browsers longer than Node's
 * default of 5 s), so a client never sends its next call, a submit included, on a connection the
 * server is closing.
 */
export const SERVER_KEEP_ALIVE_MS = 65_000;

/**
 * For every /ui answer: the page runs only its own script and style and talks only to its own
 * origin, cannot be framed, and sends no Referer (a task id in the URL stays on the page).
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A JSON answer of a console path (an error, the metrics): the page's security headers, never cached. */
export function sendConsoleJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export const isConsolePath = (pathname: string) => pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`);

interface Served {
  type: string;
  body: Buffer;
  etag: string;
}

export interface ConsoleRequest {
  method: string;
  pathname: string;
  search: string;
  ifNoneMatch: string | undefined;
  /** Whether the caller may read data (its bearer token checks out, or the API is open). */
  authorized: boolean;
  /** Answers 401 as the API does, with these headers too. */
  refuseUnauthorized(headers: Record<string, string>): void;
}

/**
 * Answers /ui and everything under it: the page's files are public (they hold no data) and are
 * revalidated on every load (no-cache with an ETag), so a new build is seen at once; /ui/metrics
 * holds data and needs what the API needs.
 */
export function consoleServer(options: ConsoleOptions): (req: ConsoleRequest, res: http.ServerResponse) => Promise<void> {
  const files = new Map<string, Served>();
  for (const [name, asset] of options.assets)
    files.set(name, { ...asset, etag: `"${createHash('sha256').update(asset.body).digest('base64url').slice(0, 22)}"` });

  const json = sendConsoleJson;

  return async (req, res) => {
    const { method, pathname } = req;
    if (method !== 'GET' && method !== 'HEAD')
      return json(
        res,
        405,
        { error: `${method} is not allowed on ${pathname}: the console's paths answer GET only`, code: 'method_not_allowed' },
        { allow: 'GET, HEAD' },
      );
    if (pathname === CONSOLE_PATH) {
      res.writeHead(302, { ...CONSOLE_SECURITY_HEADERS, location: `${CONSOLE_PATH}/${req.search}` });
      return void res.end();
    }
    if (pathname === `${CONSOLE_PATH}/metrics`) {
      if (!req.authorized) return req.refuseUnauthorized(CONSOLE_SECURITY_HEADERS);
      const asked = parseMetricsMinutes(new URLSearchParams(req.search).getAll('minutes'));
      if ('error' in asked) return json(res, 400, { error: asked.error, code: 'bad_request' });
      if (!options.metrics)
        return json(res, 404, {
          error: 'this server keeps no metrics for the console: GET /ui/metrics has nothing to answer',
          code: 'not_found',
        });
      return json(res, 200, await options.metrics(asked.minutes));
    }
    const name = pathname === `${CONSOLE_PATH}/` ? 'index.html' : pathname.slice(CONSOLE_PATH.length + 1);
    const file = files.get(name);
    if (!file)
      return json(res, 404, {
        error: `the console has no file ${JSON.stringify(name.slice(0, 100))}: open ${CONSOLE_PATH}/ (its files are ${[...files.keys()].join(', ')})`,
        code: 'not_found',
      });
    const headers = { ...CONSOLE_SECURITY_HEADERS, 'cache-control': 'no-cache', etag: file.etag };
    if (req.ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': String(file.body.length) });
    res.end(method === 'HEAD' ? undefined : file.body);
  };
}
