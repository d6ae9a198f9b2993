/** Use cases behind /agents: register, heartbeat, unregister, list, get. */
import ipaddr from 'ipaddr.js';
import { type AgentLiveness, type AgentRecord, agentStatus, isExpired, toAgentView } from '../core/agent-model';
import type { AgentView, HeartbeatRequest, ListAgentsQuery, RegisterAgentRequest, RegisterAgentResponse } from '../core/contract';
import { NotFoundError, ValidationError } from '../core/errors';
import { agentIdFor, newSigningSecret } from '../core/ids';
import { toCircuitView } from '../core/circuit-breaker';
import { checkAddress } from '../core/network-policy';
import type { Deps } from './deps';

async function assertReachableHost(deps: Pick<Deps, 'settings' | 'resolveHost'>, host: string): Promise<void> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: string[];
  if (ipaddr.isValid(bare)) {
    addresses = [bare];
  } else {
    try {
      addresses = await deps.resolveHost(bare);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new ValidationError(`invalid agent registration: host "${host}" does not resolve; register an address the orchestrator can reach`, [{ field: 'host', message: 'does not resolve' }]);
  }
  for (const address of addresses) {
    const verdict = checkAddress(address, deps.settings.networkPolicy);
    if (!verdict.ok) {
      throw new ValidationError(`invalid agent registration: host "${host}" is not allowed: ${verdict.reason}`, [{ field: 'host', message: verdict.reason }]);
    }
  }
}

/** Current status and load of agents, merging the cache's fresh heartbeats with the table. */
export async function viewAgents(deps: Pick<Deps, 'cache' | 'clock' | 'settings'>, agents: AgentRecord[]): Promise<AgentView[]> {
  const now = deps.clock.now();
  const live = agents.filter((a) => !isExpired(a, now));
  const keys = live.map((a) => ({ agentId: a.agent_id, type: a.type }));
  const { breaker } = deps.settings;
  const [liveness, leases, circuits] = await Promise.all([
    deps.cache.getLiveness(keys.map((k) => k.agentId)),
    deps.cache.inFlight(keys, now),
    deps.cache.circuits(keys, now, breaker.windowSeconds * 1000, true),
  ]);
  const grace = liveness ? 0 : deps.settings.heartbeatPersistSeconds * 1000;
  return live.map((a) => {
    const l = liveness?.get(a.agent_id);
    const status = agentStatus(a, now, deps.settings.heartbeatIntervalSeconds, l, grace);
    return toAgentView(a, status, l, inFlightOf(a, l, leases), toCircuitView(circuits?.get(a.agent_id), now, breaker));
  });
}

export function inFlightOf(agent: AgentRecord, live: AgentLiveness | undefined, leases: Map<string, number> | undefined): number {
  return Math.max(leases?.get(agent.agent_id) ?? 0, live?.reportedInFlight ?? (leases ? 0 : agent.in_flight));
}

export async function registerAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'resolveHost'>, req: RegisterAgentRequest): Promise<RegisterAgentResponse> {
  await assertReachableHost(deps, req.host);
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const agent = await deps.agents.register(
    {
      agent_id: agentIdFor(req.name, req.host, req.port),
      name: req.name,
      type: req.type,
      host: req.host,
      port: req.port,
      capabilities: req.capabilities,
      status: 'healthy',
      version: req.version,
      max_concurrency: req.max_concurrency,
      metadata: req.metadata,
      last_heartbeat: nowIso,
      in_flight: 0,
    },
    nowIso,
    newSigningSecret(),
  );
  const live: AgentLiveness = { lastHeartbeatMs: now, reportedInFlight: 0 };
  await deps.cache.putLiveness(agent.agent_id, live, livenessTtl(deps.settings));
  const [view] = await viewAgents(deps, [agent]);
  return { ...view!, heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds, signing_secret: agent.signing_secret };
}

function livenessTtl(settings: Deps['settings']): number {
  return settings.heartbeatIntervalSeconds * 3 + settings.heartbeatPersistSeconds;
}

export async function heartbeat(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  agentId: string,
  req: HeartbeatRequest,
): Promise<{ id: string; status: AgentView['status']; last_heartbeat: string; heartbeat_interval_seconds: number }> {
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const persist = req.metadata !== undefined || (await deps.cache.shouldPersistHeartbeat(agentId, deps.settings.heartbeatPersistSeconds));
  const agent = persist ? await deps.agents.heartbeat(agentId, nowIso, req.in_flight, req.metadata) : await deps.agents.get(agentId);
  if (!agent || isExpired(agent, now)) {
    throw new NotFoundError(`agent ${agentId} is not registered (it may have been forgotten); register again with POST /agents/register`, 'agent_not_found');
  }
  const live: AgentLiveness = { lastHeartbeatMs: now, reportedInFlight: req.in_flight ?? agent.in_flight };
  await deps.cache.putLiveness(agentId, live, livenessTtl(deps.settings));
  return {
    id: agentId,
    status: agentStatus(agent, now, deps.settings.heartbeatIntervalSeconds, live),
    last_heartbeat: nowIso,
    heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds,
  };
}

export async function unregisterAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, agentId: string): Promise<{ message: string; agent: AgentView }> {
  const now = deps.clock.now();
  const existing = await deps.agents.get(agentId);
  if (!existing || isExpired(existing, now)) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const agent = await deps.agents.markDraining(agentId, Math.floor(now / 1000) + deps.settings.drainSeconds);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const [view] = await viewAgents(deps, [agent]);
  return { message: `agent ${agentId} unregistered: it receives no new tasks, and tasks already sent to it still finish`, agent: view! };
}

/** Takes the agent out of rotation but keeps it registered: tasks already sent to it finish; registering again brings it back. */
export async function drainAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, agentId: string): Promise<{ message: string; agent: AgentView }> {
  const existing = await deps.agents.get(agentId);
  if (!existing || isExpired(existing, deps.clock.now())) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const agent = existing.status === 'draining' ? existing : await deps.agents.markDraining(agentId, undefined);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const [view] = await viewAgents(deps, [agent]);
  return { message: `agent ${agentId} is draining: it receives no new tasks, tasks already sent to it finish; register it again to bring it back`, agent: view! };
}

export async function listAgents(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, query: ListAgentsQuery): Promise<{ agents: AgentView[]; count: number }> {
  const views = await viewAgents(deps, await deps.agents.list(query.type));
  const agents = views.filter((a) => query.status === undefined || a.status === query.status).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { agents, count: agents.length };
}

export async function getAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, agentId: string): Promise<AgentView> {
  const agent = await deps.agents.get(agentId);
  const [view] = agent ? await viewAgents(deps, [agent]) : [];
  if (!view) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  return view;
}
