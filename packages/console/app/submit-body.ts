import type { TaskSubmitInput } from '@optiinfra/contract';

/** The submit form's fields as typed. */
export interface Draft {
  agentType: string;
  action: string;
  parameters: string;
  priority: string;
  maxRetries: string;
  timeout: string;
}

export const EMPTY_DRAFT: Draft = { agentType: '', action: '', parameters: '{}', priority: '', maxRetries: '', timeout: '' };

/** A number field as the API gets it: left out when empty (the API's default), else the number typed, checked by the API. */
const numberOf = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));

/** The request body of a draft, or why its parameters are not a JSON object. */
export function submitBody(draft: Draft): { body: TaskSubmitInput } | { problem: string } {
  let parameters: unknown;
  try {
    parameters = JSON.parse(draft.parameters.trim() || '{}');
  } catch (err) {
    return {
      problem: `parameters must be a JSON object such as {"account_id": "123"}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    return { problem: 'parameters must be a JSON object such as {"account_id": "123"}' };
  const body: TaskSubmitInput = {
    agent_type: draft.agentType.trim(),
    task_type: draft.action.trim(),
    parameters,
  };
  const priority = numberOf(draft.priority);
  const maxRetries = numberOf(draft.maxRetries);
  const timeout = numberOf(draft.timeout);
  if (priority !== undefined) body.priority = priority;
  if (maxRetries !== undefined) body.max_retries = maxRetries;
  if (timeout !== undefined) body.timeout_seconds = timeout;
  return { body };
}
