/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table (routes.ts), the
 * contract's request schemas and its answer schemas (@optiinfra/contract/responses), with zod's own
 * JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect). Nothing is written by hand twice: a
 * field added to a schema is in the document, and a route without a description fails the build.
 * Served by the local runtime at GET /openapi.json and written by `npm run build:openapi`.
 */
import * as z from 'zod/mini';
import { UUID_RE } from '@optiinfra/contract';
import { ANSWERS, type ErrorStatus, OPERATIONS, type OperationDoc } from './openapi-operations';
import { API_ROUTES, type ApiRouteSpec, routeKey } from './routes';

type JsonSchema = Record<string, unknown>;
type Registry = ReturnType<typeof z.registry<{ id: string }>>;

/** When each error status is answered on every route that needs authentication; routes add their own cases. */
const COMMON_ERRORS: Partial<Record<ErrorStatus, string>> = {
  400: 'Bad input: a field breaks its rule, an unknown field, a body that is not JSON, a path id that is not a UUID; `details` names each field.',
  401: 'No credential, or one the orchestrator does not know (locally: the bearer token of API_TOKENS).',
  413: "The body is larger than the route's limit.",
  415: 'The body was not sent as JSON.',
  500: 'Internal error; the message carries a request id to quote.',
  503: 'A dependency is briefly unavailable (`dependency_error`): retry the request.',
};
/** What even the public route can answer: its body is ignored, but not an oversized one. */
const PUBLIC_ERRORS: Partial<Record<ErrorStatus, string>> = { 413: COMMON_ERRORS[413]!, 500: COMMON_ERRORS[500]! };

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description:
      'Locally (`npm start`): one of the tokens of API_TOKENS; without API_TOKENS the local API is open to whatever reaches it. On AWS, when the stack is deployed with `jwtIssuer`: a JWT from that issuer (API Gateway answers a missing or bad one with 401 `{"message": "Unauthorized"}`).',
  },
  sigv4: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description:
      'On AWS (the default): AWS Signature Version 4 for the `execute-api` service, by an IAM identity allowed `execute-api:Invoke` on the API. API Gateway itself refuses an unsigned or unpermitted request, with 403 `{"message": "Forbidden"}` (not the API\'s error shape).',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
} as const;

/**
 * Schemas zod cannot put in JSON Schema as they are read, described as what they accept: a
 * free-form object is checked (size, depth, storable values) before zod's record reads it, a
 * date-time needs only its format, not zod's long pattern for it, and an id is any-case UUID.
 */
function describeAsAccepted(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  const def = ctx.zodSchema._zod.def;
  if (def.type === 'pipe' && def.in._zod.def.type === 'unknown' && def.out._zod.def.type === 'record') {
    Object.assign(ctx.jsonSchema, { type: 'object', additionalProperties: {} });
  }
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
  // JSON Schema patterns have no flags: a case-insensitive one would refuse what the API accepts.
  for (const check of def.checks ?? []) {
    const pattern = (check._zod.def as { pattern?: unknown }).pattern;
    if (!(pattern instanceof RegExp) || !pattern.flags.includes('i')) continue;
    if (pattern.source !== UUID_RE.source) throw new Error(`no JSON Schema for the case-insensitive pattern /${pattern.source}/i`);
    delete ctx.jsonSchema.pattern;
    ctx.jsonSchema.format = 'uuid';
  }
}

/** A registry's schemas in the components' form: refs between them, no $schema or $id of their own. */
function componentSchemas(registry: Registry, io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `#/components/schemas/${id}`,
    override: describeAsAccepted,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function queryParameters(query: z.ZodMiniObject): JsonSchema[] {
  // As parsed: `limit` arrives as text but is an integer from 1 to 100, which is what a client should send.
  const schema = z.toJSONSchema(query, { target: 'draft-2020-12', io: 'output', override: describeAsAccepted }) as JsonSchema;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: required.includes(name), schema: property }));
}

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };

function operationOf(route: ApiRouteSpec, doc: OperationDoc): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const [, name] of route.path.matchAll(/\{([a-z_]+)\}/g)) {
    parameters.push({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
  }
  if (doc.query) parameters.push(...queryParameters(doc.query));
  for (const h of doc.headers ?? []) {
    const schema = h.pattern ? { type: 'string', pattern: h.pattern } : { type: 'string' };
    parameters.push({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema });
  }
  // A route's own text for a status replaces the common one: it says more of when.
  const errors = { ...(route.public ? PUBLIC_ERRORS : COMMON_ERRORS), ...doc.errors };
  const responses: JsonSchema = {
    [doc.success.status]: {
      description: doc.success.description,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${doc.success.schema}` } } },
    },
  };
  for (const [status, when] of Object.entries(errors)) responses[status] = { description: when, content: ERROR_CONTENT };
  const operation: JsonSchema = { operationId: doc.operationId, tags: [doc.tag], summary: doc.summary };
  if (doc.description) operation.description = doc.description;
  if (parameters.length > 0) operation.parameters = parameters;
  if (doc.body) {
    operation.requestBody = {
      required: doc.body.required,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${doc.body.name}` } } },
    };
  }
  operation.responses = responses;
  if (route.public) operation.security = [];
  return operation;
}

export interface OpenApiOptions {
  /** The API's version (the project's). */
  version: string;
  /** Where the API is; default the local runtime's default address. */
  servers?: { url: string; description: string }[];
}

/** The OpenAPI 3.1 document of API_ROUTES. Throws when a route has no description in OPERATIONS, or one describes no route. */
export function buildOpenApiDocument(options: OpenApiOptions): JsonSchema {
  const known = new Set(API_ROUTES.map(routeKey));
  const extra = Object.keys(OPERATIONS).filter((key) => !known.has(key));
  if (extra.length > 0) throw new Error(`openapi-operations.ts describes ${extra.join(', ')}, which API_ROUTES does not have`);
  const requests = z.registry<{ id: string }>();
  const responses = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ANSWERS)) responses.add(schema, { id });
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of API_ROUTES) {
    const doc = OPERATIONS[routeKey(route)];
    if (!doc) throw new Error(`${routeKey(route)} is in API_ROUTES but has no description in functions/api/openapi-operations.ts`);
    if (doc.body && !requests.has(doc.body.schema)) requests.add(doc.body.schema, { id: doc.body.name });
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operationOf(route, doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'OptiInfra Orchestrator API',
      version: options.version,
      description:
        'A task router for agents: submit tasks, register agents, read tasks back. Errors are `{"error", "code", "details"?}`. Reference: docs/api.md.',
    },
    servers: options.servers ?? [{ url: 'http://127.0.0.1:8080', description: 'The local runtime (npm start)' }],
    tags: [
      { name: 'health', description: 'Liveness' },
      { name: 'agents', description: 'The agent registry: what agents call, and what operators read' },
      { name: 'tasks', description: 'Submitting and reading tasks; agents report accepted tasks here' },
    ],
    security: [{ sigv4: [] }, { bearerAuth: [] }],
    paths,
    components: {
      schemas: { ...componentSchemas(requests, 'input'), ...componentSchemas(responses, 'output') },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
