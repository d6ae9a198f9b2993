import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/api/routes';
import { CACHE_FALLBACK_METRIC } from '../../functions/composition/observability';
import { EXPRESS_SAFETY_SECONDS } from '../../functions/core/workflow-choice';
import { HISTORY_EVENTS_PER_LOOP, historyEventsPerLoop } from '../../functions/core/workflow-history';
import { MAX_WAIT_SECONDS } from '@optiinfra/contract';
import { CONSOLE_SERIES } from '@optiinfra/contract/dashboard-metrics';
import { buildOrchestrator, DEFAULT_DEPLOYMENT, type DeploymentOptions } from '../../lib/app-builder';
import { LAMBDA_TRANSIENT_ERRORS } from '../../lib/constructs/task-workflow';
import { TASKS_API_TIMEOUT_SECONDS } from '../../lib/stateless-stack';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { vpcFunctionRoutes } from '../../local/template/vpc-routes';

/**
 * CloudFormation's own template validation (CDK's built-in plugin, seconds of CPU to start) is left
 * to test/infra/offline-synth.test.ts, which runs `cdk synth` as a deployment does.
 * Every synthesis writes its assembly under one temporary folder, removed at the end (without an
 * outdir CDK leaves a `cdk.out*` folder in the system's temporary folder per synthesis).
 */
const outRoot = mkdtempSync(path.join(tmpdir(), 'optiinfra-stack-test-'));
let apps = 0;
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

function newApp(): App {
  return new App({
    outdir: path.join(outRoot, String(apps++)),
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:defaultCrossStackReferences': 'strong' },
  });
}

function synth(options: Partial<DeploymentOptions> = {}, change?: (stacks: ReturnType<typeof buildOrchestrator>) => void) {
  const app = newApp();
  const stacks = buildOrchestrator(app, { ...DEFAULT_DEPLOYMENT, nag: false, ...options });
  change?.(stacks);
  return { stateful: Template.fromStack(stacks.stateful), stateless: Template.fromStack(stacks.stateless) };
}

/** Both stacks as one template, as the local runtime reads them: cross-stack references resolve through the exports. */
function merged(templates: { stateful: Template; stateless: Template }): CfnTemplate {
  const out: CfnTemplate = { Resources: {}, Outputs: {} };
  for (const [name, template] of Object.entries(templates)) {
    const json = template.toJSON() as CfnTemplate;
    Object.assign(out.Resources, json.Resources);
    for (const [key, output] of Object.entries(json.Outputs ?? {})) out.Outputs![`${name}.${key}`] = output;
  }
  return out;
}

const PRIVATE: Partial<DeploymentOptions> = { allowPublicAgents: false, allowedAgentNetworks: ['10.0.0.0/16'] };

let stateful: Template;
let stateless: Template;
let isolated: { stateful: Template; stateless: Template };

beforeAll(() => {
  ({ stateful, stateless } = synth());
  isolated = synth(PRIVATE);
});

type Definition = { States: Record<string, Record<string, unknown>>; TimeoutSeconds?: number };

function definitions(): Record<string, Definition> {
  const machines = stateless.findResources('AWS::StepFunctions::StateMachine') as Record<
    string,
    { Properties: { StateMachineType?: string; DefinitionString: { 'Fn::Join': [string, unknown[]] } } }
  >;
  return Object.fromEntries(
    Object.values(machines).map((m) => {
      const text = m.Properties.DefinitionString['Fn::Join'][1]
        .map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:us-east-1:000000000000:function:Dispatcher'))
        .join('');
      return [m.Properties.StateMachineType ?? 'STANDARD', JSON.parse(text) as Definition];
    }),
  );
}

describe('the task state machines', () => {
  it('deploys one definition twice: an Express machine (5 minutes) and a Standard one', () => {
    const defs = definitions();
    expect(Object.keys(defs).sort()).toEqual(['EXPRESS', 'STANDARD']);
    expect(defs.EXPRESS!.TimeoutSeconds).toBe(300);
    expect({ ...defs.EXPRESS, TimeoutSeconds: 0 }).toEqual({ ...defs.STANDARD, TimeoutSeconds: 0 });
  });

  it('limits each dispatch step by the per-task timeout from the execution input', () => {
    const states = definitions().STANDARD!.States;
    expect(states.Dispatch).toMatchObject({ Type: 'Task', TimeoutSecondsPath: '$.state_timeout_seconds', ResultPath: '$.step' });
    expect(states.Dispatch!.TimeoutSeconds).toBeUndefined();
  });

  it('waits between retries and for agents for as long as each step says, not a constant', () => {
    const states = definitions().STANDARD!.States;
    expect(states.RetryDelay).toEqual({ Type: 'Wait', SecondsPath: '$.step.delay_seconds', Next: 'Dispatch' });
    expect(states.WaitForAgent).toEqual({ Type: 'Wait', SecondsPath: '$.step.delay_seconds', Next: 'Dispatch' });
    expect(states.Route).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.step.outcome', StringEquals: 'retry', Next: 'RetryDelay' },
        { Variable: '$.step.outcome', StringEquals: 'wait', Next: 'WaitForAgent' },
      ],
      Default: 'Done',
    });
  });

  it('catches every failure of the dispatch step in a step that records it, which itself ends in Stranded', () => {
    const states = definitions().STANDARD!.States;
    expect(states.Dispatch!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.fault', Next: 'RecordFault' }]);
    expect(states.RecordFault).toMatchObject({
      Next: 'Route',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.fault', Next: 'Stranded' }],
    });
    expect(states.Stranded).toMatchObject({ Type: 'Fail' });
  });

  it('retries the Lambda service errors with backoff and full jitter in every state that invokes a function, before anything else matches them', () => {
    type Retrier = {
      ErrorEquals: string[];
      IntervalSeconds?: number;
      MaxAttempts?: number;
      BackoffRate?: number;
      MaxDelaySeconds?: number;
      JitterStrategy?: string;
    };
    const lambdaTasks = (states: Record<string, Record<string, unknown>>): Array<[string, Record<string, unknown>]> =>
      Object.entries(states).flatMap(([name, state]) => {
        const nested = [
          ...((state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []),
          ...[state.ItemProcessor ?? state.Iterator].filter(Boolean),
        ].flatMap((b) => lambdaTasks((b as { States: Record<string, Record<string, unknown>> }).States));
        const resource = typeof state.Resource === 'string' ? state.Resource : '';
        const invokesLambda =
          state.Type === 'Task' && (/:lambda:[^:]+:[^:]+:function:/.test(resource) || resource.endsWith(':lambda:invoke'));
        return invokesLambda ? [[name, state] as [string, Record<string, unknown>], ...nested] : nested;
      });
    for (const [type, definition] of Object.entries(definitions())) {
      const checked = lambdaTasks(definition.States);
      expect(checked.map(([name]) => name).sort(), type).toEqual(['Dispatch', 'RecordFault']);
      for (const [name, state] of checked) {
        const retriers = (state.Retry ?? []) as Retrier[];
        for (const error of LAMBDA_TRANSIENT_ERRORS) {
          // The first retrier that matches the error is the one Step Functions applies.
          const first = retriers.find((r) => r.ErrorEquals.some((e) => e === error || e === 'States.ALL' || e === 'States.TaskFailed'));
          expect(first?.ErrorEquals, `${type} ${name}: ${error}`).toContain(error);
          expect(first, `${type} ${name}: ${error}`).toMatchObject({ JitterStrategy: 'FULL', MaxDelaySeconds: expect.any(Number) });
          expect(first!.BackoffRate, `${type} ${name}`).toBeGreaterThan(1);
          expect(first!.MaxAttempts, `${type} ${name}`).toBeGreaterThanOrEqual(3);
          // Every wait at its ceiling still fits in the room an Express execution keeps before its 5 minutes.
          let waits = 0;
          for (let i = 0; i < first!.MaxAttempts!; i++)
            waits += Math.min(first!.MaxDelaySeconds!, (first!.IntervalSeconds ?? 1) * first!.BackoffRate! ** i);
          expect(waits, `${type} ${name}`).toBeLessThanOrEqual(EXPRESS_SAFETY_SECONDS);
        }
      }
    }
  });

  it('counts the history of a pass through the loop as the deployed definition writes it (the dispatcher hands over by that count)', () => {
    for (const definition of Object.values(definitions())) expect(historyEventsPerLoop(definition.States)).toBe(HISTORY_EVENTS_PER_LOOP);
  });

  it('uses JSONPath only (the local engine cannot run JSONata or variables)', () => {
    expect(JSON.stringify(definitions())).not.toMatch(/JSONata|"Assign"|\$\$\.Task\.Token|waitForTaskToken/);
  });

  it('logs errors only by default (ALL costs ~4 KB of logs per task), without execution data, and traces, on both machines', () => {
    const machines = stateless.findResources('AWS::StepFunctions::StateMachine', {
      Properties: {
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
      },
    });
    expect(Object.keys(machines)).toHaveLength(2);
  });

  it('logs every state transition on both machines when the deployment asks for ALL (context workflowLogLevel=ALL)', () => {
    const machines = synth({ workflowLogLevel: 'ALL' }).stateless.findResources('AWS::StepFunctions::StateMachine', {
      Properties: { LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }) },
    });
    expect(Object.keys(machines)).toHaveLength(2);
  });
});

describe('the stateful stack', () => {
  it('keeps tasks and agents in on-demand tables with point-in-time recovery and TTL, retained on delete', () => {
    const tables = stateful.findResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      },
    });
    expect(Object.keys(tables)).toHaveLength(2);
  });

  it('keeps Idempotency-Key records in their own on-demand table with TTL, which only the tasks API may use', () => {
    const tables = stateful.findResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      },
    });
    expect(Object.keys(tables)).toHaveLength(1);
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }
    >;
    const using = Object.entries(policies).filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('Idempotency'));
    expect(using.map(([id]) => id)).toEqual([expect.stringMatching(/^TasksApi/)]);
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: '/tasks routes',
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_TABLE: Match.anyValue() }) },
    });
  });

  it('keeps the fleet tokens in a generated secret that only the agents API may read', () => {
    stateful.resourceCountIs('AWS::SecretsManager::Secret', 1);
    stateful.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true, PasswordLength: 48 }),
    });
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }
    >;
    const readers = Object.entries(policies).filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')),
    );
    expect(readers.map(([id]) => id)).toEqual([expect.stringMatching(/^AgentsApi/)]);
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: '/agents routes',
      Environment: { Variables: Match.objectLike({ FLEET_TOKENS_SECRET_ARN: Match.anyValue() }) },
    });
  });

  it('passes the registry settings to the agents API: tokens optional (seed agents work) and bounded by default, or as the context says', () => {
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: '/agents routes',
      Environment: {
        Variables: Match.objectLike({
          REQUIRE_AGENT_TOKENS: 'false',
          MAX_AGENTS_PER_TYPE: '1000',
          MAX_AGENT_CAPABILITIES: '50',
          MAX_AGENT_METADATA_BYTES: '4096',
        }),
      },
    });
    const strict = synth({
      agentRegistry: { requireAgentTokens: true, maxAgentsPerType: 20, maxAgentCapabilities: 5, maxAgentMetadataBytes: 1024 },
    }).stateless;
    strict.hasResourceProperties('AWS::Lambda::Function', {
      Description: '/agents routes',
      Environment: {
        Variables: Match.objectLike({ REQUIRE_AGENT_TOKENS: 'true', MAX_AGENTS_PER_TYPE: '20', MAX_AGENT_CAPABILITIES: '5' }),
      },
    });
  });

  it('indexes tasks in sparse, sharded indexes: unfinished and finished, projecting only what never changes, and pending callbacks by when due', () => {
    const shardedBy = (pk: string) => [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: 'created_key', KeyType: 'RANGE' },
    ];
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'task_id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'open',
          KeySchema: shardedBy('open_shard'),
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['agent_type'] },
        },
        {
          IndexName: 'finished',
          KeySchema: shardedBy('finished_shard'),
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['agent_type', 'status'] },
        },
        {
          IndexName: 'callbacks',
          KeySchema: [
            { AttributeName: 'callback_shard', KeyType: 'HASH' },
            { AttributeName: 'callback_due', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('gives the intake queue a dead-letter queue with a redrive policy and an alarm on it', () => {
    stateful.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
      VisibilityTimeout: 180,
    });
    stateful.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
  });

  it('runs a serverless Valkey cache reachable only from the functions security group', () => {
    stateful.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'valkey', SecurityGroupIds: [Match.anyValue()] });
    stateful.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379,
      ToPort: 6380,
      SourceSecurityGroupId: Match.anyValue(),
    });
  });

  it('makes a NAT gateway only when agents may be outside the VPC, and endpoints either way', () => {
    stateful.resourceCountIs('AWS::EC2::NatGateway', 1);
    isolated.stateful.resourceCountIs('AWS::EC2::NatGateway', 0);
    isolated.stateful.resourceCountIs('AWS::EC2::InternetGateway', 0);
    isolated.stateful.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    const interfaces = isolated.stateful.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
    expect(Object.keys(interfaces)).toHaveLength(4);
  });
});

/**
 * In isolated subnets a call to a service without an endpoint hangs until the function times out:
 * nothing in synthesis sees it. The services come from each VPC function's role (inline policies and
 * managed policies), so a grant added later without a route fails here.
 */
describe('the network of the functions in the VPC', () => {
  it('routes every service their roles allow, X-Ray included, through endpoints in private mode', () => {
    const routes = vpcFunctionRoutes(merged(isolated));
    expect(routes.map((r) => r.logicalId).sort()).toEqual([
      expect.stringMatching(/^AgentsApi/),
      expect.stringMatching(/^Dispatcher/),
      expect.stringMatching(/^Reconciler/),
      expect.stringMatching(/^Starter/),
      expect.stringMatching(/^TasksApi/),
    ]);
    const agents = routes.find((r) => r.logicalId.startsWith('AgentsApi'))!;
    expect(agents.services).toEqual(['dynamodb', 'secretsmanager', 'sqs', 'xray']);
    expect(agents.reachable).toEqual(['dynamodb', 'secretsmanager', 'sqs', 'states', 'xray']);
    for (const route of routes) expect(route.unrouted, route.logicalId).toEqual([]);
  });

  it('routes everything through the NAT gateway when agents may be public', () => {
    const routes = vpcFunctionRoutes(merged({ stateful, stateless }));
    expect(routes).toHaveLength(5);
    for (const route of routes) expect(route.reachable, route.logicalId).toBe('all');
  });

  it('refuses a new isolated VPC without endpoints: its functions could reach no AWS service', () => {
    expect(() => buildOrchestrator(newApp(), { ...DEFAULT_DEPLOYMENT, ...PRIVATE, createVpcEndpoints: false, nag: false })).toThrow(
      /createVpcEndpoints=false with allowPublicAgents=false needs a reused VPC/,
    );
  });

  it('names a service granted later without a route (ssm:GetParameter on the agents API)', () => {
    const withGrant = synth(PRIVATE, ({ stateless: stack }) => {
      const fn = stack.node.findChild('AgentsApi').node.findChild('Function') as lambda.Function;
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: ['*'] }));
    });
    const unrouted = vpcFunctionRoutes(merged(withGrant)).filter((r) => r.unrouted.length > 0);
    expect(unrouted).toEqual([expect.objectContaining({ logicalId: expect.stringMatching(/^AgentsApi/), unrouted: ['ssm'] })]);
  });
});

describe('the stateless stack', () => {
  /** One synthesis with the throttle and concurrency context keys set (0: no reservation, no ceiling). */
  let custom: Template | undefined;
  const overridden = () =>
    (custom ??= synth({
      throttle: { rateLimit: 800, burstLimit: 1600 },
      concurrency: { reserved: { tasks: 800, agents: 0, health: 5 }, starterMaxConcurrency: 0 },
    }).stateless);
  it('runs every function on Node 22, arm64, with active tracing and its own log group', () => {
    const fns = stateless.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns)).toHaveLength(6);
    for (const fn of Object.values(fns) as Array<{ Properties: Record<string, unknown> }>) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
      });
    }
  });

  it('authenticates every route with IAM except GET /health, or with JWT when configured', () => {
    const check = (template: Template, auth: string) => {
      const routes = template.findResources('AWS::ApiGatewayV2::Route') as Record<
        string,
        { Properties: { RouteKey: string; AuthorizationType?: string } }
      >;
      expect(
        Object.values(routes)
          .map((r) => r.Properties.RouteKey)
          .sort(),
      ).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
      for (const route of Object.values(routes))
        expect(route.Properties.AuthorizationType).toBe(route.Properties.RouteKey === 'GET /health' ? 'NONE' : auth);
    };
    check(stateless, 'AWS_IAM');
    check(synth({ auth: { kind: 'jwt', issuer: 'https://issuer.example.com', audience: ['orchestrator'] } }).stateless, 'JWT');
  });

  it('throttles the API for 1 000 tasks/s (5 000 requests/s, as the context may change) and writes access logs', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 5000, ThrottlingBurstLimit: 5000 }),
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    overridden().hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 800, ThrottlingBurstLimit: 1600 }),
    });
  });

  it('consumes the intake queue with partial batch failures, at most 50 batches at once unless the context says otherwise', () => {
    stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    overridden().hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: Match.absent() });
  });

  it('reserves concurrency for the API functions, so a dispatch burst cannot take it; the context sets it, 0 reserves none', () => {
    const reservedBy = (template: Template) =>
      Object.fromEntries(
        Object.values(
          template.findResources('AWS::Lambda::Function') as Record<
            string,
            { Metadata: Record<string, string>; Properties: { ReservedConcurrentExecutions?: number } }
          >,
        ).map((f) => [
          f.Metadata['optiinfra:entry']!.replace(/^functions\/handlers\/|\.ts$/g, ''),
          f.Properties.ReservedConcurrentExecutions,
        ]),
      );
    expect(reservedBy(stateless)).toEqual({
      'api-tasks': 300,
      'api-agents': 100,
      'api-health': 10,
      dispatcher: undefined,
      starter: undefined,
      reconciler: undefined,
    });
    expect(reservedBy(overridden())).toMatchObject({ 'api-tasks': 800, 'api-agents': undefined, 'api-health': 5 });
  });

  it('has one dashboard and alarms on failed executions, API 5xx and dispatch errors, all notifying SNS', () => {
    stateless.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = stateless.findResources('AWS::CloudWatch::Alarm') as Record<
      string,
      { Properties: { AlarmDescription: string; AlarmActions: unknown[] } }
    >;
    const descriptions = Object.values(alarms).map((a) => a.Properties.AlarmDescription);
    expect(descriptions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Task executions failed/),
        expect.stringMatching(/^The API answered 5xx/),
        expect.stringMatching(/^The dispatcher failed/),
        expect.stringMatching(/^Cache calls failed and fell back to DynamoDB/),
      ]),
    );
    for (const a of Object.values(alarms)) expect(a.Properties.AlarmActions).toHaveLength(1);
  });

  it('alarms on the cache fallbacks the functions count, and graphs them on the dashboard', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'OptiInfra/Orchestrator',
      MetricName: CACHE_FALLBACK_METRIC,
      Dimensions: [{ Name: 'service', Value: 'optiinfra-orchestrator' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: DEFAULT_DEPLOYMENT.thresholds.cacheFallbacks,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dashboards = Object.values(stateless.findResources('AWS::CloudWatch::Dashboard'));
    expect(JSON.stringify(dashboards)).toContain(`\\"${CACHE_FALLBACK_METRIC}\\"`);
  });

  it("graphs each of the console's series with the metric, statistic and label of the shared definitions", () => {
    const [dashboard] = Object.values(stateless.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } };
    }>;
    // The body is a JSON text joined around tokens (the region, resource names): its literal parts hold the metrics.
    const text = dashboard!.Properties.DashboardBody['Fn::Join'][1].filter((part) => typeof part === 'string').join('');
    const widgets = (
      JSON.parse(text.replace(/"region":"[^"]*"/g, '"region":"r"')) as {
        widgets: Array<{ properties: { title?: string; metrics?: Array<Array<string | { expression?: string; label?: string }>> } }>;
      }
    ).widgets;
    const expressions = widgets.flatMap((w) => (w.properties.metrics ?? []).flat().filter((m) => typeof m === 'object'));
    for (const s of CONSOLE_SERIES) {
      expect(expressions, s.id).toContainEqual(
        expect.objectContaining({
          expression: `SEARCH('{OptiInfra/Orchestrator,AgentType,service} MetricName="${s.metricName}"', '${s.statistic}', 60)`,
          label: s.label,
        }),
      );
    }
    const waiting = widgets.find((w) => w.properties.title?.startsWith('Tasks waiting for a free agent'));
    expect(JSON.stringify(waiting?.properties.metrics)).toContain('MetricName=\\"WaitingTasks\\"');
  });

  it('grants no IAM statement a service-wide wildcard on every resource, and no table index wildcard', () => {
    const policies = { ...stateful.findResources('AWS::IAM::Policy'), ...stateless.findResources('AWS::IAM::Policy') } as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }
    >;
    expect(Object.keys(policies).length).toBeGreaterThan(6);
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        for (const action of actions) expect(statement.Resource === '*' && /:\*$/.test(action), `${action} on *`).toBe(false);
        expect(JSON.stringify(statement.Resource)).not.toContain('/index/*');
      }
    }
  });

  it('lets only the tasks API stop executions, and only Standard ones (Express cannot be stopped: cancel is a conditional write the next step sees)', () => {
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> }; Roles: unknown[] } }
    >;
    const stopping = Object.entries(policies).filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some((s) => [s.Action].flat().includes('states:StopExecution')),
    );
    expect(stopping.map(([id]) => id)).toEqual([expect.stringMatching(/^TasksApi/)]);
    const statement = stopping[0]![1].Properties.PolicyDocument.Statement.find((s) => [s.Action].flat().includes('states:StopExecution'))!;
    expect(JSON.stringify(statement.Resource)).toContain('StandardWorkflowStateMachine');
    expect(JSON.stringify(statement.Resource)).not.toContain('ExpressWorkflow');
  });

  it('lets the starter start both machines, and the dispatcher start neither (it hands over through the queue)', () => {
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }
    >;
    const starting = Object.entries(policies).filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some((s) => [s.Action].flat().includes('states:StartExecution')),
    );
    expect(starting.map(([id]) => id)).toEqual([expect.stringMatching(/^Starter/)]);
    const resources = JSON.stringify(
      starting[0]![1].Properties.PolicyDocument.Statement.filter((s) => [s.Action].flat().includes('states:StartExecution')).map(
        (s) => s.Resource,
      ),
    );
    expect(resources).toContain('StandardWorkflowStateMachine');
    expect(resources).toContain('ExpressWorkflowStateMachine');
  });

  it('lets the starter send callbacks: claim and record them on the task, queue a retry, and reach agents networks from the VPC', () => {
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }
    >;
    const starter = Object.entries(policies).filter(([id]) => id.startsWith('Starter'));
    const actions = starter.flatMap(([, p]) => p.Properties.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()));
    for (const action of ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sqs:SendMessage']) expect(actions).toContain(action);
    for (const action of ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query']) expect(actions).not.toContain(action);
    const fns = stateless.findResources('AWS::Lambda::Function') as Record<
      string,
      { Metadata: Record<string, string>; Properties: { VpcConfig?: unknown; Environment: { Variables: Record<string, unknown> } } }
    >;
    const fn = Object.values(fns).find((f) => f.Metadata['optiinfra:entry'] === 'functions/handlers/starter.ts')!;
    expect(fn.Properties.VpcConfig).toBeDefined();
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['INTAKE_QUEUE_URL', 'ALLOWED_AGENT_NETWORKS', 'ALLOW_PUBLIC_AGENTS', 'DENIED_AGENT_TARGETS', 'CACHE_URL']),
    );
  });

  it('serves asynchronous delivery: the dispatcher waits at most 300 s and names the API to report to; the reconciler may end accepted attempts', () => {
    const fns = stateless.findResources('AWS::Lambda::Function') as Record<
      string,
      { Metadata: Record<string, string>; Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } } }
    >;
    const dispatcher = Object.values(fns).find((f) => f.Metadata['optiinfra:entry'] === 'functions/handlers/dispatcher.ts')!;
    expect(dispatcher.Properties.Timeout).toBe(330);
    expect(dispatcher.Properties.Environment.Variables.PUBLIC_API_URL).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Api[A-Z0-9]+$/), 'ApiEndpoint'],
    });
    const policies = stateless.findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }
    >;
    const reconciler = Object.entries(policies).filter(([id]) => id.startsWith('Reconciler'));
    const actions = reconciler.flatMap(([, p]) => p.Properties.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()));
    for (const action of ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'sqs:SendMessage'])
      expect(actions).toContain(action);
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
  });

  it('lets a waiting read answer: the tasks function outlives ?wait=20 and its API integration outlives the function', () => {
    const fns = stateless.findResources('AWS::Lambda::Function') as Record<
      string,
      { Metadata: Record<string, string>; Properties: { Timeout: number } }
    >;
    const [tasksId, tasksFn] = Object.entries(fns).find(([, f]) => f.Metadata['optiinfra:entry'] === 'functions/handlers/api-tasks.ts')!;
    expect(tasksFn.Properties.Timeout).toBe(TASKS_API_TIMEOUT_SECONDS);
    expect(tasksFn.Properties.Timeout).toBeGreaterThanOrEqual(MAX_WAIT_SECONDS + 4);
    const integrations = Object.values(
      stateless.findResources('AWS::ApiGatewayV2::Integration') as Record<
        string,
        { Properties: { IntegrationUri: unknown; TimeoutInMillis: number } }
      >,
    );
    const tasksIntegration = integrations.find((i) => JSON.stringify(i.Properties.IntegrationUri).includes(tasksId));
    expect(tasksIntegration?.Properties.TimeoutInMillis).toBe(29_000);
    expect(tasksIntegration!.Properties.TimeoutInMillis).toBeGreaterThanOrEqual((tasksFn.Properties.Timeout + 2) * 1000);
  });

  it('lets only the cache users, and the starter that sends callbacks as the dispatcher delivers, run in the VPC', () => {
    const inVpc = stateless.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } }) as Record<
      string,
      { Metadata: Record<string, string> }
    >;
    expect(
      Object.values(inVpc)
        .map((f) => f.Metadata['optiinfra:entry'])
        .sort(),
    ).toEqual([
      'functions/handlers/api-agents.ts',
      'functions/handlers/api-tasks.ts',
      'functions/handlers/dispatcher.ts',
      'functions/handlers/reconciler.ts',
      'functions/handlers/starter.ts',
    ]);
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the AwsSolutions pack', () => {
    const app = newApp();
    buildOrchestrator(app, { ...DEFAULT_DEPLOYMENT, nag: true });
    expect(() => app.synth()).not.toThrow();
  });
});

/**
 * The functions refuse the host and port of CACHE_URL as an agent; the cache's reader endpoint (the
 * same host, port 6380, also open to the functions' security group) comes in DENIED_AGENT_TARGETS.
 */
it('every function that knows the cache refuses both its endpoints as agents', () => {
  const functions = stateless.findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
  >;
  const withCache = Object.entries(functions).filter(([, f]) => f.Properties.Environment?.Variables?.CACHE_URL !== undefined);
  expect(withCache.length).toBeGreaterThan(0);
  for (const [id, f] of withCache) {
    // ElastiCache Serverless is cluster-mode only: a plain client would not follow MOVED.
    expect(f.Properties.Environment?.Variables?.CACHE_CLUSTER, id).toBe('true');
    const denied = JSON.stringify(f.Properties.Environment?.Variables?.DENIED_AGENT_TARGETS);
    expect(denied, id).toMatch(/ReaderEndpointAddress/);
    expect(denied, id).toMatch(/ReaderEndpointPort/);
  }
});
