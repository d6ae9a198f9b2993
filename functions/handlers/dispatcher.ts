import { z } from 'zod';
import { dispatchStep, faultStep, type StepResult } from '../app/dispatch';
import { allDeps } from '../shared/composition-root';
import { eventHandler } from '../shared/event-handler';

const deps = allDeps(['tasks', 'agents', 'cache', 'agentClient', 'queue']);

const inputSchema = z.object({
  action: z.enum(['dispatch', 'fault']),
  state: z.looseObject({ task_id: z.uuid(), state_timeout_seconds: z.number(), express_deadline_ms: z.number().optional() }),
});

/** The state machine's Task states: `dispatch` runs one step; `fault` handles a step that failed. */
export const handler = eventHandler(async (event: unknown): Promise<StepResult> => {
  const { action, state } = inputSchema.parse(event);
  return action === 'dispatch' ? dispatchStep(deps, state) : faultStep(deps, state);
});
