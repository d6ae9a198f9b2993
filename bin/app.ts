import { App } from 'aws-cdk-lib';
import { buildOrchestrator, DEFAULT_DEPLOYMENT, type DeploymentOptions } from '../lib/app-builder';
import { WORKFLOW_LOG_LEVELS, type WorkflowLogLevel } from '../lib/constructs/task-workflow';

/**
 * The only place that reads CDK context, for example:
 *   npx cdk deploy --all -c stage=prod -c allowedAgentNetworks=10.20.0.0/16 -c allowPublicAgents=false \
 *     -c vpcId=vpc-0abc -c vpcAzs=eu-west-1a,eu-west-1b -c vpcPrivateSubnetIds=subnet-1,subnet-2
 */
const app = new App();
const ctx = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
};
const list = (key: string): string[] | undefined =>
  ctx(key)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const num = (key: string, fallback: number): number => {
  const raw = ctx(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`context ${key} must be a non-negative number, got "${raw}"`);
  return n;
};
const count = (key: string, fallback: number): number => {
  const n = num(key, fallback);
  if (!Number.isInteger(n)) throw new Error(`context ${key} must be a whole number, got "${ctx(key)}"`);
  return n;
};
const bool = (key: string, fallback: boolean): boolean => {
  const raw = ctx(key);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new Error(`context ${key} must be true or false, got "${raw}"`);
  return raw === 'true';
};

const d = DEFAULT_DEPLOYMENT;
const vpcId = ctx('vpcId');
const workflow = ctx('workflow') ?? d.workflowMode;
if (workflow !== 'auto' && workflow !== 'standard') throw new Error(`context workflow must be auto or standard, got "${workflow}"`);
const jwtIssuer = ctx('jwtIssuer');
const workflowLogLevel = ctx('workflowLogLevel') ?? d.workflowLogLevel;
if (!(WORKFLOW_LOG_LEVELS as readonly string[]).includes(workflowLogLevel))
  throw new Error(`context workflowLogLevel must be ${WORKFLOW_LOG_LEVELS.join(' or ')}, got "${workflowLogLevel}"`);

const options: DeploymentOptions = {
  stage: ctx('stage') ?? d.stage,
  allowedAgentNetworks: list('allowedAgentNetworks') ?? d.allowedAgentNetworks,
  allowPublicAgents: bool('allowPublicAgents', d.allowPublicAgents),
  logRetentionDays: num('logRetentionDays', d.logRetentionDays),
  vpc: vpcId ? { vpcId, availabilityZones: list('vpcAzs') ?? [], privateSubnetIds: list('vpcPrivateSubnetIds') ?? [] } : undefined,
  createVpcEndpoints: bool('createVpcEndpoints', d.createVpcEndpoints),
  workflowMode: workflow,
  workflowLogLevel: workflowLogLevel as WorkflowLogLevel,
  auth: jwtIssuer ? { kind: 'jwt', issuer: jwtIssuer, audience: list('jwtAudience') ?? [] } : d.auth,
  throttle: { rateLimit: num('throttleRate', d.throttle.rateLimit), burstLimit: count('throttleBurst', d.throttle.burstLimit) },
  concurrency: {
    reserved: {
      tasks: count('tasksApiConcurrency', d.concurrency.reserved.tasks),
      agents: count('agentsApiConcurrency', d.concurrency.reserved.agents),
      health: count('healthApiConcurrency', d.concurrency.reserved.health),
    },
    starterMaxConcurrency: count('starterMaxConcurrency', d.concurrency.starterMaxConcurrency),
  },
  thresholds: {
    failedExecutions: num('alarmFailedExecutions', d.thresholds.failedExecutions),
    api5xx: num('alarmApi5xx', d.thresholds.api5xx),
    dispatchErrors: num('alarmDispatchErrors', d.thresholds.dispatchErrors),
    cacheFallbacks: num('alarmCacheFallbacks', d.thresholds.cacheFallbacks),
  },
  alarmTopicArn: ctx('alarmTopicArn'),
  cacheMaxDataGb: num('cacheMaxDataGb', d.cacheMaxDataGb),
  nag: bool('nag', d.nag),
  agentRegistry: {
    requireAgentTokens: bool('requireAgentTokens', d.agentRegistry.requireAgentTokens),
    maxAgentsPerType: num('maxAgentsPerType', d.agentRegistry.maxAgentsPerType),
    maxAgentCapabilities: num('maxAgentCapabilities', d.agentRegistry.maxAgentCapabilities),
    maxAgentMetadataBytes: num('maxAgentMetadataBytes', d.agentRegistry.maxAgentMetadataBytes),
  },
};
if (options.concurrency.starterMaxConcurrency === 1 || options.concurrency.starterMaxConcurrency > 1000)
  throw new Error(`context starterMaxConcurrency must be 0 (no limit) or from 2 to 1000, got ${options.concurrency.starterMaxConcurrency}`);
if (
  options.vpc &&
  (options.vpc.availabilityZones.length === 0 || options.vpc.privateSubnetIds.length !== options.vpc.availabilityZones.length)
) {
  throw new Error('with vpcId, give vpcAzs and vpcPrivateSubnetIds (one subnet per availability zone, comma-separated)');
}
buildOrchestrator(app, options);
app.synth();
