/**
 * The one middleware chain for API functions: Powertools logger and metrics, body limits
 * and JSON parsing, routing, and one error mapper to the API's error shape. Route handlers stay a
 * few lines: parse input with a schema, call one use case, return status and body.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ApiFunction, API_ROUTES, routeBodyLimit, routeKey } from '../api/routes';
import { AppError, InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@optiinfra/contract';
import { isUuid } from '@optiinfra/contract';
import { exposedErrorResponse, respond, unroutedError } from './http-responses';
import { logger, publishStoredMetrics } from './observability';

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  /** Header names in lower case, as API Gateway (payload 2.0) passes them. */
  headers: Record<string, string>;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  requestId: string;
  /** Who called, as the authorizer says (IAM principal or JWT subject); "anonymous" without one. */
  caller: string;
  context: Context;
}

function callerOf(event: APIGatewayProxyEventV2): string {
  const authorizer = (event.requestContext as { authorizer?: { iam?: { userArn?: string }; jwt?: { claims?: Record<string, unknown> } } })
    .authorizer;
  const jwtSubject = authorizer?.jwt?.claims?.sub;
  return authorizer?.iam?.userArn ?? (typeof jwtSubject === 'string' ? `jwt:${jwtSubject}` : 'anonymous');
}

export interface ApiResult {
  status: number;
  body: unknown;
}

export type RouteHandler = (req: ApiRequest) => Promise<ApiResult>;

export function errorResponse(err: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  if (err instanceof AppError && err.expose) return exposedErrorResponse(err);
  if (err instanceof AppError && err.retryable) {
    logger.warn({ message: 'dependency unavailable', error: err, cause: err.cause });
    return respond(503, { error: `the service is briefly unavailable; retry the request (request id ${requestId})`, code: err.code });
  }
  logger.error({ message: 'unhandled error', error: err as Error });
  return respond(500, {
    error: `internal error; nothing was changed if the request failed before it was accepted. Quote request id ${requestId} when reporting it`,
    code: 'internal_error',
  });
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

function parseBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const size = Buffer.byteLength(raw);
  if (size > maxBytes) throw new PayloadTooLargeError(maxBytes, size);
  const type = header(event, 'content-type');
  if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type.trim())) throw new UnsupportedMediaTypeError(type);
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new InvalidJsonError(err instanceof Error ? err.message : 'parse error');
  }
}

/** A path parameter percent-decoded; one with broken encoding (`%zz`, a cut UTF-8 sequence) as sent, which no id rule accepts. */
function decodedParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Path ids are UUIDs; anything else (broken percent-encoding too) is a 400 that says so, before any lookup. */
export function idParam(req: ApiRequest, what: 'task' | 'agent'): string {
  const id = req.params.id ?? '';
  if (!isUuid(id)) {
    throw new ValidationError(
      `invalid ${what} id "${id.slice(0, 80)}": ${what} ids are UUIDs such as 0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f`,
      [{ field: 'id', message: 'must be a UUID' }],
    );
  }
  return id;
}

export function httpApi(
  fn: ApiFunction,
  handlers: Record<string, RouteHandler>,
  options: { maxBodyBytes: number; maxAnswerBytes?: number },
) {
  const routes = API_ROUTES.filter((r) => r.fn === fn).map((spec) => {
    const handle = handlers[routeKey(spec)];
    if (!handle) throw new Error(`no handler for ${routeKey(spec)} in the ${fn} function`);
    const maxBodyBytes = Math.min(
      spec.answer && options.maxAnswerBytes !== undefined ? options.maxAnswerBytes + 16_384 : options.maxBodyBytes,
      routeBodyLimit(spec),
    );
    return {
      method: spec.method,
      path: spec.path,
      handler: async (event: APIGatewayProxyEventV2, context: Context) => {
        const req: ApiRequest = {
          params: Object.fromEntries(Object.entries(event.pathParameters ?? {}).map(([k, v]) => [k, decodedParam(v ?? '')])),
          query: Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? ''])),
          headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? ''])),
          body: parseBody(event, maxBodyBytes),
          requestId: context.awsRequestId,
          caller: callerOf(event),
          context,
        };
        const result = await handle(req);
        return respond(result.status, result.body);
      },
    };
  });
  const router = httpRouterHandler({
    routes,
    notFoundResponse: ({ method, path }: { method: string; path: string }) => {
      throw unroutedError(method, path);
    },
  });
  const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return (await router(event, context, {} as never)) as APIGatewayProxyStructuredResultV2;
    } catch (err) {
      return errorResponse(err, context.awsRequestId);
    }
  };
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishStoredMetrics);
}
