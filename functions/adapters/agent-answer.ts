/** How the dispatcher reads an agent's answers: a 200's TaskResponse, and what a refusal's body adds to the error. */
import { agentTaskResponseSchema } from '@optiinfra/contract';
import { JSON_LIMITS, jsonDepth } from '@optiinfra/contract';
import type { AttemptResult } from '../core/retry-policy';

/** An agent's own error text is kept up to this many characters. */
export const MAX_AGENT_ERROR_CHARS = 2_000;
/** Of a refusal (not 200) in JSON, the task's error keeps this many characters. */
export const MAX_REFUSAL_CHARS = 300;

/**
 * What a refusal's body adds to the task's error: JSON (what agents answer) up to 300 characters;
 * of anything else only its size and type, so a task cannot be used to read a service that is not an agent.
 */
export function answerDetail(text: string, contentType: string | undefined): string {
  if (!text) return '';
  try {
    JSON.parse(text);
    return `: ${text.slice(0, MAX_REFUSAL_CHARS)}`;
  } catch {
    return ` (a ${Buffer.byteLength(text)}-byte ${contentType?.split(';')[0]?.trim() || 'untyped'} body that is not JSON, not shown)`;
  }
}

/** The outcome an agent's 200 answer says, or why it is not a TaskResponse for `taskId`. */
export function readAnswer(text: string, taskId: string): AttemptResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'failed', error: 'agent answered 200 with a body that is not JSON', retryable: true, health: 'failure' };
  }
  const tooDeep = jsonDepth(json, JSON_LIMITS.maxDepth + 1) > JSON_LIMITS.maxDepth + 1;
  if (tooDeep)
    return {
      kind: 'failed',
      error: `the agent's result nests more than ${JSON_LIMITS.maxDepth} levels of objects and arrays, more than the task store keeps (not retried)`,
      retryable: false,
      health: 'neutral',
    };
  const parsed = agentTaskResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    return {
      kind: 'failed',
      error: `agent answered 200 with a body that is not a TaskResponse (${issues})`,
      retryable: true,
      health: 'failure',
    };
  }
  const answer = parsed.data;
  if (answer.task_id !== undefined && answer.task_id !== taskId)
    return {
      kind: 'failed',
      error: `agent answered for task ${answer.task_id}, not ${taskId}`,
      retryable: true,
      health: 'failure',
    };
  if (answer.status === 'failed') {
    // The agent worked and said no: that is about the task, not the agent's health.
    const retryable = answer.retryable !== false;
    const said = (answer.error ?? 'no error given').slice(0, MAX_AGENT_ERROR_CHARS);
    return {
      kind: 'failed',
      error: `agent reported failure${retryable ? '' : ' (marked not retryable)'}: ${said}`,
      retryable,
      health: 'neutral',
    };
  }
  return { kind: 'completed', result: answer.result ?? null, executionTimeMs: answer.execution_time_ms };
}
