/**
 * The orchestrator on one machine: the same Lambda handlers, the same tables, queues and state
 * machine as the CDK app synthesizes, on embedded stand-ins (dynalite, fauxqs, aws-local-stepfunctions,
 * redis-server). Unfinished tasks found at start are driven again, so a restart loses nothing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { consoleAssets } from '@optiinfra/console';
import type { ConsoleMetrics } from '@optiinfra/contract/dashboard-metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildOpenApiDocument } from '../functions/api/openapi';
import type { ApiFunction } from '../functions/api/routes';
import type { AwsClient } from '../functions/composition/composition-root';
import { loadConfig } from '../functions/composition/config';
import { type ApiLambda, startApiServer } from './api-server';
import type { ConsoleOptions } from '@optiinfra/console';
import { AwsCallGuard } from './aws-call-guard';
import { type FeedOptions, hookFeed, watchAgentHealth } from './feed/runtime-feed';
import { consoleMetricsSource } from './metrics-recorder';
import { fleetTokensSecretOf, functionBySource, functionEntryOf, LOCAL_AWS, provisionFromTemplate } from './provision';
import { startDynamo } from './stand-ins/dynamodb';
import { freePort } from './stand-ins/listen';
import { startRedis } from './stand-ins/redis-launcher';
import { startSecretsManager } from './stand-ins/secrets-manager';
import { startSqs } from './stand-ins/sqs';
import { fakeLambdaContext, startSqsEventSource } from './stand-ins/sqs-event-source';
import type { ExecutionInfo, StepFunctionsOptions } from './stand-ins/step-functions-engine';
import { startStepFunctionsServer } from './stand-ins/step-functions-server';
import { localSettings, publicHost, reconcileIntervalSeconds, ownTargets, redactedUrl } from './settings';
import { type CfnTemplate, getAttOf } from './template/cfn-template';
import { definitionDigest } from './template/state-machines';
import { synthesizedTemplate } from './template/synthesize';
import { vpcFunctionRoutes } from './template/vpc-routes';

export interface RuntimeOptions extends FeedOptions {
  host: string;
  port: number;
  dataDir: string;
  /** Extra environment for the handlers (settings such as RETRY_BASE_DELAY_SECONDS). */
  env?: Record<string, string>;
  /** Bearer tokens callers must send (API_TOKENS); none means the local API is open. */
  apiTokens?: readonly string[];
  log: (line: string) => void;
  /** Hooks for a measurement (bench/cost.ts); `npm start` sets none. */
  instrument?: RuntimeInstrument;
  /** The template to run instead of the synthesized one: a test that takes an endpoint away. */
  template?: CfnTemplate;
}

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** What bench/cost.ts watches: every AWS client, every function invocation, every workflow event. */
export interface RuntimeInstrument {
  /** Called with each AWS SDK client the functions and the SQS poller make, before its first call. */
  awsClient?: (client: AwsClient) => void;
  /** Wraps the handler of the function `logicalId` (of the synthesized template). */
  handler?: (logicalId: string, handler: Handler) => Handler;
  onWorkflowEvent?: StepFunctionsOptions['onEvent'];
  onExecutionEnd?: (info: ExecutionInfo) => void;
}

export interface Runtime {
  url: string;
  stop(): Promise<void>;
  /** The dashboard's figures as this runtime recorded them: the console's GET /ui/metrics. */
  consoleMetrics(minutes: number): Promise<ConsoleMetrics>;
}

const portOf = (url: string): number => Number(new URL(url).port);
/** The version the OpenAPI document gives the API: the project's. */
const PROJECT_VERSION = (JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

async function importHandler(entry: string): Promise<Handler> {
  const mod = (await import(path.join('..', entry))) as { handler: Handler };
  return mod.handler;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { log, instrument } = options;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    // Checked before anything starts: a wrong setting stops start-up with the variable's name.
    const settings = localSettings({ ...process.env, ...options.env });
    mkdirSync(options.dataDir, { recursive: true });
    // The network as ALLOW_PUBLIC_AGENTS makes it on AWS: private (the local default), the VPC functions reach only the endpoints.
    const allowPublicAgents = loadConfig(settings).ALLOW_PUBLIC_AGENTS;
    const template = options.template ?? (await synthesizedTemplate({ allowPublicAgents }));
    const guard = new AwsCallGuard(template);

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
    // The fleet tokens live where the agents API reads them on AWS: the template's secret. None listed is registration open.
    const fleetTokens = loadConfig(settings).FLEET_TOKENS;
    const secret = fleetTokensSecretOf(template);
    const secrets = await startSecretsManager([{ ...secret, value: fleetTokens.join(',') || ',' }]);
    stops.push(() => secrets.stop());
    log(`Secrets   local Secrets Manager on ${secrets.endpoint} holds the fleet tokens (secret ${secret.name})`);
    const routes = vpcFunctionRoutes(template)[0]?.reachable;
    log(
      routes === 'all' || routes === undefined
        ? 'Network   public agents allowed: the functions in the VPC reach AWS through NAT'
        : `Network   private (ALLOW_PUBLIC_AGENTS=false): the functions in the VPC reach only ${routes.join(', ')}, through the template's endpoints`,
    );
    const ports = [portOf(dynamo.endpoint), portOf(sqsServer.endpoint), secrets.port];
    if (settings.CACHE_URL !== undefined) {
      log(`Cache     ${redactedUrl(settings.CACHE_URL)} (from ${process.env.REDIS_URL ? 'REDIS_URL' : 'CACHE_URL'})`);
    } else {
      const redis = await startRedis({ dataDir: path.join(options.dataDir, 'redis'), env: { PATH: process.env.PATH } });
      if (redis.kind === 'none') {
        settings.CACHE_URL = 'memory://local';
        log(
          'Cache     NOTICE: no REDIS_URL and no redis-server on PATH; using an in-process stand-in (install redis-server for the real thing)',
        );
      } else {
        settings.CACHE_URL = redis.url;
        stops.push(() => redis.stop());
        ports.push(portOf(redis.url));
        log(`Cache     redis-server started (pid ${redis.kind === 'spawned' ? redis.pid : '?'}) on ${redactedUrl(redis.url)}`);
      }
    }
    // The handlers read their settings once, at import: the ports of the Step Functions server and
    // the API must be known before, so they can be refused as agents (DENIED_AGENT_TARGETS).
    const sfnPort = await freePort();
    const apiPort = options.port === 0 ? await freePort() : options.port;
    ports.push(sfnPort, apiPort);
    settings.DENIED_AGENT_TARGETS = [settings.DENIED_AGENT_TARGETS ?? '', ...ownTargets(ports)].filter(Boolean).join(',');
    // Deliveries name where an agent that accepted reports: this API, unless PUBLIC_API_URL says otherwise.
    settings.PUBLIC_API_URL ??= `http://${publicHost(options.host)}:${apiPort}`;

    const stack = await provisionFromTemplate(template, { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint });
    Object.assign(process.env, settings, stack.env, {
      FLEET_TOKENS: '',
      FLEET_TOKENS_SECRET_ARN: secret.arn,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    });
    const entryOf = (logicalId: string) => functionEntryOf(template, logicalId);
    // Imported only now: the composition root reads its configuration (process.env) at import.
    const root = await import('../functions/composition/composition-root');
    root.onAwsClient((client) => {
      guard.hook(client);
      instrument?.awsClient?.(client);
    });
    stops.push(hookFeed(options));
    // Before any handler runs, so the console's figures hold every task of this run.
    const recorded = consoleMetricsSource(root.onTaskMetric);
    stops.push(recorded.stop);
    const loadHandler = async (logicalId: string): Promise<Handler> => {
      const handler = guard.wrap(logicalId, await importHandler(entryOf(logicalId)));
      return instrument?.handler ? instrument.handler(logicalId, handler) : handler;
    };

    const localMachines = [];
    for (const machine of [stack.machines.standard, stack.machines.express]) {
      const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
      for (const task of machine.taskStates) {
        const handler = await loadHandler(task.functionLogicalId);
        const functionArn = getAttOf(task.functionLogicalId, 'Arn', template, LOCAL_AWS);
        handlers[task.stateName] = async (input) => {
          // The state machine's role invokes the function: recorded as its call.
          guard.record(machine.logicalId, 'lambda:InvokeFunction', functionArn);
          return handler(input, fakeLambdaContext(task.functionLogicalId, 330_000));
        };
      }
      // Taken before the engine sees the definition: it fills in defaults (QueryLanguage) in place.
      const digest = definitionDigest(machine.definition);
      localMachines.push({
        arn: machine.arn,
        definition: machine.definition,
        handlers,
        digest,
        logicalId: machine.logicalId,
        type: machine.stateMachineType,
      });
    }
    const sfnServer = await startStepFunctionsServer({
      port: sfnPort,
      machines: localMachines,
      // Every start and every execution that did not succeed, when asked for (LOG_LEVEL=DEBUG).
      logger: process.env.LOG_LEVEL?.toUpperCase() === 'DEBUG' ? (line) => log(`Workflow  ${line}`) : undefined,
      onEvent: instrument?.onWorkflowEvent,
      onExecutionEnd: (info) => {
        instrument?.onExecutionEnd?.(info);
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

    const starterId = functionBySource(template, 'handlers/starter.ts');
    const reconcilerId = functionBySource(template, 'handlers/reconciler.ts');
    const starter = (await loadHandler(starterId)) as (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
    const source = startSqsEventSource({
      queueUrl: stack.intakeQueueUrl,
      endpoint: sqsServer.endpoint,
      region: LOCAL_AWS.region,
      batchSize: 10,
      handler: starter,
      functionName: starterId,
      log,
      // The event source polls with the starter's role, from the Lambda service (outside any VPC).
      onClient: (client) => {
        guard.hook(client, starterId);
        instrument?.awsClient?.(client);
      },
    });
    stops.push(() => source.stop());

    const reconciler = await loadHandler(reconcilerId);
    const reconcileNow = async (staleAfterSeconds?: number) =>
      (await reconciler(
        staleAfterSeconds === undefined ? {} : { stale_after_seconds: staleAfterSeconds },
        fakeLambdaContext(reconcilerId, 60_000),
      )) as { requeued: number };
    const recovered = await reconcileNow(0);
    if (recovered.requeued > 0) log(`Recovery  ${recovered.requeued} unfinished task(s) from the last run put back on the queue`);
    const timer = setInterval(
      () => void reconcileNow().catch((err: unknown) => log(`reconciler failed: ${String(err)}`)),
      reconcileIntervalSeconds(settings) * 1000,
    );
    stops.push(async () => clearInterval(timer));

    const apiHandlers = {} as Record<ApiFunction, ApiLambda>;
    const functionTimeoutsMs: Partial<Record<ApiFunction, number>> = {};
    for (const fn of ['health', 'agents', 'tasks'] as const) {
      const id = functionBySource(template, `handlers/api-${fn}.ts`);
      apiHandlers[fn] = (await loadHandler(id)) as unknown as ApiLambda;
      // A waiting read (GET /tasks/{id}?wait=N) runs as long as the template lets the function run.
      const seconds = (template.Resources[id]?.Properties as { Timeout?: number } | undefined)?.Timeout;
      if (seconds !== undefined) functionTimeoutsMs[fn] = seconds * 1000;
    }
    const apiUrl = `http://${publicHost(options.host)}:${apiPort}`;
    // The page's files, bundled now from the sources when run from the repository. `metrics` (GET
    // /ui/metrics) is left out until the runtime records the dashboard's figures: that path answers 404 meanwhile.
    const consoleOptions: ConsoleOptions = { assets: await consoleAssets(), metrics: recorded.metrics };
    const api = await startApiServer({
      host: options.host,
      port: apiPort,
      handlers: apiHandlers,
      functionTimeoutsMs,
      bearerTokens: options.apiTokens ?? [],
      maxBodyBytes: loadConfig(process.env).MAX_BODY_BYTES,
      openApiDocument: buildOpenApiDocument({ version: PROJECT_VERSION, servers: [{ url: apiUrl, description: 'This local runtime' }] }),
      console: consoleOptions,
    });
    stops.push(() => api.stop());
    log(`API       ${api.url}  (try: curl ${api.url}/health)`);
    stops.push(watchAgentHealth(options, api.url, options.apiTokens?.[0]));
    log(`Console   ${api.url}/ui/`);
    const tokens = options.apiTokens?.length ?? 0;
    const fleet = fleetTokens.length;
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

    return { url: api.url, stop: stopAll, consoleMetrics: recorded.metrics };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
