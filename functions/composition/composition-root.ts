/**
 * Builds the clients and adapters once per cold start, from configuration read once. Each function
 * asks for what it uses; a missing setting fails that function's cold start with a clear message.
 */
import { lookup } from 'node:dns/promises';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../app/deps';
import type { StepDeps } from '../app/workflow-step';
import { CachingAgentStore } from '../adapters/caching-agent-store';
import { DynamoAgentStore } from '../adapters/dynamo-agent-store';
import { DynamoTaskStore } from '../adapters/dynamo-task-store';
import { currentFleetTokens } from '../adapters/fleet-tokens';
import { HttpAgentClient } from '../adapters/http-agent-client';
import { MemoryTaskCache } from '../adapters/memory-task-cache';
import { NoTaskCache } from '../adapters/no-task-cache';
import { RedisTaskCache } from '../adapters/redis-task-cache';
import { SqsTaskQueue } from '../adapters/sqs-task-queue';
import { PowertoolsSubmitIdempotency } from '../adapters/submit-idempotency';
import { StepFunctionsWorkflow } from '../adapters/step-functions-workflow';
import { systemClock } from '../core/ports';
import { type TaskCache } from '../core/cache-port';
import { type Config, loadConfig, required } from './config';
import { adapterLog, cacheObserver, logger, taskMetrics, tracer } from './observability';

export const config: Config = loadConfig(process.env);

const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/** Anything with the AWS SDK's middleware stack: the DynamoDB, SQS, Step Functions and Secrets Manager clients made here. */
export type AwsClient = DynamoDBClient | SQSClient | SFNClient | SecretsManagerClient;
let clientHook: ((client: AwsClient) => void) | undefined;

/**
 * Lets the local runtime (its network guard and call recorder) and a measurement (bench/cost.ts) add
 * middleware to every AWS client made here, before the first is made. Nothing in a deployment calls
 * it: the clients are then exactly as before.
 */
export function onAwsClient(hook: ((client: AwsClient) => void) | undefined): void {
  clientHook = hook;
}

const hooked = <T extends AwsClient>(client: T): T => {
  clientHook?.(client);
  return client;
};

const dynamo = once(() => tracer.captureAWSv3Client(hooked(new DynamoDBClient({}))));
const doc = once(() =>
  DynamoDBDocumentClient.from(dynamo(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  }),
);
// An explicit endpoint: the SDK would otherwise send to the host in the queue URL.
const sqs = once(() =>
  tracer.captureAWSv3Client(
    hooked(new SQSClient(config.AWS_ENDPOINT_URL_SQS ? { endpoint: config.AWS_ENDPOINT_URL_SQS, useQueueUrlAsEndpoint: false } : {})),
  ),
);
const sfn = once(() => tracer.captureAWSv3Client(hooked(new SFNClient({}))));
// Powertools would make its own client, out of reach of onAwsClient.
const secrets = once(() => new SecretsProvider({ awsSdkV3Client: tracer.captureAWSv3Client(hooked(new SecretsManagerClient({}))) }));

/** The local stand-in cache is shared by every handler in the process, like one ElastiCache endpoint. */
let memoryCache: MemoryTaskCache | undefined;
const noCache = new NoTaskCache();

const cache = once((): TaskCache => {
  const url = config.CACHE_URL;
  if (!url) {
    logger.warn('CACHE_URL is not set: running without the cache (routing uses heartbeats stored in DynamoDB)');
    return noCache;
  }
  if (url.startsWith('memory://')) return (memoryCache ??= new MemoryTaskCache());
  return RedisTaskCache.fromUrl(url, cacheObserver, { cluster: config.CACHE_CLUSTER });
});

const agents = once(() => new DynamoAgentStore(doc(), required(config, 'AGENTS_TABLE')));

export const adapters = {
  tasks: once(() => new DynamoTaskStore(doc(), required(config, 'TASKS_TABLE'))),
  agents,
  /** The dispatcher routes with the registry of a type kept for REGISTRY_CACHE_SECONDS. */
  routingAgents: once(() => new CachingAgentStore(agents(), config.settings.registryCacheSeconds)),
  queue: once(() => new SqsTaskQueue(sqs(), required(config, 'INTAKE_QUEUE_URL'))),
  workflow: once(
    () =>
      new StepFunctionsWorkflow(
        sfn(),
        { standard: required(config, 'STATE_MACHINE_ARN'), express: config.EXPRESS_STATE_MACHINE_ARN },
        adapterLog,
      ),
  ),
  agentClient: once(() => new HttpAgentClient(config.settings.networkPolicy, config.MAX_AGENT_ANSWER_BYTES)),
  cache,
  /** Only the tasks API uses it (POST /tasks with an Idempotency-Key). */
  submitIdempotency: once(() => new PowertoolsSubmitIdempotency(required(config, 'IDEMPOTENCY_TABLE'), dynamo())),
};

/** The tokens registration accepts now: FLEET_TOKENS, plus the deployment's secret (cached for a minute). */
export function fleetTokens(): Promise<string[]> {
  const arn = config.FLEET_TOKENS_SECRET_ARN;
  return currentFleetTokens(config.settings.fleetTokens, arn, arn ? secrets() : undefined);
}

/** What every use case may use besides adapters. */
const base = {
  clock: systemClock,
  settings: config.settings,
  metrics: taskMetrics,
  resolveHost: async (host: string) => (await lookup(host, { all: true })).map((a) => a.address),
};

type AdapterKey = Extract<keyof typeof adapters, keyof Deps>;

/** The adapters a function lists, built now (at cold start), with the clock, settings and metrics. */
export function depsOf<K extends AdapterKey>(keys: readonly K[]): Pick<Deps, K> & typeof base {
  const built = Object.fromEntries(keys.map((key) => [key, adapters[key]()])) as Pick<Deps, K>;
  return { ...built, ...base };
}

/** What the dispatcher's steps use: the registry of a type is read through the CachingAgentStore. */
export function stepDeps(): StepDeps {
  return { ...depsOf(['tasks', 'cache', 'agentClient', 'queue']), agents: adapters.routingAgents() };
}
