/**
 * The registry's bounds (MAX_AGENTS_PER_TYPE, MAX_AGENT_CAPABILITIES, MAX_AGENT_METADATA_BYTES):
 * without them one fleet token once registered 1 000 agents of 100 capabilities each in 2.7 s.
 */
import { isExpired } from '../core/agent-model';
import type { RegisterAgentRequest } from '@optiinfra/contract';
import { ConflictError, ValidationError } from '@optiinfra/contract';
import type { Deps, Settings } from './deps';
import { readLiveAgents } from './live-agents';

export function assertWithinAgentLimits(settings: Pick<Settings, 'agentLimits'>, req: RegisterAgentRequest): void {
  const { maxCapabilities } = settings.agentLimits;
  if (req.capabilities.length > maxCapabilities)
    throw new ValidationError(
      `invalid agent registration: capabilities lists ${req.capabilities.length} task types; this orchestrator allows at most ${maxCapabilities} per agent (MAX_AGENT_CAPABILITIES). Offer fewer, or split them over agents of different types`,
      [{ field: 'capabilities', message: `must list at most ${maxCapabilities} task types (got ${req.capabilities.length})` }],
    );
  assertMetadataSize(settings, req.metadata);
}

export function assertMetadataSize(settings: Pick<Settings, 'agentLimits'>, metadata: Record<string, unknown>): void {
  const { maxMetadataBytes } = settings.agentLimits;
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > maxMetadataBytes)
    throw new ValidationError(
      `invalid agent metadata: it is ${bytes} bytes as JSON; this orchestrator allows at most ${maxMetadataBytes} (MAX_AGENT_METADATA_BYTES). Keep large data elsewhere and put a reference in metadata`,
      [{ field: 'metadata', message: `must be at most ${maxMetadataBytes} bytes as JSON (got ${bytes})` }],
    );
}

/**
 * Refuses a new agent of `type` when the type already has MAX_AGENTS_PER_TYPE live agents. Agents
 * gone unhealthy (no heartbeat for three intervals) or forgotten do not count, so a fleet whose agents
 * died without unregistering can still register new ones. Racing registrations may pass it together
 * by a few: it bounds the registry, it is not an exact quota.
 */
export async function assertRoomForAgent(
  deps: Pick<Deps, 'agents' | 'cache' | 'settings'>,
  type: string,
  agentId: string,
  nowMs: number,
): Promise<void> {
  const { maxPerType } = deps.settings.agentLimits;
  const others = (await deps.agents.list(type)).filter((a) => a.agent_id !== agentId && !isExpired(a, nowMs));
  if (others.length < maxPerType) return;
  const live = (await readLiveAgents(deps, others, nowMs, false)).filter((a) => a.status !== 'unhealthy').length;
  if (live < maxPerType) return;
  throw new ConflictError(
    `agent type "${type}" already has ${live} live agents, the most this orchestrator allows (MAX_AGENTS_PER_TYPE=${maxPerType}); unregister agents of this type (DELETE /agents/{id}) or ask the operator to raise the limit`,
    'too_many_agents',
  );
}
