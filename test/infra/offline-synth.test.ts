/**
 * `npm run synth` needs no network: the CLI's notices and telemetry are off, and the app makes no calls.
 * It is also the one test that synthesizes with CloudFormation's built-in template validation and
 * cdk-nag as a deployment does: either failing fails the synth. And what it bundles is what the
 * project's own builds of the functions make (lib/constructs/function-bundling.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../harness/processes';
import { BUNDLE_FILE, esbuildOptionsOf } from '../../lib/constructs/function-bundling';
import { ENTRY_METADATA_KEY } from '../../lib/entry-metadata';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { definitionDigest, stateMachinesFromTemplate } from '../../local/template/state-machines';
import { synthesizedTemplate } from '../../local/template/synthesize';

describe('offline synth', () => {
  it('synthesizes both stacks with cdk-nag, attempts no outbound connection, deploys the state machines the local runtime runs and the bundles the project builds', async () => {
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

      // npm run bench:cold, npm run stack-trace and the bundle tests build each function as it deploys, byte for byte.
      const functions = Object.values(deployed.Resources).filter(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY],
      );
      expect(functions).toHaveLength(6);
      for (const fn of functions) {
        const asset = path.join(out.dir, 'cdk.out', String(fn.Metadata!['aws:asset:path']));
        const built = await build({
          ...esbuildOptionsOf(path.join(ROOT, String(fn.Metadata![ENTRY_METADATA_KEY])), path.join(out.dir, 'rebuilt')),
          absWorkingDir: ROOT,
        });
        expect(built.errors).toEqual([]);
        expect(readFileSync(path.join(out.dir, 'rebuilt', BUNDLE_FILE)).equals(readFileSync(path.join(asset, BUNDLE_FILE)))).toBe(true);
        expect(existsSync(path.join(asset, `${BUNDLE_FILE}.map`))).toBe(true);
      }
    } finally {
      out.remove();
    }
  }, 150_000);
});
