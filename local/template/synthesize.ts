/**
 * The deployment's CloudFormation template, synthesized in-process exactly as `cdk synth` does but
 * without bundling the functions (the local runtime runs their sources). The local runtime takes its
 * tables, queues and state machine definitions from it, so what runs here is what deploys.
 *
 * Synthesis costs seconds of CPU (importing aws-cdk-lib alone takes most of it), and every start of
 * the runtime needs it. The template is kept in node_modules/.cache/optiinfra under a digest of
 * everything it is made from (the CDK app, the code it imports, the locked dependency versions), so
 * it is synthesized again exactly when one of those changed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CfnTemplate } from './cfn-template';
import { LOCAL_CACHE_DIR as CACHE_DIR } from '../cache-dir';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** What the template is made from: lib/ builds it and imports functions/ (routes, table keys, limits). */
const INPUTS = ['lib', 'functions', 'local/template/synthesize.ts', 'package-lock.json'];

function filesUnder(relative: string): string[] {
  const absolute = path.join(ROOT, relative);
  return readdirSync(absolute, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

function inputFiles(): string[] {
  // A folder lists its files; a file (readdirSync throws ENOTDIR) stands for itself.
  return INPUTS.flatMap((input) => {
    try {
      return filesUnder(input);
    } catch {
      return [input];
    }
  });
}

/** A digest of every input of the synthesis; equal digests synthesize equal templates. */
export function templateDigest(): string {
  const hash = createHash('sha256');
  for (const file of inputFiles())
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(ROOT, file)))
      .update('\0');
  hash.update(process.version).update(process.env.CDK_CONTEXT_JSON ?? '');
  return hash.digest('hex').slice(0, 32);
}

/** What the local runtime chooses of the deployment: the network follows ALLOW_PUBLIC_AGENTS, as `-c allowPublicAgents` does on AWS. */
export interface LocalDeployment {
  /** false (the local default): isolated subnets, no NAT, the VPC functions reach AWS only through the template's endpoints. */
  allowPublicAgents: boolean;
}

/**
 * The template of the current sources: from the cache when nothing it is made from changed, else
 * synthesized (and cached). Private mode by default, as `npm start` runs (ALLOW_PUBLIC_AGENTS=false).
 */
export async function synthesizedTemplate(deployment: LocalDeployment = { allowPublicAgents: false }): Promise<CfnTemplate> {
  const digest = createHash('sha256').update(templateDigest()).update(JSON.stringify(deployment)).digest('hex').slice(0, 32);
  const file = path.join(CACHE_DIR, `template-${digest}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
  } catch {
    // Not cached yet (or unreadable): synthesize.
  }
  const template = await synthesize(deployment);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    for (const old of readdirSync(CACHE_DIR))
      if (old.startsWith('template-') && !old.startsWith(`template-${digest}`)) rmSync(path.join(CACHE_DIR, old), { force: true });
    // Written aside and renamed, so a process starting at the same moment never reads half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(template));
    renameSync(partial, file);
  } catch {
    // The cache only saves time: a read-only node_modules just means synthesizing every time.
  }
  return template;
}

async function synthesize(deployment: LocalDeployment): Promise<CfnTemplate> {
  const [{ App }, { buildOrchestrator, DEFAULT_DEPLOYMENT }] = await Promise.all([import('aws-cdk-lib'), import('../../lib/app-builder')]);
  const outdir = mkdtempSync(path.join(tmpdir(), 'optiinfra-synth-'));
  try {
    // CloudFormation's template validation is the deployment's check (cdk synth runs it); skipping it here saves seconds.
    const app = new App({ outdir, builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildOrchestrator(app, { ...DEFAULT_DEPLOYMENT, ...deployment, nag: false });
    const assembly = app.synth();
    // One machine runs both stacks: their resources side by side, and the outputs one stack exports to the other.
    const merged: CfnTemplate = { Resources: {}, Outputs: {} };
    for (const stack of [stacks.stateful, stacks.stateless]) {
      const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
      Object.assign(merged.Resources, template.Resources);
      for (const [key, output] of Object.entries(template.Outputs ?? {})) merged.Outputs![`${stack.stackName}.${key}`] = output;
    }
    return merged;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
