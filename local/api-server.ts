import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import getRawBody from 'raw-body';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ApiFunction, matchRoute, routeKey } from '../functions/api/routes';
import { listen } from './stand-ins/listen';
import { fakeLambdaContext } from './stand-ins/sqs-event-source';

export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway refuses payloads above 10 MB before any Lambda runs; so does this server. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Serves the HTTP API on one machine: turns each request into the API Gateway HTTP API (payload 2.0)
 * event and calls the same Lambda handler that serves the route on AWS.
 */
/** True when the request carries `Authorization: Bearer <one of tokens>` (compared in constant time). */
export function hasBearerToken(header: string | undefined, tokens: readonly string[]): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  // Every token is compared, so the time taken does not tell which one (or how much of one) matched.
  return tokens.map((t) => timingSafeEqual(given, createHash('sha256').update(t).digest())).includes(true);
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
}

export async function startApiServer(options: ApiServerOptions): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    // Whatever goes wrong with one request answers that request; it never takes the runtime down.
    getRawBody(req, { limit: GATEWAY_MAX_BYTES, encoding: 'utf8' }).then(
      (body) => answer(req, res, body),
      (err: { type?: string }) => {
        if (err.type === 'entity.too.large')
          send(res, 413, { error: `request body exceeds ${GATEWAY_MAX_BYTES} bytes`, code: 'payload_too_large' }, { connection: 'close' });
        else send(res, 400, { error: 'the request body could not be read to its end; send it again', code: 'bad_request' });
      },
    );
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    try {
      // Split by hand: `new URL()` throws on request targets such as "////", which API Gateway just routes (404).
      const target = req.url ?? '/';
      const mark = target.indexOf('?');
      const url = { pathname: mark >= 0 ? target.slice(0, mark) : target, search: mark >= 0 ? target.slice(mark) : '' };
      const searchParams = new URLSearchParams(url.search);
      const method = (req.method ?? 'GET').toUpperCase();
      const { route, params } = matchRoute(method, url.pathname);
      const tokens = options.bearerTokens ?? [];
      if (route && !route.public && tokens.length > 0 && !hasBearerToken(req.headers.authorization, tokens)) {
        const problem = req.headers.authorization ? 'the bearer token is not one this orchestrator accepts' : 'no bearer token was sent';
        return send(
          res,
          401,
          {
            error: `${problem}: send "Authorization: Bearer <token>" with a token from API_TOKENS (only GET /health is open)`,
            code: 'unauthorized',
          },
          { 'www-authenticate': 'Bearer' },
        );
      }
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
        },
      };
      const out = await options.handlers[fn](event, fakeLambdaContext(`${fn}-api`, 10_000));
      res.writeHead(out.statusCode ?? 200, out.headers as http.OutgoingHttpHeaders);
      res.end(out.body ?? '');
    } catch {
      send(res, 500, { error: 'internal error', code: 'internal_error' });
    }
  }
  // Idle keep-alive connections outlive the clients' own idle timeouts (undici: 4 s), so a client
  // never sends on a connection the server is closing, as behind API Gateway.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
