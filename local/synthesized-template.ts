import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildOrchestrator, DEFAULT_DEPLOYMENT } from '../lib/app-builder';

export type CfnTemplate = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
};

/**
 * Synthesizes the deployment's CloudFormation template in-process, exactly as `cdk synth` does but
 * without bundling the functions (the local runtime runs their sources). The local runtime takes its
 * tables, queues and state machine definition from this template, so what runs here is what deploys.
 */
export function synthesizeTemplate(): CfnTemplate {
  const outdir = mkdtempSync(path.join(tmpdir(), 'optiinfra-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildOrchestrator(app, { ...DEFAULT_DEPLOYMENT, nag: false });
    const assembly = app.synth();
    // One machine runs both stacks: their resources side by side (cross-stack references are not followed).
    const merged: CfnTemplate = { Resources: {} };
    for (const stack of [stacks.stateful, stacks.stateless])
      Object.assign(merged.Resources, (assembly.getStackByName(stack.stackName).template as CfnTemplate).Resources);
    return merged;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
