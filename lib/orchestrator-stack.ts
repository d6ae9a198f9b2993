import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { API_ROUTES, type ApiFunction } from '../functions/api/routes';
import { AGENTS_TABLE_KEYS } from '../functions/adapters/dynamo-agent-store';
import { TASKS_TABLE_KEYS } from '../functions/adapters/dynamo-task-store';
import { HandlerFunction } from './constructs/handler-function';
import { TaskWorkflow } from './constructs/task-workflow';

export interface OrchestratorStackProps extends StackProps {
  /** CIDRs the dispatcher may reach besides public addresses (comma-separated in the functions). */
  readonly allowedAgentNetworks: string[];
  readonly allowPublicAgents: boolean;
  readonly logRetention: logs.RetentionDays;
  /** redis:// or rediss:// URL of the cache, when one is deployed. */
  readonly cacheUrl?: string;
}

const MAX_ATTEMPT_SECONDS = 300;

export class OrchestratorStack extends Stack {
  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    super(scope, id, props);

    const tasksTable = new dynamodb.Table(this, 'Tasks', {
      partitionKey: { name: TASKS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TASKS_TABLE_KEYS.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of [TASKS_TABLE_KEYS.byStatus, TASKS_TABLE_KEYS.byAgentType, TASKS_TABLE_KEYS.byMonth]) {
      tasksTable.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    const agentsTable = new dynamodb.Table(this, 'Agents', {
      partitionKey: { name: AGENTS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: AGENTS_TABLE_KEYS.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    agentsTable.addGlobalSecondaryIndex({
      indexName: AGENTS_TABLE_KEYS.byType.name,
      partitionKey: { name: AGENTS_TABLE_KEYS.byType.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AGENTS_TABLE_KEYS.byType.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    const starterTimeout = Duration.seconds(30);
    const deadLetters = new sqs.Queue(this, 'IntakeDeadLetters', { retentionPeriod: Duration.days(14), enforceSSL: true });
    const intake = new sqs.Queue(this, 'Intake', {
      visibilityTimeout: Duration.seconds(starterTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });

    const common = {
      TASKS_TABLE: tasksTable.tableName,
      AGENTS_TABLE: agentsTable.tableName,
      ALLOWED_AGENT_NETWORKS: props.allowedAgentNetworks.join(','),
      ALLOW_PUBLIC_AGENTS: String(props.allowPublicAgents),
      ...(props.cacheUrl ? { CACHE_URL: props.cacheUrl } : {}),
    };
    const logRetention = props.logRetention;

    const dispatcher = new HandlerFunction(this, 'Dispatcher', {
      entry: 'functions/handlers/dispatcher.ts',
      description: 'State machine step: select an agent, POST the task, record the outcome',
      memorySize: 512,
      timeout: Duration.seconds(MAX_ATTEMPT_SECONDS + 30),
      environment: common,
      logRetention,
    }).fn;
    tasksTable.grantReadWriteData(dispatcher);
    agentsTable.grantReadData(dispatcher);

    const workflow = new TaskWorkflow(this, 'TaskWorkflow', {
      dispatcher,
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.days(1),
      logRetention,
    });
    const stateMachine = workflow.stateMachine;

    const withWorkflow = { ...common, INTAKE_QUEUE_URL: intake.queueUrl, STATE_MACHINE_ARN: stateMachine.stateMachineArn };
    const starter = new HandlerFunction(this, 'Starter', {
      entry: 'functions/handlers/starter.ts',
      description: 'Intake queue consumer: one state machine execution per task',
      timeout: starterTimeout,
      environment: withWorkflow,
      logRetention,
    }).fn;
    tasksTable.grantReadWriteData(starter);
    stateMachine.grantStartExecution(starter);
    stateMachine.grantRead(starter);
    starter.addEventSource(new SqsEventSource(intake, { batchSize: 10, maxBatchingWindow: Duration.seconds(0), reportBatchItemFailures: true }));

    const reconciler = new HandlerFunction(this, 'Reconciler', {
      entry: 'functions/handlers/reconciler.ts',
      description: 'Puts unfinished tasks that nothing drives back on the intake queue',
      timeout: Duration.seconds(60),
      environment: withWorkflow,
      logRetention,
    }).fn;
    tasksTable.grantReadData(reconciler);
    intake.grantSendMessages(reconciler);
    new events.Rule(this, 'ReconcileSchedule', { schedule: events.Schedule.rate(Duration.minutes(1)), targets: [new targets.LambdaFunction(reconciler)] });

    const apiFunctions: Record<ApiFunction, HandlerFunction> = {
      health: new HandlerFunction(this, 'HealthApi', { entry: 'functions/handlers/api-health.ts', description: 'GET /health', timeout: Duration.seconds(5), environment: {}, logRetention }),
      agents: new HandlerFunction(this, 'AgentsApi', { entry: 'functions/handlers/api-agents.ts', description: '/agents routes', timeout: Duration.seconds(10), environment: common, logRetention }),
      tasks: new HandlerFunction(this, 'TasksApi', { entry: 'functions/handlers/api-tasks.ts', description: '/tasks routes', timeout: Duration.seconds(10), environment: withWorkflow, logRetention }),
    };
    agentsTable.grantReadWriteData(apiFunctions.agents.fn);
    agentsTable.grantReadData(apiFunctions.tasks.fn);
    tasksTable.grantReadWriteData(apiFunctions.tasks.fn);
    intake.grantSendMessages(apiFunctions.tasks.fn);
    stateMachine.grantExecution(apiFunctions.tasks.fn, 'states:StopExecution');

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const api = new HttpApi(this, 'Api', { description: 'OptiInfra Orchestrator task router', defaultAuthorizer: new HttpIamAuthorizer(), createDefaultStage: true });
    const stage = api.defaultStage!.node.defaultChild as import('aws-cdk-lib/aws-apigatewayv2').CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({ requestId: '$context.requestId', ip: '$context.identity.sourceIp', caller: '$context.identity.caller', routeKey: '$context.routeKey', status: '$context.status', latency: '$context.integrationLatency', responseLength: '$context.responseLength', error: '$context.error.message' }),
    };
    stage.defaultRouteSettings = { throttlingBurstLimit: 500, throttlingRateLimit: 1000 };
    const integrations = Object.fromEntries(Object.entries(apiFunctions).map(([name, f]) => [name, new HttpLambdaIntegration(`${name}Integration`, f.fn)]));
    for (const route of API_ROUTES) {
      api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrations[route.fn]!,
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint, description: 'Base URL of the HTTP API (SigV4-signed requests, service execute-api)' });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'IntakeDeadLetterQueueUrl', { value: deadLetters.queueUrl });
  }
}
