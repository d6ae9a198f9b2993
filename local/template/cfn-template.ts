/**
 * The synthesized CloudFormation template as the local runtime reads it, and the intrinsic
 * functions it needs resolved (as if every resource's physical name were its logical id).
 */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
  /** Kept from every stack of the app: an export is what Fn::ImportValue in another stack resolves to. */
  Outputs?: Record<string, { Value: unknown; Export?: { Name?: unknown } }>;
}

export interface AwsEnv {
  region: string;
  account: string;
  partition: string;
}

/** Used where a caller gives no environment; fauxqs names its queues in this account and region. */
export const DEFAULT_ENV: AwsEnv = { region: 'us-east-1', account: '000000000000', partition: 'aws' };

const NO_VALUE = Symbol('AWS::NoValue');

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function recordsOf(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? (value as unknown[]).map((v) => (isRecord(v) ? v : {})) : [];
}

/** A template scalar as CloudFormation renders it into a string. */
export function scalar(value: unknown): string {
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
    // Secrets Manager ends every secret's ARN with six random characters.
    case 'AWS::SecretsManager::Secret':
      return `arn:${p}:secretsmanager:${r}:${a}:secret:${logicalId}-000000`;
    default:
      return logicalId;
  }
}

export function getAttOf(logicalId: string, attribute: string, template: CfnTemplate, env: AwsEnv): string {
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
      case 'Fn::ImportValue': {
        const name = resolve(arg, template, env);
        const exported = Object.values(template.Outputs ?? {}).find((o) => o.Export?.Name === name);
        if (!exported) throw new Error(`Fn::ImportValue: no stack of the app exports ${scalar(name)}`);
        return resolve(exported.Value, template, env);
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
 * Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue) as if every resource's physical name were its logical id.
 */
export function resolveIntrinsics(value: unknown, template: CfnTemplate, env: AwsEnv): unknown {
  const resolved = resolve(value, template, env);
  return resolved === NO_VALUE ? undefined : resolved;
}

/** Resolves only the named properties, so an intrinsic this module does not know elsewhere in the resource does no harm. */
export function pickResolved(
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
