/**
 * What an agent that accepted a task (202) sends later: its report (POST /tasks/{id}/result, the
 * shape of a synchronous answer) and its progress (POST /tasks/{id}/progress). Strict: a field the
 * protocol does not know is a 400 naming it, so a typo is not silently ignored.
 */
import * as z from 'zod/mini';

const attemptField = z.optional(
  z
    .int({ error: 'must be the X-OptiInfra-Attempt of the delivery, an integer from 1' })
    .check(z.minimum(1, { error: 'must be the X-OptiInfra-Attempt of the delivery, an integer from 1' })),
);

/** POST /tasks/{id}/result. */
export const agentReportSchema = z.strictObject({
  status: z.enum(['completed', 'failed'], { error: 'is required: "completed" or "failed"' }),
  result: z.optional(z.unknown()),
  error: z.nullish(z.string({ error: 'must be a string saying why the task failed' })),
  execution_time_ms: z.optional(z.number({ error: 'must be a number of milliseconds' })),
  retryable: z.nullish(z.boolean({ error: 'must be true or false (false: another attempt cannot succeed)' })),
  attempt: attemptField,
});
export type AgentReport = z.infer<typeof agentReportSchema>;

export const PROGRESS_MESSAGE_MAX_CHARS = 500;

/** POST /tasks/{id}/progress. */
export const agentProgressSchema = z.strictObject({
  progress: z.optional(
    z
      .number({ error: 'must be a number from 0 to 100 (percent done)' })
      .check(
        z.minimum(0, { error: 'must be a number from 0 to 100 (percent done)' }),
        z.maximum(100, { error: 'must be a number from 0 to 100 (percent done)' }),
      ),
  ),
  message: z.optional(
    z
      .string({ error: `must be a string of at most ${PROGRESS_MESSAGE_MAX_CHARS} characters` })
      .check(z.maxLength(PROGRESS_MESSAGE_MAX_CHARS, { error: `must be at most ${PROGRESS_MESSAGE_MAX_CHARS} characters` })),
  ),
  attempt: attemptField,
});
export type AgentProgress = z.infer<typeof agentProgressSchema>;
