/**
 * `npm run synth` needs no network: the CLI's notices and telemetry are off, and the app makes no calls.
 * It is also the one test that synthesizes with CloudFormation's built-in template validation and
 * cdk-nag as a deployment does: either failing fails the synth.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../harness/processes';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { definitionDigest, stateMachinesFromTemplate } from '../../local/template/state-machines';
import { synthesizedTemplate } from '../../local/template/synthesize';

describe('offline synth', () => {
  it('synthesizes both stacks with cdk-nag, attempts no outbound connection, and deploys the state machines the local runtime runs', async () => {
    const out = tempDir('optiinfra-synth-');
    const record = path.join(out.dir, 'network.log');
    try {
      execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--output', path.join(out.dir, 'cdk.out')], {
        cwd: ROOT,
        env: {
          ...process.env,
          PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
          NODE_OPTIONS: `--require ${path.join(ROOT, 'test', 'support', 'record-network.cjs')}`,
          RECORD_NETWORK_FILE: record,
        },
        stdio: 'pipe',
        timeout: 120_000,
      });
      const templates = readdirSync(path.join(out.dir, 'cdk.out')).filter((f) => f.endsWith('.template.json'));
      expect(templates.sort()).toEqual([
        'OptiInfraOrchestrator-dev-Stateful.template.json',
        'OptiInfraOrchestrator-dev-Stateless.template.json',
      ]);
      expect(existsSync(record) ? readFileSync(record, 'utf8') : '').toBe('');

      // The local runtime runs the state machines of its own in-process synthesis: the same definitions as deploy.
      const deployed: CfnTemplate = { Resources: {} };
      for (const file of templates) {
        Object.assign(deployed.Resources, (JSON.parse(readFileSync(path.join(out.dir, 'cdk.out', file), 'utf8')) as CfnTemplate).Resources);
      }
      const digests = (template: CfnTemplate) =>
        stateMachinesFromTemplate(template)
          .map((m) => `${m.stateMachineType} ${definitionDigest(m.definition)}`)
          .sort();
      expect(digests(await synthesizedTemplate())).toEqual(digests(deployed));
      expect(digests(deployed)).toHaveLength(2);
    } finally {
      out.remove();
    }
  }, 150_000);
});
