import * as z from 'zod/mini';
import { dispatchStep } from '../app/dispatch';
import { faultStep } from '../app/fault-step';
import type { StepDeps, StepResult } from '../app/workflow-step';
import { agentClient } from '../composition/agent-client';
import { depsOf } from '../composition/composition-root';
import { routingAgents, tasks } from '../composition/dynamodb-stores';
import { eventHandler } from '../composition/event-handler';
import { queue } from '../composition/intake-queue';
import { logger } from '../composition/observability';
import { cache } from '../composition/task-cache';

/** The steps read the registry of a type through the CachingAgentStore. */
const deps: StepDeps = { ...depsOf({ tasks, cache, agentClient, queue }), agents: routingAgents() };

// zod/mini, as the agent protocol (@optiinfra/contract, agent-protocol.ts), which also sets up zod's English messages.
const inputSchema = z.object({
  action: z.enum(['dispatch', 'fault']),
  state: z.looseObject({
    task_id: z.uuid(),
    state_timeout_seconds: z.number(),
    express_deadline_ms: z.optional(z.number()),
    generation: z.optional(z.int().check(z.positive())),
  }),
});

/** The state machine's Task states: `dispatch` runs one step; `fault` handles a step that failed. */
export const handler = eventHandler(async (event: unknown): Promise<StepResult> => {
  const { action, state } = inputSchema.parse(event);
  const result = action === 'dispatch' ? await dispatchStep(deps, state) : await faultStep(deps, state);
  logger.debug({
    message: 'step',
    action,
    task_id: state.task_id,
    outcome: result.outcome,
    status: result.status,
    attempts: result.attempts,
    delay_seconds: result.delay_seconds,
  });
  return result;
});
