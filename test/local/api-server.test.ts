/**
 * The local API server in front of the handlers: credentials before bodies, per-route body limits
 * enforced while reading, timeouts on slow senders, and a per-token caller for the handlers. The
 * handler here records the events it gets; the server, sockets and timers are real.
 */
import http from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/api/openapi';
import { ROUTE_BODY_BYTES } from '../../functions/api/routes';
import { statusLine as rawStatusLine } from '../../harness/raw-http';
import { type ApiLambda, OPENAPI_PATH, startApiServer } from '../../local/api-server';

const TOKEN_A = 'token-a-0123456789abcdef';
const TOKEN_B = 'token-b-fedcba9876543210';
const events: APIGatewayProxyEventV2[] = [];
const record: ApiLambda = async (event) => {
  events.push(event);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
};
let server: Awaited<ReturnType<typeof startApiServer>>;
const SPEC = buildOpenApiDocument({ version: '0.0.0-test' });

beforeAll(async () => {
  server = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    handlers: { health: record, agents: record, tasks: record },
    bearerTokens: [TOKEN_A, TOKEN_B],
    timeouts: { headersMs: 1_000, requestMs: 1_500 },
    openApiDocument: SPEC,
  });
});
afterAll(() => server?.stop());

const statusLine = (head: string, withinMs: number, trickle?: { byte: string; everyMs: number }) =>
  rawStatusLine(server.port, head, withinMs, trickle);

const post = (path: string, length: number, auth?: string) =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${auth ? `authorization: Bearer ${auth}\r\n` : ''}\r\n`;

describe('the local API server', () => {
  it('answers 401 to an unauthenticated upload before reading its body', async () => {
    // 9 MB announced, none sent: only a server that does not wait for the body can answer.
    expect(await statusLine(post('/tasks', 9_000_000), 5_000)).toBe('HTTP/1.1 401 Unauthorized');
  });

  it("refuses a Content-Length above the route's own limit at once", async () => {
    expect(await statusLine(post('/tasks', ROUTE_BODY_BYTES.submit + 1, TOKEN_A), 5_000)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(await statusLine(post('/agents/register', ROUTE_BODY_BYTES.register + 1, TOKEN_A), 5_000)).toBe(
      'HTTP/1.1 413 Payload Too Large',
    );
    const head = `DELETE /tasks/x HTTP/1.1\r\nhost: x\r\ncontent-length: ${ROUTE_BODY_BYTES.none + 1}\r\nauthorization: Bearer ${TOKEN_A}\r\n\r\n`;
    expect(await statusLine(head, 5_000)).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it("cuts a chunked body off at the route's limit while reading it", async () => {
    const before = events.length;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/agents/register',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN_A}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const chunk = 'x'.repeat(8_192);
      for (let sent = 0; sent <= ROUTE_BODY_BYTES.register; sent += chunk.length) req.write(chunk);
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large' });
    expect(String((JSON.parse(answer.body) as { error: string }).error)).toContain(
      `the limit is ${ROUTE_BODY_BYTES.register} bytes for POST /agents/register`,
    );
    expect(events.length).toBe(before);
  });

  it('cuts off a body that arrives too slowly', async () => {
    // One byte every 200 ms of a 100-byte body: the 1.5 s request timeout ends it.
    const line = await statusLine(post('/tasks', 100, TOKEN_A), 10_000, { byte: ' ', everyMs: 200 });
    expect(line).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('cuts off headers that arrive too slowly', async () => {
    const line = await statusLine('GET /health HTTP/1.1\r\nhost: x\r\n', 10_000, { byte: 'x', everyMs: 200 });
    expect(line).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('names a caller per token, as an authorizer would, without passing the token on', async () => {
    const callerFor = async (token: string) => {
      const res = await fetch(`${server.url}/tasks`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const event = events.at(-1)!;
      const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt?.claims;
      return String(claims?.sub);
    };
    const a = await callerFor(TOKEN_A);
    const b = await callerFor(TOKEN_B);
    expect(a).toMatch(/^token-[0-9a-f]{16}$/);
    expect(b).toMatch(/^token-[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(await callerFor(TOKEN_A)).toBe(a);
    expect(a).not.toContain(TOKEN_A.slice(0, 8));
  });

  it('serves the OpenAPI document without a credential, as /health, and nothing else that way', async () => {
    const before = events.length;
    const res = await fetch(`${server.url}${OPENAPI_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(SPEC);
    // Served by the server itself: no handler ran.
    expect(events.length).toBe(before);
    expect((await fetch(`${server.url}/tasks`)).status).toBe(401);
  });
});
