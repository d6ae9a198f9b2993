/** The page's routes live in the URL's hash, so a static server needs no fallback and a link survives a reload. */
export type Route = { page: 'tasks' } | { page: 'task'; id: string } | { page: 'agents' } | { page: 'metrics' } | { page: 'submit' };

export function routeOf(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] ?? '';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'tasks' && parts[1]) return { page: 'task', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'agents') return { page: 'agents' };
  if (parts[0] === 'metrics') return { page: 'metrics' };
  if (parts[0] === 'submit') return { page: 'submit' };
  return { page: 'tasks' };
}

export function hrefOf(route: Route): string {
  return route.page === 'task' ? `#/tasks/${encodeURIComponent(route.id)}` : `#/${route.page}`;
}
