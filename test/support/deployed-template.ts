import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { CfnTemplate } from '../../local/stand-ins/asl-from-template';
import { NODE, ROOT, tempDir } from './processes';

/**
 * Runs the deployment's own entry point (bin/app.ts, what `cdk synth` and `cdk deploy` run) into a
 * temporary cloud assembly and returns its template. Bundling is skipped: it does not change templates' logic.
 */
export function synthesizeDeployedTemplate(context: Record<string, unknown> = {}): CfnTemplate {
  const out = tempDir('optiinfra-cdk-');
  try {
    execFileSync(NODE, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: ROOT,
      env: { ...process.env, CDK_OUTDIR: out.dir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }) },
      stdio: 'pipe',
    });
    const file = readdirSync(out.dir).find((f) => f.endsWith('.template.json'));
    if (!file) throw new Error('bin/app.ts wrote no template');
    return JSON.parse(readFileSync(path.join(out.dir, file), 'utf8')) as CfnTemplate;
  } finally {
    out.remove();
  }
}
