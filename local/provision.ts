/**
 * Builds on the local stand-ins what the synthesized template declares: the DynamoDB tables with
 * their indexes, the queues with their redrive policy, and the state machines. Used by the local
 * runtime, the handler tests and the benchmarks, so each runs on the tables and queues that deploy.
 */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AGENTS_TABLE_KEYS, IDEMPOTENCY_TABLE_KEYS, TASKS_TABLE_KEYS } from '../functions/core/table-keys';
import { ENTRY_METADATA_KEY } from '../lib/entry-metadata';
import { type AwsEnv, type CfnTemplate, isRecord, resolveIntrinsics } from './template/cfn-template';
import { queuesFromTemplate } from './template/queues';
import { stateMachinesFromTemplate, type TemplateStateMachine } from './template/state-machines';
import { tablesFromTemplate } from './template/tables';

export const LOCAL_AWS: AwsEnv = { region: 'us-east-1', account: '000000000000', partition: 'aws' };
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface TableNames {
  tasks: string;
  agents: string;
  idempotency: string;
}

/**
 * Creates the template's tables that do not exist yet, once each is ACTIVE (dynalite answers CREATING
 * and turns ACTIVE a tick later, like DynamoDB), and names them by the key schema each adapter uses.
 */
export async function provisionTables(template: CfnTemplate, dynamodbEndpoint: string): Promise<TableNames> {
  const ddb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: LOCAL_AWS.region, credentials: LOCAL_CREDENTIALS });
  try {
    const existing = new Set((await ddb.send(new ListTablesCommand({}))).TableNames ?? []);
    const byPartitionKey: Record<string, string> = {};
    for (const table of tablesFromTemplate(template)) {
      const name = table.input.TableName!;
      byPartitionKey[table.input.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? table.logicalId] = name;
      if (existing.has(name)) continue;
      await ddb.send(new CreateTableCommand(table.input));
      await waitUntilTableExists({ client: ddb, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: name });
    }
    const named = (key: string, what: string) => {
      const name = byPartitionKey[key];
      if (!name) throw new Error(`the synthesized template has no ${what} table (partition key ${key})`);
      return name;
    };
    return {
      tasks: named(TASKS_TABLE_KEYS.partitionKey, 'Tasks'),
      agents: named(AGENTS_TABLE_KEYS.partitionKey, 'Agents'),
      idempotency: named(IDEMPOTENCY_TABLE_KEYS.partitionKey, 'idempotency'),
    };
  } finally {
    ddb.destroy();
  }
}

/** Creates the template's queues, dead-letter queues first (a source queue's redrive policy names its DLQ); answers the intake queue's URL. */
export async function provisionQueues(template: CfnTemplate, sqsEndpoint: string): Promise<string> {
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: LOCAL_AWS.region,
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  try {
    const queues = queuesFromTemplate(template, LOCAL_AWS);
    const urls: Record<string, string> = {};
    for (const q of [...queues].sort((a, b) => Number(Boolean(a.deadLetterLogicalId)) - Number(Boolean(b.deadLetterLogicalId)))) {
      urls[q.logicalId] = (await sqs.send(new CreateQueueCommand({ QueueName: q.queueName, Attributes: q.attributes }))).QueueUrl!;
    }
    // The intake queue is the one with a dead-letter queue.
    const intake = queues.find((q) => q.deadLetterLogicalId);
    if (!intake) throw new Error('the synthesized template has no intake queue');
    return urls[intake.logicalId]!;
  } finally {
    sqs.destroy();
  }
}

export interface ProvisionedStateMachine extends TemplateStateMachine {
  arn: string;
}

/** Both state machines of the template, with the ARNs the local Step Functions endpoint serves them under. */
export function stateMachinesOf(template: CfnTemplate): { standard: ProvisionedStateMachine; express: ProvisionedStateMachine } {
  const machines = stateMachinesFromTemplate(template, LOCAL_AWS).map((m) => ({
    ...m,
    arn: `arn:aws:states:${LOCAL_AWS.region}:${LOCAL_AWS.account}:stateMachine:${m.logicalId}`,
  }));
  const standard = machines.find((m) => m.stateMachineType === 'STANDARD');
  const express = machines.find((m) => m.stateMachineType === 'EXPRESS');
  if (!standard || !express) throw new Error('the synthesized template lacks the Standard or the Express state machine');
  return { standard, express };
}

/** The source entry (functions/handlers/...) of a function of the template, recorded by the CDK app. */
export function functionEntryOf(template: CfnTemplate, logicalId: string): string {
  const entry = template.Resources[logicalId]?.Metadata?.[ENTRY_METADATA_KEY];
  if (typeof entry !== 'string') throw new Error(`function ${logicalId} has no ${ENTRY_METADATA_KEY} metadata`);
  return entry;
}

/** The logical id of the function whose source entry ends with `suffix` (such as `handlers/starter.ts`). */
export function functionBySource(template: CfnTemplate, suffix: string): string {
  const found = Object.entries(template.Resources).find(([, r]) => {
    const entry = r.Metadata?.[ENTRY_METADATA_KEY];
    return r.Type === 'AWS::Lambda::Function' && typeof entry === 'string' && entry.endsWith(suffix);
  });
  if (!found) throw new Error(`the synthesized template has no function for ${suffix}`);
  return found[0];
}

/**
 * The ARN of the secret the agents API reads its fleet tokens from (its FLEET_TOKENS_SECRET_ARN, a
 * reference to the stateful stack's secret), with the logical id as the secret's name.
 */
export function fleetTokensSecretOf(template: CfnTemplate): { arn: string; name: string } {
  const agentsApi = template.Resources[functionBySource(template, 'handlers/api-agents.ts')];
  const environment = agentsApi?.Properties?.Environment;
  const value = isRecord(environment) && isRecord(environment.Variables) ? environment.Variables.FLEET_TOKENS_SECRET_ARN : undefined;
  if (value === undefined) throw new Error('the agents API of the synthesized template has no FLEET_TOKENS_SECRET_ARN');
  const arn = String(resolveIntrinsics(value, template, LOCAL_AWS));
  const name = Object.keys(template.Resources).find(
    (id) => template.Resources[id]?.Type === 'AWS::SecretsManager::Secret' && resolveIntrinsics({ Ref: id }, template, LOCAL_AWS) === arn,
  );
  if (!name) throw new Error(`FLEET_TOKENS_SECRET_ARN (${arn}) is no secret of the synthesized template`);
  return { arn, name };
}

export interface ProvisionedStack {
  /**
   * The environment the handlers read, as the CDK app sets it on the functions, pointed at the local
   * endpoints. The caller puts it into process.env before it imports a handler (they read it once).
   */
  env: Record<string, string>;
  tables: TableNames;
  intakeQueueUrl: string;
  machines: { standard: ProvisionedStateMachine; express: ProvisionedStateMachine };
}

/** Tables, queues and state machines of the template on the given stand-ins. */
export async function provisionFromTemplate(
  template: CfnTemplate,
  endpoints: { dynamodb: string; sqs: string },
): Promise<ProvisionedStack> {
  const tables = await provisionTables(template, endpoints.dynamodb);
  const intakeQueueUrl = await provisionQueues(template, endpoints.sqs);
  const machines = stateMachinesOf(template);
  return {
    tables,
    intakeQueueUrl,
    machines,
    env: {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      TASKS_TABLE: tables.tasks,
      AGENTS_TABLE: tables.agents,
      IDEMPOTENCY_TABLE: tables.idempotency,
      INTAKE_QUEUE_URL: intakeQueueUrl,
      STATE_MACHINE_ARN: machines.standard.arn,
      EXPRESS_STATE_MACHINE_ARN: machines.express.arn,
    },
  };
}
