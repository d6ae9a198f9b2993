/**
 * Who may act for an agent: the fleet token to register, the agent's own token afterwards, and
 * what an agent that speaks only the seed protocol (no tokens at all) may still do.
 */
import { type AgentRecord, isExpired, lastHeartbeatMs, MISSED_HEARTBEATS_BEFORE_UNHEALTHY } from '../core/agent-model';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '@optiinfra/contract';
import { agentTokenHash, matchesTokenHash } from '../core/ids';
import type { Deps } from './deps';
import { readLiveAgents } from './live-agents';

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

/** How a caller acted for an agent: with its current token, or (a seed-protocol agent) without any. */
export type AgentCaller = 'token' | 'tokenless';

/**
 * The agent, once the caller may act for it. A token that is sent must be the agent's current one
 * (403 otherwise). Without one (401) unless tokens are optional (REQUIRE_AGENT_TOKENS=false) and the
 * agent has never shown its token since it registered: an agent that speaks only the seed protocol
 * never does, while an SDK agent does from its first heartbeat, after which its token is always needed.
 * An unknown or forgotten agent is a 404, so it knows to register again.
 */
export async function actingAgent(
  deps: Pick<Deps, 'agents' | 'clock' | 'settings'>,
  agentId: string,
  token: string | undefined,
  notFound: string,
): Promise<{ agent: AgentRecord; caller: AgentCaller }> {
  if (!token && deps.settings.requireAgentTokens) throw tokenRequired(agentId, 'this orchestrator requires agent tokens');
  const agent = await deps.agents.get(agentId);
  if (!agent || isExpired(agent, deps.clock.now())) throw new NotFoundError(notFound, 'agent_not_found');
  if (token) {
    assertAgentToken(agent, token);
    return { agent, caller: 'token' };
  }
  if (agent.token_proven) throw tokenRequired(agentId, `agent ${agentId} has shown its token before, so it must always send it`);
  return { agent, caller: 'tokenless' };
}

function tokenRequired(agentId: string, why: string): UnauthorizedError {
  return new UnauthorizedError(
    `send the agent_token returned at registration in the X-Agent-Token header to act for agent ${agentId} (${why})`,
    'agent_token_required',
  );
}

/** What a new registration of an existing id replaces: the token hash read, which the write is conditional on. */
export interface Replaced {
  tokenHash: string | null;
  /** The type it was registered with, if any. */
  type?: string;
}

/**
 * Whether `agentId` may be registered now. A LIVE registration (heartbeats within three intervals,
 * not unregistered) is replaced only by a caller that sends its current token in X-Agent-Token: 409
 * `agent_id_in_use` otherwise, saying when the old registration stops being live. A registration
 * that is no longer live (unhealthy, unregistered, forgotten) may be taken over without its token.
 */
export async function assertMayRegister(
  deps: Pick<Deps, 'agents' | 'cache' | 'clock' | 'settings'>,
  agentId: string,
  token: string | undefined,
): Promise<Replaced> {
  const existing = await deps.agents.get(agentId);
  if (!existing) return { tokenHash: null };
  const replaced = { tokenHash: existing.token_hash, type: existing.type };
  const now = deps.clock.now();
  if (isExpired(existing, now) || existing.expires_at !== undefined) return replaced;
  // A drained agent that still heartbeats is live: only its status keeps it out of rotation.
  const [seen] = await readLiveAgents(deps, [{ ...existing, status: 'healthy' }], now, false);
  if (seen?.status !== 'healthy') return replaced;
  if (token && matchesTokenHash(token, existing.token_hash)) return replaced;
  const quietLimitMs = MISSED_HEARTBEATS_BEFORE_UNHEALTHY * deps.settings.heartbeatIntervalSeconds * 1000;
  const grace = seen.live ? 0 : deps.settings.heartbeatPersistSeconds * 1000;
  const freeAt = lastHeartbeatMs(existing, seen.live) + quietLimitMs + grace;
  throw agentIdInUse(
    agentId,
    `${token ? 'the X-Agent-Token sent is not its current token' : 'no X-Agent-Token was sent'}. To register it again, send the agent_token of its latest registration in the X-Agent-Token header. An agent that lost its token can register again once this registration is no longer live: after ${Math.ceil((freeAt - now) / 1000)} s without heartbeats (at ${new Date(freeAt).toISOString()}), or at once after it is unregistered (DELETE /agents/${agentId})`,
  );
}

export function agentIdInUse(agentId: string, detail: string): ConflictError {
  return new ConflictError(`agent ${agentId} (this name, host and port) is registered and live: ${detail}`, 'agent_id_in_use');
}
