import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { NODE, ROOT, tempDir } from '../../harness/processes';

/**
 * Runs the deployment's own entry point (bin/app.ts, what `cdk synth` and `cdk deploy` run) into a
 * temporary cloud assembly and returns its template. Bundling is skipped: it does not change templates' logic.
 */
export function synthesizeDeployedTemplate(context: Record<string, unknown> = {}): CfnTemplate {
  const out = tempDir('optiinfra-cdk-');
  try {
    execFileSync(NODE, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: out.dir,
        CDK_CONTEXT_JSON: JSON.stringify({
          'aws:cdk:bundling-stacks': [],
          '@aws-cdk/core:defaultCrossStackReferences': 'strong',
          ...context,
        }),
      },
      stdio: 'pipe',
    });
    const files = readdirSync(out.dir).filter((f) => f.endsWith('.template.json'));
    if (files.length === 0) throw new Error('bin/app.ts wrote no template');
    const merged: CfnTemplate = { Resources: {} };
    for (const file of files)
      Object.assign(merged.Resources, (JSON.parse(readFileSync(path.join(out.dir, file), 'utf8')) as CfnTemplate).Resources);
    return merged;
  } finally {
    out.remove();
  }
}
