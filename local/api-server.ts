import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import getRawBody from 'raw-body';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ApiFunction, type ApiRouteSpec, matchRoute, routeBodyLimit, routeKey } from '../functions/api/routes';
import { type ConsoleOptions, consoleServer, isConsolePath, SERVER_KEEP_ALIVE_MS } from '@optiinfra/console';
import { listen } from './stand-ins/listen';
import { fakeLambdaContext } from './stand-ins/sqs-event-source';

export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Time to receive a request's headers, and then its whole body: a slow sender is cut off, not waited for. */
export const API_SERVER_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: SERVER_KEEP_ALIVE_MS };
export type ServerTimeouts = typeof API_SERVER_TIMEOUTS;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** True when the request carries `Authorization: Bearer <one of tokens>` (compared in constant time). */
export function hasBearerToken(header: string | undefined, tokens: readonly string[]): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  // Every token is compared, so the time taken does not tell which one (or how much of one) matched.
  return tokens.map((t) => timingSafeEqual(given, createHash('sha256').update(t).digest())).includes(true);
}

/**
 * The caller an authorizer would name for this bearer token: a short hash, so Idempotency-Keys and
 * logs are per token without the token itself ever reaching a handler or a stored record.
 */
export function callerOfToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? `token-${createHash('sha256').update(match[1]!).digest('hex').slice(0, 16)}` : undefined;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  handlers: Record<ApiFunction, ApiLambda>;
  /**
   * When set, every route but the public ones (GET /health) needs `Authorization: Bearer <token>`
   * with one of these: the local stand-in for API Gateway's IAM or JWT authorizer. Several tokens
   * let a token be rotated without downtime.
   */
  bearerTokens?: readonly string[];
  /** The functions' own body limit (MAX_BODY_BYTES); a route's smaller limit wins. */
  maxBodyBytes?: number;
  /** Default API_SERVER_TIMEOUTS. */
  timeouts?: Partial<ServerTimeouts>;
  /**
   * The OpenAPI document, served at GET /openapi.json without authentication, as /health is: it
   * holds no data, and tools that generate clients read it before they have a token.
   */
  openApiDocument?: object;
  /** Each function's timeout, as the template sets it (default 10 s): middy ends an invocation that reaches it, as Lambda would. */
  functionTimeoutsMs?: Partial<Record<ApiFunction, number>>;
  /** The console page, served at /ui/ (docs/console.md); not part of the API, so not in its OpenAPI document. */
  console?: ConsoleOptions;
}

export const OPENAPI_PATH = '/openapi.json';

interface Target {
  url: { pathname: string; search: string };
  method: string;
  route?: ApiRouteSpec;
  params: Record<string, string>;
}

/**
 * Serves the HTTP API on one machine: turns each request into the API Gateway HTTP API (payload 2.0)
 * event and calls the same Lambda handler that serves the route on AWS. The bearer token is checked
 * before a byte of the body is read, and the body is cut off at the route's own limit while it is
 * read, so an unauthenticated or oversized upload costs the process nothing.
 */
export async function startApiServer(options: ApiServerOptions): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const tokens = options.bearerTokens ?? [];
  const timeouts = { ...API_SERVER_TIMEOUTS, ...options.timeouts };
  // Timeouts are enforced on this beat (Node's default is 30 s), so a slow sender goes soon after its time.
  const checkEveryMs = Math.max(100, Math.min(1_000, timeouts.headersMs / 4));
  const openApiJson = options.openApiDocument && JSON.stringify(options.openApiDocument);
  const serveConsole = options.console && consoleServer(options.console);
  const server = http.createServer({ connectionsCheckingInterval: checkEveryMs }, (req, res) => {
    // Split by hand: `new URL()` throws on request targets such as "////", which API Gateway just routes (404).
    const raw = req.url ?? '/';
    const mark = raw.indexOf('?');
    const url = { pathname: mark >= 0 ? raw.slice(0, mark) : raw, search: mark >= 0 ? raw.slice(mark) : '' };
    const method = (req.method ?? 'GET').toUpperCase();
    const { route, params } = matchRoute(method, url.pathname);
    const target: Target = { url, method, route, params };
    // The answer goes out at once; whatever body follows is read and dropped, never kept (the
    // request timeout bounds how long that may take). Closing instead would reset the connection
    // under a client still sending, and it might never see the answer.
    const refuse = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      send(res, status, body, headers);
      req.resume();
    };
    const refuseUnauthorized = (headers: Record<string, string> = {}) => {
      const problem = req.headers.authorization ? 'the bearer token is not one this orchestrator accepts' : 'no bearer token was sent';
      refuse(
        401,
        {
          error: `${problem}: send "Authorization: Bearer <token>" with a token from API_TOKENS (only GET /health and GET /openapi.json are open)`,
          code: 'unauthorized',
        },
        { ...headers, 'www-authenticate': 'Bearer' },
      );
    };
    const authorized = () => tokens.length === 0 || hasBearerToken(req.headers.authorization, tokens);
    if (openApiJson && method === 'GET' && url.pathname === OPENAPI_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(openApiJson);
      return req.resume();
    }
    if (serveConsole && isConsolePath(url.pathname)) {
      const request = { method, ...url, ifNoneMatch: req.headers['if-none-match'], authorized: authorized(), refuseUnauthorized };
      serveConsole(request, res).catch(() => send(res, 500, { error: 'internal error', code: 'internal_error' }));
      return req.resume();
    }
    if (route && !route.public && !authorized()) return refuseUnauthorized();
    // An agent's report is capped by the function (MAX_AGENT_ANSWER_BYTES), as API Gateway leaves it.
    const limit = route?.answer ? routeBodyLimit(route) : Math.min(routeBodyLimit(route), options.maxBodyBytes ?? Number.POSITIVE_INFINITY);
    const tooLarge = (got: string) =>
      refuse(413, {
        error: `request body is ${got} bytes; the limit is ${limit} bytes for ${method} ${route?.path ?? url.pathname.slice(0, 100)}. Keep large inputs elsewhere (for example S3) and pass a reference in parameters`,
        code: 'payload_too_large',
      });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return tooLarge(String(declared));
    // Whatever goes wrong with one request answers that request; it never takes the runtime down.
    getRawBody(req, { limit, encoding: 'utf8' }).then(
      (body) => answer(req, res, target, body),
      (err: { type?: string }) => {
        if (err.type === 'entity.too.large') tooLarge(`more than ${limit}`);
        else refuse(400, { error: 'the request body could not be read to its end; send it again', code: 'bad_request' });
      },
    );
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, target: Target, body: string): Promise<void> {
    const { url, method, route, params } = target;
    try {
      const searchParams = new URLSearchParams(url.search);
      const caller = tokens.length > 0 && route && !route.public ? callerOfToken(req.headers.authorization) : undefined;
      const fn: ApiFunction =
        route?.fn ?? (url.pathname.startsWith('/agents') ? 'agents' : url.pathname.startsWith('/tasks') ? 'tasks' : 'health');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const query: Record<string, string> = {};
      for (const [k, v] of searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
      const now = new Date();
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: route ? routeKey(route) : '$default',
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters: Object.keys(query).length ? query : undefined,
        pathParameters: route && Object.keys(params).length ? params : undefined,
        body: body === '' ? undefined : body,
        isBase64Encoded: false,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: req.headers.host ?? 'localhost',
          domainPrefix: 'local',
          http: {
            method,
            path: url.pathname,
            protocol: `HTTP/${req.httpVersion}`,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            userAgent: req.headers['user-agent'] ?? '',
          },
          requestId: randomUUID(),
          routeKey: route ? routeKey(route) : '$default',
          stage: '$default',
          time: now.toISOString(),
          timeEpoch: now.getTime(),
          // What a JWT authorizer passes on: the handlers key Idempotency-Keys by this caller.
          ...(caller ? { authorizer: { jwt: { claims: { sub: caller }, scopes: [] } } } : {}),
        },
      };
      const out = await options.handlers[fn](event, fakeLambdaContext(`${fn}-api`, options.functionTimeoutsMs?.[fn] ?? 10_000));
      res.writeHead(out.statusCode ?? 200, out.headers as http.OutgoingHttpHeaders);
      res.end(out.body ?? '');
    } catch {
      send(res, 500, { error: 'internal error', code: 'internal_error' });
    }
  }
  // Idle keep-alive connections outlive the clients' own idle timeouts (undici: 4 s), so a client
  // never sends on a connection the server is closing, as behind API Gateway. A request must bring
  // its headers, then its body, within bounds: a slow sender cannot hold a connection open.
  server.keepAliveTimeout = timeouts.keepAliveMs;
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  const port = await listen(server, options.port, options.host);
  return {
    url: `http://${options.host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
