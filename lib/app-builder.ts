import { type App, Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AlarmThresholds } from './constructs/operations';
import type { ApiAuth } from './constructs/orchestrator-api';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { StatefulStack } from './stateful-stack';
import { type AgentRegistryOptions, type ConcurrencyOptions, StatelessStack } from './stateless-stack';
import type { WorkflowLogLevel } from './constructs/task-workflow';

export interface ExistingVpc {
  vpcId: string;
  availabilityZones: string[];
  privateSubnetIds: string[];
}

/** Everything a deployment can choose; bin/app.ts fills it from CDK context. */
export interface DeploymentOptions {
  stage: string;
  /** CIDRs agents may be in besides public addresses (a reused VPC's range, for example). */
  allowedAgentNetworks: string[];
  /** Whether agents may have public addresses; only then is a NAT gateway made. */
  allowPublicAgents: boolean;
  logRetentionDays: logs.RetentionDays;
  /** Reuse the VPC where the agents live, instead of making one. */
  vpc?: ExistingVpc;
  createVpcEndpoints: boolean;
  workflowMode: 'auto' | 'standard';
  /** What the state machines log: ERROR (default) or ALL, every state transition (~4 KB per task). */
  workflowLogLevel: WorkflowLogLevel;
  auth: ApiAuth;
  /** The API stage's steady requests per second and burst (README, "Account quotas for 1 000 tasks/s", has the arithmetic). */
  throttle: { rateLimit: number; burstLimit: number };
  /** Reserved concurrency of the API functions and the starter's maximum concurrency (0: none). */
  concurrency: ConcurrencyOptions;
  thresholds: AlarmThresholds;
  alarmTopicArn?: string;
  cacheMaxDataGb: number;
  /** Run cdk-nag's AwsSolutions checks on synth (on by default). */
  nag: boolean;
  /** The agents API's registry settings (docs/configuration.md). */
  agentRegistry: AgentRegistryOptions;
}

export const DEFAULT_DEPLOYMENT: DeploymentOptions = {
  stage: 'dev',
  allowedAgentNetworks: [],
  allowPublicAgents: true,
  logRetentionDays: logs.RetentionDays.ONE_MONTH,
  createVpcEndpoints: true,
  workflowMode: 'auto',
  workflowLogLevel: 'ERROR',
  auth: { kind: 'iam' },
  // 1 000 submits + 2 000 result reads + 1 000 heartbeats (10 000 agents every 10 s) per second, with room.
  throttle: { rateLimit: 5000, burstLimit: 5000 },
  concurrency: { reserved: { tasks: 300, agents: 100, health: 10 }, starterMaxConcurrency: 50 },
  thresholds: { failedExecutions: 1, api5xx: 5, dispatchErrors: 5, cacheFallbacks: 100 },
  cacheMaxDataGb: 1,
  nag: true,
  agentRegistry: { requireAgentTokens: false, maxAgentsPerType: 1000, maxAgentCapabilities: 50, maxAgentMetadataBytes: 4096 },
};

const STARTER_TIMEOUT = Duration.seconds(30);

/** Composes the two stacks: what keeps data (stateful) and what runs (stateless). */
export function buildOrchestrator(app: App, options: DeploymentOptions): { stateful: StatefulStack; stateless: StatelessStack } {
  const prefix = `OptiInfraOrchestrator-${options.stage}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
    description: `OptiInfra Orchestrator (${options.stage}): tables, intake queue, cache, network`,
    vpc: options.vpc
      ? ec2.Vpc.fromVpcAttributes(app, 'ExistingVpc', {
          vpcId: options.vpc.vpcId,
          availabilityZones: options.vpc.availabilityZones,
          privateSubnetIds: options.vpc.privateSubnetIds,
        })
      : undefined,
    agentsOutsideVpc: options.allowPublicAgents,
    createVpcEndpoints: options.createVpcEndpoints,
    logRetention: options.logRetentionDays,
    cacheMaxDataGb: options.cacheMaxDataGb,
    starterTimeout: STARTER_TIMEOUT,
    alarmTopicArn: options.alarmTopicArn,
  });
  const stateless = new StatelessStack(app, `${prefix}-Stateless`, {
    description: `OptiInfra Orchestrator (${options.stage}): functions, state machines, API, dashboard`,
    stateful,
    allowedAgentNetworks: options.allowedAgentNetworks,
    allowPublicAgents: options.allowPublicAgents,
    logRetention: options.logRetentionDays,
    workflowMode: options.workflowMode,
    workflowLogLevel: options.workflowLogLevel,
    auth: options.auth,
    throttle: options.throttle,
    thresholds: options.thresholds,
    starterTimeout: STARTER_TIMEOUT,
    agentRegistry: options.agentRegistry,
    concurrency: options.concurrency,
  });
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    acknowledgeNagFindings(stateful, stateless);
  }
  return { stateful, stateless };
}
