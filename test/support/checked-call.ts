/**
 * The integration tests' HTTP call to the API, as harness/local-orchestrator.ts `call`, with every
 * answer, success or error, checked against the OpenAPI spec (spec-answers.ts): an answer the spec
 * does not describe fails the test that got it.
 */
import { type HttpResult, send } from '../../harness/local-orchestrator';
import { expectAnswerInSpec } from './spec-answers';

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const { status, contentType: type, text } = await send(base, method, path, body, headers);
  // Every answer of the API is JSON (the spec describes only application/json): anything else,
  // an empty body or one that does not parse, is itself outside the spec.
  if (!/^application\/json\b/.test(type)) {
    throw new Error(`${method} ${path.slice(0, 200)} answered ${status} as "${type}", not application/json: ${text.slice(0, 200)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path.slice(0, 200)} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  expectAnswerInSpec(method, path, status, parsed);
  return { status, body: parsed as T };
}
