import { App } from 'aws-cdk-lib';
import { buildOrchestrator, DEFAULT_DEPLOYMENT, type DeploymentOptions } from '../lib/app-builder';

/** The only place that reads CDK context: `cdk deploy -c stage=prod -c allowedAgentNetworks=10.0.0.0/16`. */
const app = new App();
const ctx = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
};
const list = (key: string): string[] | undefined => ctx(key)?.split(',').map((s) => s.trim()).filter(Boolean);

const options: DeploymentOptions = {
  stage: ctx('stage') ?? DEFAULT_DEPLOYMENT.stage,
  allowedAgentNetworks: list('allowedAgentNetworks') ?? DEFAULT_DEPLOYMENT.allowedAgentNetworks,
  allowPublicAgents: (ctx('allowPublicAgents') ?? String(DEFAULT_DEPLOYMENT.allowPublicAgents)) === 'true',
  logRetentionDays: Number(ctx('logRetentionDays') ?? DEFAULT_DEPLOYMENT.logRetentionDays),
  cacheUrl: ctx('cacheUrl'),
};
buildOrchestrator(app, options);
app.synth();
