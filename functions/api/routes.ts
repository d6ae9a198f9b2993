/**
 * The HTTP API's routes and which function serves each. The CDK app creates one API Gateway route
 * per entry and the local server dispatches by the same table, so both run the same handlers.
 */
import { JSON_LIMITS } from '@optiinfra/contract';

export type ApiFunction = 'health' | 'agents' | 'tasks';

/**
 * The largest body each route can need, from the contract's own limits: its free-form JSON fields
 * twice over (room for whitespace and escapes) plus the fixed fields. Bodies are cut off at this
 * size while they are read, so nobody can make a server hold more than a route can use.
 */
const ENVELOPE_BYTES = 16_384;
export const ROUTE_BODY_BYTES = {
  none: 1_024,
  register: 2 * JSON_LIMITS.metadataBytes + ENVELOPE_BYTES,
  heartbeat: 2 * JSON_LIMITS.metadataBytes + ENVELOPE_BYTES,
  submit: 2 * (JSON_LIMITS.parametersBytes + JSON_LIMITS.metadataBytes) + ENVELOPE_BYTES,
  /** An agent's report: its answer, up to MAX_AGENT_ANSWER_BYTES (at most 350 000), which caps it further. */
  report: 350_000 + ENVELOPE_BYTES,
  progress: 4_096,
} as const;

export interface ApiRouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  fn: ApiFunction;
  /** Only /health answers without authentication. */
  public?: boolean;
  /** Largest request body the route accepts (ROUTE_BODY_BYTES.none when absent). */
  maxBodyBytes?: number;
  /** An agent's answer: capped by MAX_AGENT_ANSWER_BYTES, as a synchronous answer is, rather than by MAX_BODY_BYTES. */
  answer?: true;
}

export const API_ROUTES: readonly ApiRouteSpec[] = [
  { method: 'GET', path: '/health', fn: 'health', public: true },
  { method: 'POST', path: '/agents/register', fn: 'agents', maxBodyBytes: ROUTE_BODY_BYTES.register },
  { method: 'POST', path: '/agents/{id}/heartbeat', fn: 'agents', maxBodyBytes: ROUTE_BODY_BYTES.heartbeat },
  { method: 'POST', path: '/agents/{id}/drain', fn: 'agents' },
  { method: 'DELETE', path: '/agents/{id}', fn: 'agents' },
  { method: 'GET', path: '/agents', fn: 'agents' },
  { method: 'GET', path: '/agents/{id}', fn: 'agents' },
  { method: 'POST', path: '/tasks', fn: 'tasks', maxBodyBytes: ROUTE_BODY_BYTES.submit },
  { method: 'GET', path: '/tasks', fn: 'tasks' },
  { method: 'GET', path: '/tasks/{id}', fn: 'tasks' },
  { method: 'DELETE', path: '/tasks/{id}', fn: 'tasks' },
  { method: 'POST', path: '/tasks/{id}/result', fn: 'tasks', maxBodyBytes: ROUTE_BODY_BYTES.report, answer: true },
  { method: 'POST', path: '/tasks/{id}/progress', fn: 'tasks', maxBodyBytes: ROUTE_BODY_BYTES.progress },
];

export function routeKey(route: Pick<ApiRouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** The body limit of a route; requests that match no route get the smallest. */
export function routeBodyLimit(route: ApiRouteSpec | undefined): number {
  return route?.maxBodyBytes ?? ROUTE_BODY_BYTES.none;
}

function toRegExp(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{([a-z_]+)\}/g, '(?<$1>[^/]+)')}/?$`);
}

/** Finds the route for a request, as API Gateway does; `allowed` lists methods when only the path matched. */
export function matchRoute(method: string, path: string): { route?: ApiRouteSpec; params: Record<string, string>; allowed: string[] } {
  const allowed: string[] = [];
  for (const route of API_ROUTES) {
    const m = toRegExp(route.path).exec(path);
    if (!m) continue;
    if (route.method === method) return { route, params: { ...(m.groups ?? {}) }, allowed: [] };
    allowed.push(route.method);
  }
  return { params: {}, allowed };
}
