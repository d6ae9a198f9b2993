import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { MAX_WAIT_SECONDS } from '@optiinfra/contract';
import type { Construct } from 'constructs';
import type { ApiFunction } from '../functions/api/routes';
import { TASK_DEFAULTS } from '../functions/core/task-model';
import { HandlerFunction } from './constructs/handler-function';
import { type AlarmThresholds, Operations } from './constructs/operations';
import { type ApiAuth, OrchestratorApi } from './constructs/orchestrator-api';
import { TaskWorkflow, type WorkflowLogLevel } from './constructs/task-workflow';
import type { StatefulStack } from './stateful-stack';

/**
 * A waiting read (GET /tasks/{id}?wait=N) holds the tasks function up to MAX_WAIT_SECONDS, then reads
 * the task again; its cache and table calls give up within 1.5 s each, so it answers within this,
 * before the API's integration (API_INTEGRATION_TIMEOUT_SECONDS) gives up on it.
 */
export const TASKS_API_TIMEOUT_SECONDS = MAX_WAIT_SECONDS + 5;

/** REQUIRE_AGENT_TOKENS, MAX_AGENTS_PER_TYPE, MAX_AGENT_CAPABILITIES and MAX_AGENT_METADATA_BYTES of the agents API. */
export interface AgentRegistryOptions {
  requireAgentTokens: boolean;
  maxAgentsPerType: number;
  maxAgentCapabilities: number;
  maxAgentMetadataBytes: number;
}

/**
 * What keeps a dispatch burst from starving the API: concurrency reserved for each API function (0:
 * none), and a ceiling on the starter's concurrent batches (0: none), which bounds how fast new
 * executions, and so dispatcher invocations, can pile up.
 */
export interface ConcurrencyOptions {
  reserved: Record<ApiFunction, number>;
  starterMaxConcurrency: number;
}

export interface StatelessStackProps extends StackProps {
  readonly stateful: StatefulStack;
  readonly allowedAgentNetworks: string[];
  readonly allowPublicAgents: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly workflowMode: 'auto' | 'standard';
  readonly workflowLogLevel: WorkflowLogLevel;
  readonly auth: ApiAuth;
  readonly throttle: { rateLimit: number; burstLimit: number };
  readonly thresholds: AlarmThresholds;
  readonly starterTimeout: Duration;
  readonly agentRegistry: AgentRegistryOptions;
  readonly concurrency: ConcurrencyOptions;
}

/** What runs: the functions, both state machines, the API, the schedule and the dashboard. */
export class StatelessStack extends Stack {
  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { tables, intake, cache, network } = props.stateful;
    const logRetention = props.logRetention;
    const common = {
      TASKS_TABLE: tables.tasks.tableName,
      AGENTS_TABLE: tables.agents.tableName,
      ALLOWED_AGENT_NETWORKS: props.allowedAgentNetworks.join(','),
      ALLOW_PUBLIC_AGENTS: String(props.allowPublicAgents),
    };
    // The cache is never an agent: CACHE_URL's host and port are denied by the functions, the reader endpoint here.
    // ElastiCache Serverless is cluster-mode only: CACHE_CLUSTER makes the functions follow its slot map.
    const withCache = { ...common, CACHE_URL: cache.url, CACHE_CLUSTER: 'true', DENIED_AGENT_TARGETS: cache.readerTarget };

    const dispatcher = new HandlerFunction(this, 'Dispatcher', {
      entry: 'functions/handlers/dispatcher.ts',
      description: 'State machine step: select an agent, POST the task, record the outcome',
      memorySize: 512,
      timeout: Duration.seconds(TASK_DEFAULTS.maxSyncWaitSeconds + 30),
      environment: { ...withCache, INTAKE_QUEUE_URL: intake.queue.queueUrl },
      logRetention,
      network,
    }).fn;
    // A task by key and its attempts' updates; a type's agents (by the index) and an agent by id.
    tables.grantTasks(dispatcher, 'GetItem', 'UpdateItem');
    tables.grantAgents(dispatcher, 'GetItem', 'Query');
    intake.queue.grantSendMessages(dispatcher);

    const standard = new TaskWorkflow(this, 'StandardWorkflow', {
      dispatcher,
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.days(7),
      logRetention,
      logLevel: props.workflowLogLevel,
    }).stateMachine;
    const express = new TaskWorkflow(this, 'ExpressWorkflow', {
      dispatcher,
      stateMachineType: sfn.StateMachineType.EXPRESS,
      timeout: Duration.minutes(5),
      logRetention,
      logLevel: props.workflowLogLevel,
    }).stateMachine;
    const workflowEnv = {
      STATE_MACHINE_ARN: standard.stateMachineArn,
      EXPRESS_STATE_MACHINE_ARN: express.stateMachineArn,
      WORKFLOW_MODE: props.workflowMode,
    };

    const starter = new HandlerFunction(this, 'Starter', {
      entry: 'functions/handlers/starter.ts',
      description: 'Intake queue consumer: one state machine execution per task',
      timeout: props.starterTimeout,
      environment: { ...common, ...workflowEnv },
      logRetention,
    }).fn;
    // It reads a task to drive it again; a first start neither reads nor writes it.
    tables.grantTasks(starter, 'GetItem');
    standard.grantStartExecution(starter);
    express.grantStartExecution(starter);
    standard.grantExecution(starter, 'states:DescribeExecution');
    starter.addEventSource(
      new SqsEventSource(intake.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(0),
        reportBatchItemFailures: true,
        maxConcurrency: props.concurrency.starterMaxConcurrency || undefined,
      }),
    );

    const reconciler = new HandlerFunction(this, 'Reconciler', {
      entry: 'functions/handlers/reconciler.ts',
      description: 'Puts unfinished tasks that nothing drives back on the intake queue, and fails waiters past their queue timeout',
      timeout: Duration.seconds(60),
      // The cache says which tasks are parked (woken by a freed slot, not by the reconciler) and which are overdue.
      environment: { ...withCache, INTAKE_QUEUE_URL: intake.queue.queueUrl },
      logRetention,
      network,
    }).fn;
    // Unfinished tasks from the open index, then their states in batches; an overdue accepted attempt is
    // read, ended with a conditional update, and its agent read to wake the tasks waiting for its slot.
    tables.grantTasks(reconciler, 'Query', 'BatchGetItem', 'GetItem', 'UpdateItem');
    tables.grantAgents(reconciler, 'GetItem');
    intake.queue.grantSendMessages(reconciler);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Drive unfinished tasks that nothing is driving',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(reconciler)],
    });

    const reserved = (fn: ApiFunction) => props.concurrency.reserved[fn] || undefined;
    const health = new HandlerFunction(this, 'HealthApi', {
      entry: 'functions/handlers/api-health.ts',
      description: 'GET /health',
      timeout: Duration.seconds(5),
      environment: {},
      logRetention,
      reservedConcurrency: reserved('health'),
    }).fn;
    const agentsApi = new HandlerFunction(this, 'AgentsApi', {
      entry: 'functions/handlers/api-agents.ts',
      description: '/agents routes',
      timeout: Duration.seconds(10),
      environment: {
        ...withCache,
        FLEET_TOKENS_SECRET_ARN: props.stateful.fleetTokens.secretArn,
        REQUIRE_AGENT_TOKENS: String(props.agentRegistry.requireAgentTokens),
        MAX_AGENTS_PER_TYPE: String(props.agentRegistry.maxAgentsPerType),
        MAX_AGENT_CAPABILITIES: String(props.agentRegistry.maxAgentCapabilities),
        MAX_AGENT_METADATA_BYTES: String(props.agentRegistry.maxAgentMetadataBytes),
        // A new agent or a heartbeat wakes tasks parked for free slots: they start through the intake queue.
        INTAKE_QUEUE_URL: intake.queue.queueUrl,
      },
      logRetention,
      network,
      reservedConcurrency: reserved('agents'),
    }).fn;
    // Registration and heartbeats update items (no PutItem); GET /agents without a type scans;
    // a type's offers summary is deleted once its last capability goes.
    tables.grantAgents(agentsApi, 'GetItem', 'Query', 'Scan', 'UpdateItem', 'DeleteItem');
    intake.queue.grantSendMessages(agentsApi);
    props.stateful.fleetTokens.grantRead(agentsApi);
    const tasksApi = new HandlerFunction(this, 'TasksApi', {
      entry: 'functions/handlers/api-tasks.ts',
      description: '/tasks routes',
      timeout: Duration.seconds(TASKS_API_TIMEOUT_SECONDS),
      environment: {
        ...withCache,
        ...workflowEnv,
        INTAKE_QUEUE_URL: intake.queue.queueUrl,
        IDEMPOTENCY_TABLE: tables.idempotency.tableName,
      },
      logRetention,
      network,
      reservedConcurrency: reserved('tasks'),
    }).fn;
    tables.grantIdempotencyReadWrite(tasksApi);
    // A submit reads a type's offers summary, and rebuilds it (update, or delete once empty) when a
    // live agent offers what it no longer lists; listings query the indexes and batch-read states.
    tables.grantAgents(tasksApi, 'GetItem', 'Query', 'UpdateItem', 'DeleteItem');
    tables.grantTasks(tasksApi, 'GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem');
    intake.queue.grantSendMessages(tasksApi);
    standard.grantExecution(tasksApi, 'states:StopExecution');

    const apiFunctions: Record<ApiFunction, typeof health> = { health, agents: agentsApi, tasks: tasksApi };
    const { api } = new OrchestratorApi(this, 'Api', { functions: apiFunctions, auth: props.auth, throttle: props.throttle, logRetention });
    // Deliveries tell agents where to report (POST /tasks/{id}/result) when they accept with 202.
    dispatcher.addEnvironment('PUBLIC_API_URL', api.apiEndpoint);

    new Operations(this, 'Operations', {
      api,
      intake: intake.queue,
      deadLetters: intake.deadLetters,
      deadLetterAlarm: intake.deadLetterAlarm,
      stateMachines: { express, standard },
      functions: { dispatcher, starter, reconciler, health, agentsApi, tasksApi },
      dispatcher,
      thresholds: props.thresholds,
      alarmTopic: props.stateful.alarmTopic,
    });

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'StandardStateMachineArn', { value: standard.stateMachineArn });
    new CfnOutput(this, 'ExpressStateMachineArn', { value: express.stateMachineArn });
    new CfnOutput(this, 'IntakeDeadLetterQueueUrl', { value: intake.deadLetters.queueUrl });
  }
}
