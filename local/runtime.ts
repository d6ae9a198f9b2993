/**
 * The orchestrator on one machine: the same Lambda handlers, the same tables, queues and state
 * machine as the CDK app synthesizes, on embedded stand-ins (dynalite, fauxqs, aws-local-stepfunctions,
 * redis-server). Unfinished tasks found at start are driven again, so a restart loses nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AGENTS_TABLE_KEYS, IDEMPOTENCY_TABLE_KEYS, TASKS_TABLE_KEYS } from '../functions/core/table-keys';
import type { ApiFunction } from '../functions/api/routes';
import { ENTRY_METADATA_KEY } from '../lib/constructs/handler-function';
import { type ApiLambda, startApiServer } from './api-server';
import { queuesFromTemplate, stateMachinesFromTemplate, tablesFromTemplate } from './stand-ins/asl-from-template';
import { startDynamo } from './stand-ins/dynamodb';
import { startRedis } from './stand-ins/redis-launcher';
import { startSqs } from './stand-ins/sqs';
import { fakeLambdaContext, startSqsEventSource } from './stand-ins/sqs-event-source';
import { startStepFunctionsServer } from './stand-ins/step-functions-server';
import { synthesizeTemplate } from './synthesized-template';

export interface RuntimeOptions {
  host: string;
  port: number;
  dataDir: string;
  /** Extra environment for the handlers (settings such as RETRY_BASE_DELAY_SECONDS). */
  env?: Record<string, string>;
  /** Bearer tokens callers must send (API_TOKENS); none means the local API is open. */
  apiTokens?: readonly string[];
  log: (line: string) => void;
}

export interface Runtime {
  url: string;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const RECONCILE_EVERY_MS = 30_000;

/** A short digest of a state machine definition, printed at start so a run can be matched to a deployment. */
export function definitionDigest(definition: unknown): string {
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16);
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

async function importHandler(entry: string): Promise<Handler> {
  const mod = (await import(path.join('..', entry))) as { handler: Handler };
  return mod.handler;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { log } = options;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    mkdirSync(options.dataDir, { recursive: true });
    const template = synthesizeTemplate();

    const dynamo = await startDynamo({ path: path.join(options.dataDir, 'dynamodb') });
    stops.push(() => dynamo.stop());
    log(`DynamoDB  dynalite on ${dynamo.endpoint} (data in ${path.join(options.dataDir, 'dynamodb')})`);
    if (dynamo.recovery)
      log(
        `Recovery  the last run was killed: checked ${dynamo.recovery.items} stored item(s), ${dynamo.recovery.restored} written again because an index had lost them`,
      );
    const sqsServer = await startSqs();
    stops.push(() => sqsServer.stop());
    log(`SQS       fauxqs on ${sqsServer.endpoint} (in memory; unfinished tasks are re-queued at start)`);
    const redis = await startRedis({ dataDir: path.join(options.dataDir, 'redis') });
    let cacheUrl: string;
    if (redis.kind === 'none') {
      cacheUrl = 'memory://local';
      log(
        'Cache     NOTICE: no REDIS_URL and no redis-server on PATH; using an in-process stand-in (install redis-server for the real thing)',
      );
    } else {
      cacheUrl = redis.url;
      stops.push(() => redis.stop());
      log(`Cache     redis-server ${redis.kind === 'spawned' ? `started (pid ${redis.pid}) on` : 'at'} ${redis.url}`);
    }

    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials });
    const existing = new Set((await ddb.send(new ListTablesCommand({}))).TableNames ?? []);
    // Tables are told apart by their partition key, as the adapters define them.
    const tableNames: Record<string, string> = {};
    for (const table of tablesFromTemplate(template)) {
      tableNames[table.input.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? table.logicalId] = table.input.TableName!;
      if (existing.has(table.input.TableName!)) continue;
      await ddb.send(new CreateTableCommand(table.input));
      // dynalite answers CREATING and turns ACTIVE a tick later, like DynamoDB: wait for it.
      await waitUntilTableExists({ client: ddb, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: table.input.TableName });
    }
    ddb.destroy();

    const sqs = new SQSClient({ endpoint: sqsServer.endpoint, region: REGION, credentials, useQueueUrlAsEndpoint: false });
    const queueUrls: Record<string, string> = {};
    const queues = queuesFromTemplate(template, { region: REGION, account: ACCOUNT, partition: 'aws' });
    // Dead-letter queues first: a source queue's redrive policy names its DLQ.
    for (const q of [...queues].sort((a, b) => Number(Boolean(a.deadLetterLogicalId)) - Number(Boolean(b.deadLetterLogicalId)))) {
      const created = await sqs.send(new CreateQueueCommand({ QueueName: q.queueName, Attributes: q.attributes }));
      queueUrls[q.logicalId] = created.QueueUrl!;
    }
    sqs.destroy();

    const machines = stateMachinesFromTemplate(template, { region: REGION, account: ACCOUNT, partition: 'aws' });
    const standard = machines.find((m) => m.stateMachineType === 'STANDARD');
    const express = machines.find((m) => m.stateMachineType === 'EXPRESS');
    if (!standard || !express) throw new Error('the synthesized template lacks the Standard or the Express state machine');
    const arnOf = (m: { logicalId: string }) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${m.logicalId}`;

    const functions = Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY],
    );
    const entryOf = (logicalId: string): string => {
      const entry = template.Resources[logicalId]?.Metadata?.[ENTRY_METADATA_KEY];
      if (typeof entry !== 'string') throw new Error(`function ${logicalId} has no ${ENTRY_METADATA_KEY} metadata`);
      return entry;
    };
    const byEntry = (suffix: string) => functions.find(([, r]) => String(r.Metadata?.[ENTRY_METADATA_KEY]).endsWith(suffix))?.[0];
    const intakeLogicalId = queues.find((q) => q.deadLetterLogicalId)?.logicalId;
    if (!intakeLogicalId) throw new Error('the synthesized template has no intake queue');

    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
      TASKS_TABLE: tableNames[TASKS_TABLE_KEYS.partitionKey],
      AGENTS_TABLE: tableNames[AGENTS_TABLE_KEYS.partitionKey],
      IDEMPOTENCY_TABLE: tableNames[IDEMPOTENCY_TABLE_KEYS.partitionKey],
      INTAKE_QUEUE_URL: queueUrls[intakeLogicalId],
      STATE_MACHINE_ARN: arnOf(standard),
      EXPRESS_STATE_MACHINE_ARN: arnOf(express),
      CACHE_URL: cacheUrl,
      ALLOWED_AGENT_NETWORKS: '127.0.0.0/8,::1/128',
      ALLOW_PUBLIC_AGENTS: 'false',
      ...options.env,
    });

    const localMachines = [];
    for (const machine of [standard, express]) {
      const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
      for (const task of machine.taskStates) {
        const handler = await importHandler(entryOf(task.functionLogicalId));
        handlers[task.stateName] = async (input) => handler(input, fakeLambdaContext(task.functionLogicalId, 330_000));
      }
      // Taken before the engine sees the definition: it fills in defaults (QueryLanguage) in place.
      const digest = definitionDigest(machine.definition);
      localMachines.push({
        arn: arnOf(machine),
        definition: machine.definition,
        handlers,
        digest,
        logicalId: machine.logicalId,
        type: machine.stateMachineType,
      });
    }
    const sfnServer = await startStepFunctionsServer({
      machines: localMachines,
      // Every start and every execution that did not succeed, when asked for (LOG_LEVEL=DEBUG).
      logger: process.env.LOG_LEVEL?.toUpperCase() === 'DEBUG' ? (line) => log(`Workflow  ${line}`) : undefined,
      onExecutionEnd: (info) => {
        if (info.status === 'FAILED' || info.status === 'TIMED_OUT')
          log(
            `Workflow  execution ${info.name} ended ${info.status}${info.currentState ? ` in ${info.currentState}` : ''}: ${info.error ?? ''} ${info.cause ?? ''}`,
          );
      },
    });
    stops.push(() => sfnServer.stop());
    process.env.AWS_ENDPOINT_URL_SFN = sfnServer.endpoint;
    for (const m of localMachines)
      log(`Workflow  aws-local-stepfunctions runs ${m.type} ${m.logicalId} (definition sha256 ${m.digest}) behind ${sfnServer.endpoint}`);

    const starterId = byEntry('handlers/starter.ts');
    const reconcilerId = byEntry('handlers/reconciler.ts');
    if (!starterId || !reconcilerId) throw new Error('the synthesized template lacks the starter or reconciler function');
    const starter = (await importHandler(entryOf(starterId))) as (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
    const source = startSqsEventSource({
      queueUrl: queueUrls[intakeLogicalId]!,
      endpoint: sqsServer.endpoint,
      region: REGION,
      batchSize: 10,
      handler: starter,
      functionName: starterId,
      log,
    });
    stops.push(() => source.stop());

    const reconciler = await importHandler(entryOf(reconcilerId));
    const reconcileNow = async (staleAfterSeconds?: number) =>
      (await reconciler(
        staleAfterSeconds === undefined ? {} : { stale_after_seconds: staleAfterSeconds },
        fakeLambdaContext(reconcilerId, 60_000),
      )) as { requeued: number };
    const recovered = await reconcileNow(0);
    if (recovered.requeued > 0) log(`Recovery  ${recovered.requeued} unfinished task(s) from the last run put back on the queue`);
    const timer = setInterval(
      () => void reconcileNow().catch((err: unknown) => log(`reconciler failed: ${String(err)}`)),
      RECONCILE_EVERY_MS,
    );
    stops.push(async () => clearInterval(timer));

    const apiHandlers = {} as Record<ApiFunction, ApiLambda>;
    for (const fn of ['health', 'agents', 'tasks'] as const) {
      const id = byEntry(`handlers/api-${fn}.ts`);
      if (!id) throw new Error(`the synthesized template lacks the ${fn} API function`);
      apiHandlers[fn] = (await importHandler(entryOf(id))) as unknown as ApiLambda;
    }
    const api = await startApiServer({
      host: options.host,
      port: options.port,
      handlers: apiHandlers,
      bearerTokens: options.apiTokens ?? [],
    });
    stops.push(() => api.stop());
    log(`API       ${api.url}  (try: curl ${api.url}/health)`);
    const tokens = options.apiTokens?.length ?? 0;
    const fleet = (process.env.FLEET_TOKENS ?? '').split(',').filter((t) => t.trim()).length;
    log(
      fleet > 0
        ? `Agents    registration needs X-Fleet-Token (${fleet} accepted, from FLEET_TOKENS); each agent then acts with its own token`
        : 'Agents    registration is open (set FLEET_TOKENS to require a fleet token); each agent then acts with its own token',
    );
    log(
      tokens > 0
        ? `Auth      bearer token required on every route but GET /health (${tokens} accepted, from API_TOKENS)`
        : 'Auth      none: the API is open to anyone who can reach it (set API_TOKENS to require a bearer token)',
    );

    return { url: api.url, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
