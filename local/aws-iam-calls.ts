/**
 * What IAM authorizes for one AWS SDK call: the action (service:Operation) and the resource ARN, as
 * AWS documents it per operation, with the local resource names (each the template's logical id)
 * turned into the ARNs the template's policies name in LOCAL_AWS.
 */
import type { AwsEnv } from './template/cfn-template';

export interface IamCall {
  action: string;
  resource: string;
}

type Input = Record<string, unknown>;

/** Batch operations that IAM authorizes as their single-item action. */
const SQS_ACTION: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** A transaction is authorized item by item, each as the single-item action. */
const TRANSACT_ACTION: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function dynamodb(operation: string, input: Input, env: AwsEnv): IamCall[] {
  const table = (name: string, index?: string) =>
    `arn:${env.partition}:dynamodb:${env.region}:${env.account}:table/${name}${index ? `/index/${index}` : ''}`;
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = Array.isArray(input.TransactItems) ? (input.TransactItems as Input[]) : [];
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, request]) => ({
        action: `dynamodb:${TRANSACT_ACTION[kind] ?? kind}`,
        resource: table(str((request as Input | undefined)?.TableName)),
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem')
    return Object.keys((input.RequestItems as Input | undefined) ?? {}).map((name) => ({
      action: `dynamodb:${operation}`,
      resource: table(name),
    }));
  return [{ action: `dynamodb:${operation}`, resource: table(str(input.TableName), str(input.IndexName) || undefined) }];
}

/** A queue URL (…/<account>/<name>, whatever the host) as the queue's ARN. */
function queueArn(input: Input, env: AwsEnv): string {
  const url = str(input.QueueUrl);
  const [account, name] = url ? new URL(url).pathname.split('/').filter(Boolean).slice(-2) : [env.account, str(input.QueueName)];
  return `arn:${env.partition}:sqs:${env.region}:${account}:${name}`;
}

function secretArn(input: Input, env: AwsEnv): string {
  const id = str(input.SecretId);
  return id.startsWith('arn:') ? id : `arn:${env.partition}:secretsmanager:${env.region}:${env.account}:secret:${id}`;
}

/**
 * The IAM action(s) and resource(s) of `operation` (an SDK command name without `Command`) on
 * `service` (the client's signing name), from the command's input as sent (DynamoDB's marshalled).
 */
export function iamCallsOf(service: string, operation: string, input: Input, env: AwsEnv): IamCall[] {
  switch (service) {
    case 'dynamodb':
      return dynamodb(operation, input, env);
    case 'sqs':
      return [{ action: `sqs:${SQS_ACTION[operation] ?? operation}`, resource: queueArn(input, env) }];
    case 'states':
      return [{ action: `states:${operation}`, resource: str(input.executionArn) || str(input.stateMachineArn) }];
    case 'secretsmanager':
      return [{ action: `secretsmanager:${operation}`, resource: secretArn(input, env) }];
    default:
      // Still recorded, so the evaluation names what this table lacks instead of passing it over.
      return [{ action: `${service}:${operation}`, resource: '*' }];
  }
}
