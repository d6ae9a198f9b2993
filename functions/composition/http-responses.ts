/**
 * API responses that need nothing but the route table: the JSON answer, the API's error shape, and
 * the 404 or 405 for a request no route takes. The health check answers with these alone; the
 * middleware chain (http-handler.ts) with these and everything else.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { API_ROUTES, matchRoute, routeKey } from '../api/routes';
import { type AppError, MethodNotAllowedError, NotFoundError, ValidationError } from '@optiinfra/contract';

const JSON_HEADERS = { 'content-type': 'application/json' };

export function respond(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

/** An error whose message is for the caller (err.expose), in the API's error shape. */
export function exposedErrorResponse(err: AppError): APIGatewayProxyStructuredResultV2 {
  const body: Record<string, unknown> = { error: err.message, code: err.code };
  if (err instanceof ValidationError && err.issues.length > 0) body.details = err.issues;
  return respond(err.status, body);
}

/** What no route takes: 405 with the methods the path has, else 404 listing the API's routes. */
export function unroutedError(method: string, path: string): AppError {
  const { allowed } = matchRoute(method, path);
  if (allowed.length > 0) return new MethodNotAllowedError(method, path, allowed);
  return new NotFoundError(`no route ${method} ${path}; the API has ${API_ROUTES.map(routeKey).join(', ')}`, 'route_not_found');
}
