/**
 * The HTTP API's routes and which function serves each. The CDK app creates one API Gateway route
 * per entry and the local server dispatches by the same table, so both run the same handlers.
 */
export type ApiFunction = 'health' | 'agents' | 'tasks';

export interface ApiRouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  fn: ApiFunction;
  /** Only /health answers without authentication. */
  public?: boolean;
}

export const API_ROUTES: readonly ApiRouteSpec[] = [
  { method: 'GET', path: '/health', fn: 'health', public: true },
  { method: 'POST', path: '/agents/register', fn: 'agents' },
  { method: 'POST', path: '/agents/{id}/heartbeat', fn: 'agents' },
  { method: 'POST', path: '/agents/{id}/drain', fn: 'agents' },
  { method: 'DELETE', path: '/agents/{id}', fn: 'agents' },
  { method: 'GET', path: '/agents', fn: 'agents' },
  { method: 'GET', path: '/agents/{id}', fn: 'agents' },
  { method: 'POST', path: '/tasks', fn: 'tasks' },
  { method: 'GET', path: '/tasks', fn: 'tasks' },
  { method: 'GET', path: '/tasks/{id}', fn: 'tasks' },
  { method: 'DELETE', path: '/tasks/{id}', fn: 'tasks' },
];

export function routeKey(route: Pick<ApiRouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
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
