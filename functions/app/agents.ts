/** Use cases behind /agents: register, heartbeat, unregister, list, get. */
import ipaddr from 'ipaddr.js';
import { type AgentLiveness, type AgentRecord, agentStatus, isExpired, toAgentView } from '../core/agent-model';
import type { AgentView, HeartbeatRequest, ListAgentsQuery, RegisterAgentRequest, RegisterAgentResponse } from '../core/contract';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../core/errors';
import { agentIdFor, agentTokenHash, matchesTokenHash, newAgentToken, signingSecretFor } from '../core/ids';
import { toCircuitView } from '../core/circuit-breaker';
import { checkAddress } from '../core/network-policy';
import type { Deps } from './deps';
import { readLiveAgents } from './live-agents';

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
    if (addresses.length === 0)
      throw new ValidationError(
        `invalid agent registration: host "${host}" does not resolve; register an address the orchestrator can reach`,
        [{ field: 'host', message: 'does not resolve' }],
      );
  }
  for (const address of addresses) {
    const verdict = checkAddress(address, deps.settings.networkPolicy);
    if (!verdict.ok) {
      throw new ValidationError(`invalid agent registration: host "${host}" is not allowed: ${verdict.reason}`, [
        { field: 'host', message: verdict.reason },
      ]);
    }
  }
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

/**
 * Registration needs a fleet token when the orchestrator has some (FLEET_TOKENS). Several may be
 * listed at once, so a token can be rotated without downtime.
 */
export function assertFleetToken(fleetTokens: readonly string[], presented: string | undefined): void {
  if (fleetTokens.length === 0) return;
  if (!presented)
    throw new UnauthorizedError(
      'registration needs the fleet token: send it in the X-Fleet-Token header (it is configured as FLEET_TOKENS)',
      'fleet_token_required',
    );
  // Every token is compared, in constant time, so the time taken does not tell which one matched.
  if (!fleetTokens.map((t) => matchesTokenHash(presented, agentTokenHash(t))).includes(true)) {
    throw new UnauthorizedError(
      'the X-Fleet-Token is not one this orchestrator accepts; ask for the current fleet token',
      'fleet_token_invalid',
    );
  }
}

/** Lets an agent act only for itself: the token it presents must be the one issued at its last registration. */
export function assertAgentToken(agent: AgentRecord, presented: string | undefined): void {
  if (!presented)
    throw new UnauthorizedError(
      `send the agent_token returned at registration in the X-Agent-Token header to act for agent ${agent.agent_id}`,
      'agent_token_required',
    );
  if (!agent.token_hash || !matchesTokenHash(presented, agent.token_hash)) {
    throw new ForbiddenError(
      `the X-Agent-Token is not agent ${agent.agent_id}'s current token (an agent may act only for itself; registering again issues a new token)`,
      'agent_token_mismatch',
    );
  }
}

export async function registerAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings' | 'resolveHost'>,
  req: RegisterAgentRequest,
): Promise<RegisterAgentResponse> {
  await assertReachableHost(deps, req.host);
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const token = newAgentToken();
  const agent = await deps.agents.register(
    {
      agent_id: agentIdFor(req.name, req.host, req.port),
      name: req.name,
      type: req.type,
      host: req.host,
      port: req.port,
      scheme: req.scheme ?? 'http',
      capabilities: req.capabilities,
      status: 'healthy',
      version: req.version,
      max_concurrency: req.max_concurrency,
      metadata: req.metadata,
      last_heartbeat: nowIso,
      in_flight: 0,
      token_hash: agentTokenHash(token),
      signing_secret: signingSecretFor(token),
    },
    nowIso,
  );
  const live: AgentLiveness = { lastHeartbeatMs: now, reportedInFlight: 0 };
  await deps.cache.putLiveness(agent.agent_id, live, livenessTtl(deps.settings));
  const [view] = await viewAgents(deps, [agent]);
  return {
    ...view!,
    heartbeat_interval_seconds: deps.settings.heartbeatIntervalSeconds,
    agent_token: token,
    signing_secret: agent.signing_secret,
  };
}

function livenessTtl(settings: Deps['settings']): number {
  return settings.heartbeatIntervalSeconds * 3 + settings.heartbeatPersistSeconds;
}

export async function heartbeat(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  agentId: string,
  req: HeartbeatRequest,
  token: string | undefined,
): Promise<{ id: string; status: AgentView['status']; last_heartbeat: string; heartbeat_interval_seconds: number }> {
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const known = await knownAgent(
    deps,
    agentId,
    token,
    `agent ${agentId} is not registered (it may have been forgotten); register again with POST /agents/register`,
  );
  const persist = req.metadata !== undefined || (await deps.cache.shouldPersistHeartbeat(agentId, deps.settings.heartbeatPersistSeconds));
  const agent = persist ? await deps.agents.heartbeat(agentId, nowIso, { inFlight: req.in_flight, metadata: req.metadata }) : known;
  if (!agent || isExpired(agent, now)) {
    throw new NotFoundError(
      `agent ${agentId} is not registered (it may have been forgotten); register again with POST /agents/register`,
      'agent_not_found',
    );
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

/**
 * The agent, once the caller has shown it is that agent: no token is a 401 before anything is read,
 * an unknown agent a 404 (so a forgotten agent knows to register again), another agent's token a 403.
 */
async function knownAgent(
  deps: Pick<Deps, 'agents' | 'clock'>,
  agentId: string,
  token: string | undefined,
  notFound: string,
): Promise<AgentRecord> {
  if (!token)
    throw new UnauthorizedError(
      `send the agent_token returned at registration in the X-Agent-Token header to act for agent ${agentId}`,
      'agent_token_required',
    );
  const agent = await deps.agents.get(agentId);
  if (!agent || isExpired(agent, deps.clock.now())) throw new NotFoundError(notFound, 'agent_not_found');
  assertAgentToken(agent, token);
  return agent;
}

export async function unregisterAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  agentId: string,
  token: string | undefined,
): Promise<{ message: string; agent: AgentView }> {
  const now = deps.clock.now();
  await knownAgent(deps, agentId, token, `agent ${agentId} is not registered`);
  const agent = await deps.agents.markDraining(agentId, Math.floor(now / 1000) + deps.settings.drainSeconds);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const [view] = await viewAgents(deps, [agent]);
  return { message: `agent ${agentId} unregistered: it receives no new tasks, and tasks already sent to it still finish`, agent: view! };
}

/** Takes the agent out of rotation but keeps it registered: tasks already sent to it finish; registering again brings it back. */
export async function drainAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  agentId: string,
  token: string | undefined,
): Promise<{ message: string; agent: AgentView }> {
  const existing = await knownAgent(deps, agentId, token, `agent ${agentId} is not registered`);
  const agent = existing.status === 'draining' ? existing : await deps.agents.markDraining(agentId, undefined);
  if (!agent) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  const [view] = await viewAgents(deps, [agent]);
  return {
    message: `agent ${agentId} is draining: it receives no new tasks, tasks already sent to it finish; register it again to bring it back`,
    agent: view!,
  };
}

export async function listAgents(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  query: ListAgentsQuery,
): Promise<{ agents: AgentView[]; count: number }> {
  const views = await viewAgents(deps, await deps.agents.list(query.type));
  const agents = views
    .filter((a) => query.status === undefined || a.status === query.status)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { agents, count: agents.length };
}

export async function getAgent(deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>, agentId: string): Promise<AgentView> {
  const agent = await deps.agents.get(agentId);
  const [view] = agent ? await viewAgents(deps, [agent]) : [];
  if (!view) throw new NotFoundError(`agent ${agentId} is not registered`, 'agent_not_found');
  return view;
}
