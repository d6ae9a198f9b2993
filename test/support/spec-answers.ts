/**
 * Checks a real answer of the API against the OpenAPI document: the operation of the method and
 * path must list the status, and the body must validate against that status's schema (ajv, JSON
 * Schema draft 2020-12, the document's dialect). A request no route takes must get the error shape
 * with 404, or 405 when the path has other methods, as API Gateway and the local server answer.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../functions/api/openapi';

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}

const spec = buildOpenApiDocument({ version: 'test' });
const paths = spec.paths as Record<string, Record<string, Operation>>;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
// The document's refs point into components.schemas; ajv resolves them as definitions of one schema.
const defs = JSON.parse(JSON.stringify((spec.components as Json).schemas).replaceAll('#/components/schemas/', 'openapi#/$defs/')) as Json;
ajv.addSchema({ $id: 'openapi', $defs: defs });

const validators = new Map<Json, ValidateFunction>();
function validatorOf(schema: Json): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    const ref = JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', 'openapi#/$defs/')) as Json;
    validate = ajv.compile(ref);
    validators.set(schema, validate);
  }
  return validate;
}

const templates = Object.keys(paths).map((template) => ({
  template,
  re: new RegExp(`^${template.replace(/\{[a-z_]+\}/g, '[^/]+')}/?$`),
}));

/** The spec's path templates a request path (query string and all) matches: "/agents/register" matches "/agents/{id}" too. */
export function specPathsOf(path: string): string[] {
  const bare = path.split('?')[0]!;
  return templates.filter((t) => t.re.test(bare)).map((t) => t.template);
}

function bodyProblem(schema: Json, body: unknown): string | undefined {
  const validate = validatorOf(schema);
  if (validate(body)) return undefined;
  return ajv.errorsText(validate.errors, { separator: '; ' });
}

/** Why this answer is not one the spec allows, or undefined when it is. */
export function answerProblem(method: string, path: string, status: number, body: unknown): string | undefined {
  const matching = specPathsOf(path);
  const template = matching.find((t) => paths[t]![method.toLowerCase()]);
  const operation = template ? paths[template]![method.toLowerCase()] : undefined;
  if (!operation) {
    const expected = matching.length > 0 ? 405 : 404;
    if (status !== expected) return `no operation in the spec, so the answer must be ${expected}, not ${status}`;
    return bodyProblem({ $ref: '#/components/schemas/ErrorResponse' }, body);
  }
  const response = operation.responses[String(status)];
  if (!response) return `the spec lists ${Object.keys(operation.responses).join(', ')} for ${method} ${template}, not ${status}`;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return `the spec gives no JSON schema for ${status} on ${method} ${template}`;
  return bodyProblem(schema, body);
}

/** Throws, with what was wrong and what came, when the answer is not one the spec allows. */
export function expectAnswerInSpec(method: string, path: string, status: number, body: unknown): void {
  const problem = answerProblem(method, path, status, body);
  if (problem === undefined) return;
  const shown = JSON.stringify(body)?.slice(0, 1_000);
  throw new Error(`${method} ${path.slice(0, 200)} answered ${status}, which the OpenAPI spec does not allow: ${problem}; body ${shown}`);
}
