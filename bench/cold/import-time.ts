/**
 * How long a fresh Node process takes to import a module, as a Lambda cold start does before the
 * first invocation: timed inside the process, around the dynamic import alone.
 */
import { spawnSync } from 'node:child_process';
import { NODE } from '../../harness/processes';

const SCRIPT = `
const started = performance.now();
for (const specifier of JSON.parse(process.env.IMPORT_SPECIFIERS)) await import(specifier);
process.stdout.write(String(performance.now() - started));
process.exit(0);
`;

/** Milliseconds to import `specifiers` (bare names resolve from `cwd`) in a fresh process with `env` only. */
export function importMilliseconds(specifiers: readonly string[], cwd: string, env: Record<string, string>): number {
  const run = spawnSync(NODE, ['--input-type=module', '--eval', SCRIPT], {
    cwd,
    env: { ...env, IMPORT_SPECIFIERS: JSON.stringify(specifiers) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(run.stdout);
  if (run.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(`importing ${specifiers.join(', ')} failed (exit ${run.status}): ${run.stderr.slice(0, 2000)}`);
  }
  return ms;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
