import { assertFleetToken, drainAgent, getAgent, heartbeat, listAgents, registerAgent, unregisterAgent } from '../app/agents';
import {
  AGENT_AUTH_HEADERS,
  drainRequestSchema,
  heartbeatRequestSchema,
  listAgentsQuerySchema,
  registerAgentRequestSchema,
} from '@optiinfra/contract';
import { parseOrThrow } from '../core/validation';
import { config, depsOf } from '../composition/composition-root';
import { agents } from '../composition/dynamodb-stores';
import { fleetTokens } from '../composition/fleet-tokens';
import { httpApi, idParam } from '../composition/http-handler';
import { queue } from '../composition/intake-queue';
import { cache } from '../composition/task-cache';

const deps = depsOf({ agents, cache, queue });

export const handler = httpApi(
  'agents',
  {
    'POST /agents/register': async (req) => {
      assertFleetToken(await fleetTokens(), req.headers[AGENT_AUTH_HEADERS.fleetToken]);
      const request = parseOrThrow(registerAgentRequestSchema, req.body, 'agent registration');
      // The agent's current token, when it registers again while its registration is live.
      return { status: 201, body: await registerAgent(deps, request, req.headers[AGENT_AUTH_HEADERS.agentToken]) };
    },
    'POST /agents/{id}/heartbeat': async (req) => {
      const id = idParam(req, 'agent');
      const body = parseOrThrow(heartbeatRequestSchema, req.body ?? {}, 'heartbeat');
      return { status: 200, body: await heartbeat(deps, id, body, req.headers[AGENT_AUTH_HEADERS.agentToken]) };
    },
    'POST /agents/{id}/drain': async (req) => {
      const id = idParam(req, 'agent');
      parseOrThrow(drainRequestSchema, req.body ?? {}, 'drain request');
      return { status: 200, body: await drainAgent(deps, id, req.headers[AGENT_AUTH_HEADERS.agentToken]) };
    },
    'DELETE /agents/{id}': async (req) => ({
      status: 200,
      body: await unregisterAgent(deps, idParam(req, 'agent'), req.headers[AGENT_AUTH_HEADERS.agentToken]),
    }),
    'GET /agents': async (req) => ({
      status: 200,
      body: await listAgents(deps, parseOrThrow(listAgentsQuerySchema, req.query, 'agent list query')),
    }),
    'GET /agents/{id}': async (req) => ({ status: 200, body: await getAgent(deps, idParam(req, 'agent')) }),
  },
  { maxBodyBytes: config.MAX_BODY_BYTES },
);
