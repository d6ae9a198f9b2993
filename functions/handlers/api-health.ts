/**
 * GET /health: unauthenticated liveness of the API itself (no dependency is called). The local
 * server also sends here what no route takes, which gets the API's 404 or 405.
 *
 * Not on the other API functions' middleware chain: nothing here logs, counts or calls out, and the
 * chain (middy, Powertools logger and metrics) would be most of this function's cold start
 * (`npm run bench:cold`). A request body, which a GET has no use for, is ignored.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { config } from '../composition/environment';
import { exposedErrorResponse, respond, unroutedError } from '../composition/http-responses';

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const { method, path } = event.requestContext.http;
  if (method !== 'GET' || path !== '/health') return exposedErrorResponse(unroutedError(method, path));
  return respond(200, {
    status: 'healthy',
    service: 'optiinfra-orchestrator',
    timestamp: new Date().toISOString(),
    heartbeat_interval_seconds: config.settings.heartbeatIntervalSeconds,
  });
}
