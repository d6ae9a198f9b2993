import { App, type Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { OrchestratorStack } from './orchestrator-stack';

export interface DeploymentOptions {
  stage: string;
  allowedAgentNetworks: string[];
  allowPublicAgents: boolean;
  logRetentionDays: logs.RetentionDays;
  cacheUrl?: string;
}

export const DEFAULT_DEPLOYMENT: DeploymentOptions = {
  stage: 'dev',
  allowedAgentNetworks: [],
  allowPublicAgents: true,
  logRetentionDays: logs.RetentionDays.ONE_MONTH,
};

/** Composes the stacks; bin/app.ts passes options read from context, the local runtime the defaults. */
export function buildOrchestrator(app: App, options: DeploymentOptions): { orchestrator: Stack } {
  const orchestrator = new OrchestratorStack(app, `OptiInfraOrchestrator-${options.stage}`, {
    allowedAgentNetworks: options.allowedAgentNetworks,
    allowPublicAgents: options.allowPublicAgents,
    logRetention: options.logRetentionDays,
    cacheUrl: options.cacheUrl,
    description: `OptiInfra Orchestrator (${options.stage}): task router for agents`,
  });
  return { orchestrator };
}
