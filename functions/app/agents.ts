/** Use cases behind /agents: register, heartbeat, unregister, list, get. */
import { type AgentLiveness, type AgentRecord, agentStatus, isExpired, toAgentView } from '../core/agent-model';
import type { AgentView, HeartbeatRequest, ListAgentsQuery, RegisterAgentRequest, RegisterAgentResponse } from '@optiinfra/contract';
import { NotFoundError, ValidationError } from '@optiinfra/contract';
import { agentIdFor, agentTokenHash, newAgentToken, normalHost, signingSecretFor } from '../core/ids';
import { toCircuitView } from '../core/circuit-breaker';
import { actingAgent, agentIdInUse, assertMayRegister } from './agent-auth';
import { assertMetadataSize, assertRoomForAgent, assertWithinAgentLimits } from './agent-limits';
import type { Deps } from './deps';
import { checkOutboundTarget } from './outbound-target';
import { readLiveAgents } from './live-agents';
import { wakeFor } from './wake-waiters';

async function assertReachableHost(deps: Pick<Deps, 'settings' | 'resolveHost'>, host: string, port: number): Promise<void> {
  const verdict = await checkOutboundTarget(deps, host, port);
  if (verdict.ok) return;
  if (verdict.unresolved)
    throw new ValidationError(
      `invalid agent registration: host "${host}" does not resolve; register an address the orchestrator can reach`,
      [{ field: 'host', message: 'does not resolve' }],
    );
  throw new ValidationError(`invalid agent registration: host "${host}" is not allowed: ${verdict.reason}`, [
    { field: 'host', message: verdict.reason },
  ]);
}

/** Current status and load of agents, merging the cache's fresh heartbeats with the table. */
export async function viewAgents(deps: Pick<Deps, 'cache' | 'clock' | 'settings'>, agents: AgentRecord[]): Promise<AgentView[]> {
  const now = deps.clock.now();
  const current = agents.filter((a) => !isExpired(a, now));
  const { breaker } = deps.settings;
  return (await readLiveAgents(deps, current, now, true)).map(({ agent, live, status, inFlight, circuit }) =>
    toAgentView(agent, status, live, inFlight, toCircuitView(circuit, now, breaker)),
  );
}

export { assertAgentToken, assertFleetToken } from './agent-auth';

export async function registerAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'resolveHost' | 'queue' | 'metrics' | 'activity'>,
  req: RegisterAgentRequest,
  token?: string,
): Promise<RegisterAgentResponse> {
  // Stored as a name or a canonical address; the id treats `localhost` as the loopback address.
  const host = normalHost(req.host);
  assertWithinAgentLimits(deps.settings, req);
  await assertReachableHost(deps, host, req.port);
  const agentId = agentIdFor(req.name, host, req.port);
  const replaced = await assertMayRegister(deps, agentId, token);
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  if (replaced.type !== req.type) await assertRoomForAgent(deps, req.type, agentId, now);
  const newToken = newAgentToken();
  const agent = await deps.agents.register(
    {
      agent_id: agentId,
      name: req.name,
      type: req.type,
      host,
      port: req.port,
      scheme: req.scheme ?? 'http',
      capabilities: req.capabilities,
      status: 'healthy',
      version: req.version,
      max_concurrency: req.max_concurrency,
      metadata: req.metadata,
      last_heartbeat: nowIso,
      in_flight: 0,
      token_hash: agentTokenHash(newToken),
      token_proven: false,
      signing_secret: signingSecretFor(newToken),
    },
    nowIso,
    replaced.tokenHash,
  );
  if (!agent)
    throw agentIdInUse(agentId, 'another registration of it was written at the same moment and won; register again with its agent_token');
  const live: AgentLiveness = { lastHeartbeatMs: now, reportedInFlight: 0 };
  await deps.cache.putLiveness(agent.agent_id, live, livenessTtl(deps.settings));
  // A new agent (or one back with more capacity) takes the first waiting tasks at once.
  const { name, type, capabilities } = agent;
  deps.activity.emit({ kind: 'agent', event: 'registered', agent_id: agentId, name, type, capabilities, url: agentUrlOf(agent) });
  await wakeFor(deps, agent);
  const [view] = await viewAgents(deps, [agent]);
  return {
    ...view!,
    heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds,
    agent_token: newToken,
    signing_secret: agent.signing_secret,
  };
}

/** Where the agent is called, as a person would type it. */
function agentUrlOf(agent: Pick<AgentRecord, 'scheme' | 'host' | 'port'>): string {
  return `${agent.scheme ?? 'http'}://${agent.host.includes(':') ? `[${agent.host}]` : agent.host}:${agent.port}`;
}

function livenessTtl(settings: Deps['settings']): number {
  return settings.heartbeatIntervalSeconds * 3 + settings.heartbeatPersistSeconds;
}

export async function heartbeat(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'queue' | 'metrics'>,
  agentId: string,
  req: HeartbeatRequest,
  token: string | undefined,
): Promise<{ id: string; status: AgentView['status']; last_heartbeat: string; heartbeat_interval_seconds: number }> {
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const { agent: known, caller } = await actingAgent(
    deps,
    agentId,
    token,
    `agent ${agentId} is not registered (it may have been forgotten); register again with POST /agents/register`,
  );
  if (req.metadata !== undefined) assertMetadataSize(deps.settings, req.metadata);
  // The first heartbeat with its token marks the agent as one that holds its token: from then on it must always send it.
  const proves = caller === 'token' && !known.token_proven ? known.token_hash : undefined;
  const persist =
    req.metadata !== undefined ||
    (await deps.cache.shouldPersistHeartbeat(agentId, deps.settings.heartbeatPersistSeconds)) ||
    proves !== undefined;
  const report = { inFlight: req.in_flight, metadata: req.metadata, ...(proves ? { proves } : {}) };
  const agent = persist ? await deps.agents.heartbeat(agentId, nowIso, report) : known;
  if (!agent || isExpired(agent, now)) {
    throw new NotFoundError(
      `agent ${agentId} is not registered (it may have been forgotten); register again with POST /agents/register`,
      'agent_not_found',
    );
  }
  const live: AgentLiveness = { lastHeartbeatMs: now, reportedInFlight: req.in_flight ?? agent.in_flight };
  await deps.cache.putLiveness(agentId, live, livenessTtl(deps.settings));
  // Slots whose release was lost (a dispatcher that died) or whose circuit went half-open come free
  // here at the latest: one small script, that ends at once when the agent is full or nobody waits.
  await wakeFor(deps, agent);
  return {
    id: agentId,
    status: agentStatus(agent, now, deps.settings.heartbeatIntervalSeconds, live),
    last_heartbeat: nowIso,
    heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds,
  };
}

export async function unregisterAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'activity'>,
  agentId: string,
  token: string | undefined,
): Promise<{ message: string; agent: AgentView }> {
  const now = deps.clock.now();
  await actingAgent(deps, agentId, token, `agent ${agentId} is not registered`);
  const agent = await deps.agents.markDraining(agentId, Math.floor(now / 1000) + deps.settings.drainSeconds);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  deps.activity.emit({ kind: 'agent', event: 'draining', agent_id: agentId, name: agent.name, type: agent.type });
  await deps.agents.refreshOffers(agent.type, now, agent);
  const [view] = await viewAgents(deps, [agent]);
  return { message: `agent ${agentId} unregistered: it receives no new tasks, and tasks already sent to it still finish`, agent: view! };
}

/** Takes the agent out of rotation but keeps it registered: tasks already sent to it finish; registering again brings it back. */
export async function drainAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'activity'>,
  agentId: string,
  token: string | undefined,
): Promise<{ message: string; agent: AgentView }> {
  const { agent: existing } = await actingAgent(deps, agentId, token, `agent ${agentId} is not registered`);
  const agent = existing.status === 'draining' ? existing : await deps.agents.markDraining(agentId, undefined);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  if (existing.status !== 'draining')
    deps.activity.emit({ kind: 'agent', event: 'draining', agent_id: agentId, name: agent.name, type: agent.type });
  await deps.agents.refreshOffers(agent.type, deps.clock.now(), agent);
  const [view] = await viewAgents(deps, [agent]);
  return {
    message: `agent ${agentId} is draining: it receives no new tasks, tasks already sent to it finish; register it again to bring it back`,
    agent: view!,
  };
}

export const DEFAULT_AGENT_PAGE = 50;

/**
 * GET /agents, by name then id, paged as GET /tasks: at most `limit` agents (default 50) and a
 * `next_token` while there are more (the last name and id shown, so a page is not shifted by
 * agents registering meanwhile).
 */
export async function listAgents(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  query: ListAgentsQuery,
): Promise<{ agents: AgentView[]; count: number; next_token?: string }> {
  const after = query.next_token === undefined ? undefined : decodeAgentPageToken(query.next_token);
  const limit = query.limit ?? DEFAULT_AGENT_PAGE;
  const records = (await deps.agents.list(query.type)).filter((a) => after === undefined || compareAgents(a, after) > 0);
  const views = await viewAgents(deps, records);
  const matching = views
    .filter((a) => query.status === undefined || a.status === query.status)
    .sort((a, b) => compareAgents(a, { name: b.name, id: b.id }));
  const agents = matching.slice(0, limit);
  const last = agents[agents.length - 1];
  if (matching.length > limit && last)
    return { agents, count: agents.length, next_token: Buffer.from(JSON.stringify({ n: last.name, i: last.id })).toString('base64url') };
  return { agents, count: agents.length };
}

function compareAgents(a: { name: string; id?: string; agent_id?: string }, b: { name: string; id: string }): number {
  const id = a.id ?? a.agent_id ?? '';
  return a.name < b.name ? -1 : a.name > b.name ? 1 : id < b.id ? -1 : id > b.id ? 1 : 0;
}

function decodeAgentPageToken(raw: string): { name: string; id: string } {
  try {
    const { n, i } = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof n === 'string' && typeof i === 'string') return { name: n, id: i };
  } catch {
    // Answered below.
  }
  throw new ValidationError(
    'invalid next_token: it is not one this API issued; pass the next_token of the previous page unchanged, with the same filters',
    [{ field: 'next_token', message: 'not issued by this API' }],
  );
}

export async function getAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, agentId: string): Promise<AgentView> {
  const agent = await deps.agents.get(agentId);
  const [view] = agent ? await viewAgents(deps, [agent]) : [];
  if (!view) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  return view;
}
