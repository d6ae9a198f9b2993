/**
 * The OpenAPI document generated from the route table and the contract: a valid OpenAPI 3.1
 * document, with every route of API_ROUTES and nothing else, and a checker of real answers
 * (test/support/spec-answers.ts) that refuses what the document does not describe.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/api/openapi';
import { API_ROUTES, routeKey } from '../../functions/api/routes';
import { answerProblem } from '../support/spec-answers';

const spec = buildOpenApiDocument({ version: '0.0.0-test' });
const paths = spec.paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
const TASK_ID = '0b6f3a52-5c3e-4d8e-9f3e-1a2b3c4d5e6f';
const task = {
  task_id: TASK_ID,
  status: 'completed',
  agent_id: '',
  task_type: 'analyze_cost',
  agent_type: 'cost',
  priority: 5,
  result: { saved: 1 },
  created_at: '2026-06-15T12:00:00.000Z',
  completed_at: '2026-06-15T12:00:01.000Z',
  retry_count: 0,
  attempts: 1,
  progress: null,
  progress_message: null,
  last_progress_at: null,
};

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toBe('3.1.0');
  });

  it('has every route of the route table with its method, and nothing else', () => {
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(API_ROUTES.map(routeKey).sort());
  });

  it('needs no credential only where the route table says so', () => {
    for (const route of API_ROUTES) {
      const operation = paths[route.path]![route.method.toLowerCase()]!;
      expect(operation.security, routeKey(route)).toEqual(route.public ? [] : undefined);
    }
    expect(spec.security).toEqual([{ sigv4: [] }, { bearerAuth: [] }]);
  });

  it('describes the errors of every route with the error shape', () => {
    for (const route of API_ROUTES) {
      const statuses = Object.keys(paths[route.path]![route.method.toLowerCase()]!.responses);
      expect(statuses, routeKey(route)).toContain('500');
      if (!route.public) expect(statuses, routeKey(route)).toEqual(expect.arrayContaining(['400', '401', '413', '503']));
    }
  });

  it('describes request bodies as the API reads them: defaults optional, unknown fields refused, ids of any case', () => {
    const schemas = (
      spec.components as {
        schemas: Record<
          string,
          { required?: string[]; additionalProperties?: unknown; properties: Record<string, Record<string, unknown>> }
        >;
      }
    ).schemas;
    const submit = schemas.TaskSubmitRequest!;
    expect(submit.required).toEqual(['task_type', 'agent_type']);
    expect(submit.additionalProperties).toBe(false);
    expect(submit.properties.priority).toMatchObject({ type: 'integer', minimum: 1, maximum: 15, default: 5 });
    expect(submit.properties.parameters).toMatchObject({ type: 'object' });
    expect(submit.properties.agent_id).toEqual({ type: 'string', format: 'uuid' });
  });
});

describe('checking an answer against the document', () => {
  it('accepts an answer the document describes, success or error', () => {
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 200, task)).toBeUndefined();
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 404, { error: 'task x does not exist', code: 'task_not_found' })).toBeUndefined();
    expect(answerProblem('GET', '/tasks?limit=2', 200, { tasks: [], count: 0 })).toBeUndefined();
    expect(
      answerProblem('POST', '/tasks', 400, {
        error: 'bad',
        code: 'validation_error',
        details: [{ field: 'priority', message: 'too big' }],
      }),
    ).toBeUndefined();
  });

  it('refuses a status the route does not list', () => {
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 422, { error: 'x', code: 'y' })).toMatch(/not 422/);
  });

  it('refuses a body missing a field, with a field the schema does not have, or of the wrong type', () => {
    const { attempts: _attempts, ...withoutAttempts } = task;
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 200, withoutAttempts)).toMatch(/attempts/);
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 200, { ...task, surprise: 1 })).toMatch(/additional properties/);
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 200, { ...task, status: 'done' })).toMatch(/allowed values/);
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 200, { ...task, created_at: 'yesterday' })).toMatch(/date-time/);
    expect(answerProblem('GET', `/tasks/${TASK_ID}`, 404, { message: 'Not Found' })).toMatch(/error/);
  });

  it('wants 404 for a path no route has and 405 for a method the path does not have, in the error shape', () => {
    const error = { error: 'no route', code: 'route_not_found' };
    expect(answerProblem('GET', '/jobs', 404, error)).toBeUndefined();
    expect(answerProblem('PUT', '/tasks', 405, { error: 'PUT is not allowed', code: 'method_not_allowed' })).toBeUndefined();
    expect(answerProblem('PUT', '/tasks', 404, error)).toMatch(/must be 405/);
    expect(answerProblem('GET', '/jobs', 200, {})).toMatch(/must be 404/);
    // As the API routes it: "register" is an id to GET /agents/{id}, which answers 400 for it.
    expect(answerProblem('GET', '/agents/register', 400, { error: 'invalid agent id', code: 'validation_error' })).toBeUndefined();
  });
});
