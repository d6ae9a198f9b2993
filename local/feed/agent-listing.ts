import type { WatchedAgent } from './agent-watch';

/** Every agent GET /agents lists, all pages, as any client reads them (with the first API token, if the API needs one). */
export async function listAgentsFrom(apiUrl: string, token: string | undefined): Promise<WatchedAgent[]> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const agents: WatchedAgent[] = [];
  let next: string | undefined;
  do {
    const query = new URLSearchParams({ limit: '100', ...(next ? { next_token: next } : {}) });
    const res = await fetch(`${apiUrl}/agents?${query.toString()}`, { headers, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET /agents answered ${res.status}`);
    const page = (await res.json()) as { agents: WatchedAgent[]; next_token?: string };
    agents.push(...page.agents.map(({ id, name, type, status }) => ({ id, name, type, status })));
    next = page.next_token;
  } while (next);
  return agents;
}
