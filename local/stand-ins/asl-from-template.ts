import type {
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
} from '@aws-sdk/client-dynamodb';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface AwsEnv {
  region: string;
  account: string;
  partition: string;
}

/** Used where a caller gives no environment; fauxqs names its queues in this account and region. */
export const DEFAULT_ENV: AwsEnv = { region: 'us-east-1', account: '000000000000', partition: 'aws' };

export interface TaskStateRef {
  stateName: string;
  functionLogicalId: string;
  /**
   * `function-arn`: Resource is the function ARN (CDK `payloadResponseOnly`); the handler's
   * result is the state's result. `lambda-invoke`: Resource is `arn:aws:states:::lambda:invoke`;
   * the state's input is `{FunctionName, Payload}` and the result must be `{Payload: ...}`.
   */
  integration: 'function-arn' | 'lambda-invoke';
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

export interface TemplateStateMachine {
  logicalId: string;
  stateMachineType: 'STANDARD' | 'EXPRESS';
  definition: AslDefinition;
  taskStates: TaskStateRef[];
}

export interface TemplateTable {
  logicalId: string;
  input: CreateTableCommandInput;
}

export interface TemplateQueue {
  logicalId: string;
  /** The logical id, plus `.fifo` for a FIFO queue (SQS requires the suffix). */
  queueName: string;
  /** CreateQueue attributes; RedrivePolicy points at the ARN the DLQ has when it is named by its logical id in `env`. */
  attributes: Record<string, string>;
  deadLetterLogicalId?: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function recordsOf(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? (value as unknown[]).map((v) => (isRecord(v) ? v : {})) : [];
}

/** A template scalar as CloudFormation renders it into a string. */
function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function resourceOf(template: CfnTemplate, logicalId: string): CfnResource {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  return resource;
}

function pseudoParameter(name: string, env: AwsEnv): string | typeof NO_VALUE | undefined {
  switch (name) {
    case 'AWS::Region':
      return env.region;
    case 'AWS::AccountId':
      return env.account;
    case 'AWS::Partition':
      return env.partition;
    case 'AWS::URLSuffix':
      return env.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    case 'AWS::StackName':
      return 'local';
    case 'AWS::StackId':
      return `arn:${env.partition}:cloudformation:${env.region}:${env.account}:stack/local/00000000-0000-0000-0000-000000000000`;
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

/** The value of `Ref` on a resource, as CloudFormation documents it per type, with the logical id as the physical name. */
function refOf(logicalId: string, template: CfnTemplate, env: AwsEnv): string {
  const parameter = template.Parameters?.[logicalId];
  if (parameter) {
    if (typeof parameter.Default === 'string' || typeof parameter.Default === 'number') return String(parameter.Default);
    throw new Error(`parameter ${logicalId} has no default`);
  }
  const resource = resourceOf(template, logicalId);
  const { partition: p, region: r, account: a } = env;
  switch (resource.Type) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${r}.amazonaws.com/${a}/${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${p}:states:${r}:${a}:stateMachine:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:${p}:sns:${r}:${a}:${logicalId}`;
    default:
      return logicalId;
  }
}

function getAttOf(logicalId: string, attribute: string, template: CfnTemplate, env: AwsEnv): string {
  const resource = resourceOf(template, logicalId);
  const { partition: p, region: r, account: a } = env;
  const key = `${resource.Type}.${attribute}`;
  switch (key) {
    case 'AWS::Lambda::Function.Arn':
      return `arn:${p}:lambda:${r}:${a}:function:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine.Arn':
      return `arn:${p}:states:${r}:${a}:stateMachine:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine.Name':
    case 'AWS::SQS::Queue.QueueName':
      return logicalId;
    case 'AWS::SQS::Queue.Arn':
      return `arn:${p}:sqs:${r}:${a}:${logicalId}`;
    case 'AWS::SQS::Queue.QueueUrl':
      return `https://sqs.${r}.amazonaws.com/${a}/${logicalId}`;
    case 'AWS::DynamoDB::Table.Arn':
    case 'AWS::DynamoDB::GlobalTable.Arn':
      return `arn:${p}:dynamodb:${r}:${a}:table/${logicalId}`;
    case 'AWS::DynamoDB::Table.StreamArn':
    case 'AWS::DynamoDB::GlobalTable.StreamArn':
      return `arn:${p}:dynamodb:${r}:${a}:table/${logicalId}/stream/1970-01-01T00:00:00.000`;
    case 'AWS::IAM::Role.Arn':
      return `arn:${p}:iam::${a}:role/${logicalId}`;
    case 'AWS::Logs::LogGroup.Arn':
      return `arn:${p}:logs:${r}:${a}:log-group:${logicalId}:*`;
    default: {
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return `arn:${p}:${service}:${r}:${a}:${logicalId}/${attribute}`;
    }
  }
}

function substitute(text: string, variables: Record<string, unknown>, template: CfnTemplate, env: AwsEnv): string {
  return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) return scalar(variables[name]);
    const pseudo = pseudoParameter(name, env);
    if (typeof pseudo === 'string') return pseudo;
    const dot = name.indexOf('.');
    if (dot > 0) return getAttOf(name.slice(0, dot), name.slice(dot + 1), template, env);
    if (template.Resources[name] || template.Parameters?.[name]) return refOf(name, template, env);
    throw new Error(`Fn::Sub cannot resolve ${whole}`);
  });
}

function resolve(value: unknown, template: CfnTemplate, env: AwsEnv): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, template, env)).filter((v) => v !== NO_VALUE);
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = value[key];
    switch (key) {
      case 'Ref': {
        if (typeof arg !== 'string') throw new Error(`Ref takes a name, got ${JSON.stringify(arg)}`);
        return pseudoParameter(arg, env) ?? refOf(arg, template, env);
      }
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] =
          typeof arg === 'string' ? arg.split('.') : Array.isArray(arg) ? arg.map((a) => resolve(a, template, env)) : [];
        if (typeof logicalId !== 'string' || attribute.length === 0)
          throw new Error(`Fn::GetAtt takes [logicalId, attribute], got ${JSON.stringify(arg)}`);
        return getAttOf(logicalId, attribute.join('.'), template, env);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string')
          throw new Error(`Fn::Join takes [separator, list], got ${JSON.stringify(arg)}`);
        const parts = resolve(arg[1], template, env);
        if (!Array.isArray(parts)) throw new Error(`Fn::Join needs a list, got ${JSON.stringify(parts)}`);
        return (parts as unknown[]).map(scalar).join(arg[0]);
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return substitute(arg, {}, template, env);
        if (Array.isArray(arg) && typeof arg[0] === 'string' && isRecord(arg[1])) {
          return substitute(arg[0], resolve(arg[1], template, env) as Record<string, unknown>, template, env);
        }
        throw new Error(`Fn::Sub takes a string or [string, variables], got ${JSON.stringify(arg)}`);
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`Fn::Select takes [index, list], got ${JSON.stringify(arg)}`);
        const list = resolve(arg[1], template, env);
        const index = Number(resolve(arg[0], template, env));
        if (!Array.isArray(list) || !(index in list)) throw new Error(`Fn::Select index ${index} is out of range`);
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string')
          throw new Error(`Fn::Split takes [separator, string], got ${JSON.stringify(arg)}`);
        return scalar(resolve(arg[1], template, env)).split(arg[0]);
      }
      default:
        if (key.startsWith('Fn::')) throw new Error(`unsupported intrinsic function ${key}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const resolved = resolve(v, template, env);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

/**
 * Resolves the CloudFormation intrinsics a synthesized template uses (Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, Fn::Select, Fn::Split) as if every resource's physical name were its logical id.
 */
export function resolveIntrinsics(value: unknown, template: CfnTemplate, env: AwsEnv): unknown {
  const resolved = resolve(value, template, env);
  return resolved === NO_VALUE ? undefined : resolved;
}

const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:[^:]+:function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/;

function functionLogicalIdOf(reference: unknown, template: CfnTemplate): string | undefined {
  if (typeof reference !== 'string') return undefined;
  const name = LAMBDA_ARN.exec(reference)?.[1] ?? (reference.includes(':') ? undefined : reference);
  if (!name) return undefined;
  if (template.Resources[name]?.Type === 'AWS::Lambda::Function') return name;
  return Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === name)?.[0];
}

function collectTaskStates(states: unknown, template: CfnTemplate, into: TaskStateRef[]): void {
  if (!isRecord(states)) return;
  for (const [stateName, state] of Object.entries(states)) {
    if (!isRecord(state)) continue;
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      if (LAMBDA_INVOKE.test(state.Resource)) {
        const parameters = isRecord(state.Parameters) ? state.Parameters : {};
        const functionLogicalId = functionLogicalIdOf(parameters.FunctionName, template);
        if (functionLogicalId) into.push({ stateName, functionLogicalId, integration: 'lambda-invoke' });
      } else {
        const functionLogicalId = LAMBDA_ARN.test(state.Resource) ? functionLogicalIdOf(state.Resource, template) : undefined;
        if (functionLogicalId) into.push({ stateName, functionLogicalId, integration: 'function-arn' });
      }
    }
    if (Array.isArray(state.Branches))
      for (const branch of state.Branches) collectTaskStates(isRecord(branch) ? branch.States : undefined, template, into);
    const processor = isRecord(state.ItemProcessor) ? state.ItemProcessor : isRecord(state.Iterator) ? state.Iterator : undefined;
    if (processor) collectTaskStates(processor.States, template, into);
  }
}

function applyDefinitionSubstitutions(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => (name in substitutions ? scalar(substitutions[name]) : whole));
}

/**
 * Every AWS::StepFunctions::StateMachine in the template as plain ASL, with the Task states that
 * call a Lambda function of the same template, so each can be given a local handler.
 */
export function stateMachinesFromTemplate(template: CfnTemplate, env: AwsEnv = DEFAULT_ENV): TemplateStateMachine[] {
  const machines: TemplateStateMachine[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = resource.Properties ?? {};
    const substitutions = isRecord(properties.DefinitionSubstitutions)
      ? (resolveIntrinsics(properties.DefinitionSubstitutions, template, env) as Record<string, unknown>)
      : {};
    let definition: unknown;
    if (properties.DefinitionString !== undefined) {
      const text = resolveIntrinsics(properties.DefinitionString, template, env);
      if (typeof text !== 'string') throw new Error(`${logicalId}: DefinitionString does not resolve to a string`);
      try {
        definition = JSON.parse(applyDefinitionSubstitutions(text, substitutions));
      } catch (err) {
        throw new Error(`${logicalId}: DefinitionString is not JSON: ${(err as Error).message}`, { cause: err });
      }
    } else if (properties.Definition !== undefined) {
      const resolved = JSON.stringify(resolveIntrinsics(properties.Definition, template, env));
      definition = JSON.parse(applyDefinitionSubstitutions(resolved, substitutions));
    } else {
      throw new Error(`${logicalId}: only inline definitions (DefinitionString or Definition) are supported, not DefinitionS3Location`);
    }
    if (!isRecord(definition) || typeof definition.StartAt !== 'string' || !isRecord(definition.States)) {
      throw new Error(`${logicalId}: the definition has no StartAt or States`);
    }
    if (definition.QueryLanguage === 'JSONata') throw new Error(`${logicalId}: JSONata state machines do not run locally; use JSONPath`);
    const taskStates: TaskStateRef[] = [];
    collectTaskStates(definition.States, template, taskStates);
    machines.push({
      logicalId,
      stateMachineType: properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      definition: definition as AslDefinition,
      taskStates,
    });
  }
  return machines;
}

/** Resolves only the named properties, so an intrinsic this module does not know elsewhere in the resource does no harm. */
function pickResolved(
  properties: Record<string, unknown> | undefined,
  names: readonly string[],
  template: CfnTemplate,
  env: AwsEnv,
): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names) {
    const value = properties?.[name];
    if (value !== undefined) picked[name] = resolveIntrinsics(value, template, env);
  }
  return picked;
}

function keySchema(value: unknown): KeySchemaElement[] {
  if (!Array.isArray(value)) throw new Error('KeySchema must be a list');
  return recordsOf(value).map((k) => ({ AttributeName: scalar(k.AttributeName), KeyType: k.KeyType as KeySchemaElement['KeyType'] }));
}

function projection(value: unknown): Projection {
  const p = isRecord(value) ? value : {};
  return {
    ProjectionType: (p.ProjectionType ?? 'ALL') as Projection['ProjectionType'],
    ...(Array.isArray(p.NonKeyAttributes) ? { NonKeyAttributes: (p.NonKeyAttributes as unknown[]).map(scalar) } : {}),
  };
}

/**
 * CreateTable inputs for every DynamoDB table in the template, on demand, named by logical id.
 * Time to live, streams, point-in-time recovery and replicas are left out: the local store has none.
 */
export function tablesFromTemplate(template: CfnTemplate): TemplateTable[] {
  const tables: TemplateTable[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    const properties = pickResolved(
      resource.Properties,
      ['KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes'],
      template,
      DEFAULT_ENV,
    );
    const input: CreateTableCommandInput = {
      TableName: logicalId,
      KeySchema: keySchema(properties.KeySchema),
      AttributeDefinitions: recordsOf(properties.AttributeDefinitions).map((a) => ({
        AttributeName: scalar(a.AttributeName),
        AttributeType: a.AttributeType as 'S' | 'N' | 'B',
      })),
      BillingMode: 'PAY_PER_REQUEST',
    };
    const gsis = recordsOf(properties.GlobalSecondaryIndexes);
    if (gsis.length > 0) {
      input.GlobalSecondaryIndexes = gsis.map(
        (g): GlobalSecondaryIndex => ({
          IndexName: scalar(g.IndexName),
          KeySchema: keySchema(g.KeySchema),
          Projection: projection(g.Projection),
        }),
      );
    }
    const lsis = recordsOf(properties.LocalSecondaryIndexes);
    if (lsis.length > 0) {
      input.LocalSecondaryIndexes = lsis.map(
        (l): LocalSecondaryIndex => ({
          IndexName: scalar(l.IndexName),
          KeySchema: keySchema(l.KeySchema),
          Projection: projection(l.Projection),
        }),
      );
    }
    tables.push({ logicalId, input });
  }
  return tables;
}

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

function deadLetterLogicalIdOf(target: unknown, template: CfnTemplate): string | undefined {
  if (isRecord(target) && 'Fn::GetAtt' in target) {
    const arg = target['Fn::GetAtt'];
    const id = typeof arg === 'string' ? arg.split('.')[0] : Array.isArray(arg) ? (arg as unknown[])[0] : undefined;
    return typeof id === 'string' ? id : undefined;
  }
  if (typeof target === 'string') {
    const name = target.split(':').pop();
    return name && template.Resources[name]?.Type === 'AWS::SQS::Queue' ? name : undefined;
  }
  return undefined;
}

/**
 * CreateQueue attributes for every SQS queue in the template. A queue's RedrivePolicy keeps its
 * maxReceiveCount and names the DLQ by logical id (`deadLetterLogicalId`): the caller creates the
 * DLQ first and puts its real ARN into the policy.
 */
export function queuesFromTemplate(template: CfnTemplate, env: AwsEnv = DEFAULT_ENV): TemplateQueue[] {
  const queues: TemplateQueue[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    const raw = resource.Properties ?? {};
    const properties = pickResolved(raw, QUEUE_ATTRIBUTES, template, env);
    const attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES) {
      const value = properties[name];
      if (value !== undefined && value !== null) attributes[name] = scalar(value);
    }
    const queue: TemplateQueue = { logicalId, queueName: attributes.FifoQueue === 'true' ? `${logicalId}.fifo` : logicalId, attributes };
    const redrive = typeof raw.RedrivePolicy === 'string' ? (JSON.parse(raw.RedrivePolicy) as unknown) : raw.RedrivePolicy;
    if (isRecord(redrive)) {
      const deadLetterLogicalId = deadLetterLogicalIdOf(redrive.deadLetterTargetArn, template);
      if (!deadLetterLogicalId) throw new Error(`${logicalId}: the RedrivePolicy's deadLetterTargetArn is not a queue of this template`);
      queue.deadLetterLogicalId = deadLetterLogicalId;
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: getAttOf(deadLetterLogicalId, 'Arn', template, env),
        maxReceiveCount: Number(resolveIntrinsics(redrive.maxReceiveCount, template, env) ?? 10),
      });
    }
    queues.push(queue);
  }
  return queues;
}
