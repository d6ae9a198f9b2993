/**
 * The integration tests' HTTP call to the API, as harness/local-orchestrator.ts `call`, with every
 * answer, success or error, checked against the OpenAPI spec (spec-answers.ts): an answer the spec
 * does not describe fails the test that got it.
 */
import type { HttpResult } from '../../harness/local-orchestrator';
import { expectAnswerInSpec } from './spec-answers';

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const init: RequestInit = {
    method,
    headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  // Every answer of the API is JSON: an empty or unparsable body is itself outside the spec.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path.slice(0, 200)} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  expectAnswerInSpec(method, path, res.status, parsed);
  return { status: res.status, body: parsed as T };
}
