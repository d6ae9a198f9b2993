/**
 * How long a fresh Node process takes to import a module, as a Lambda cold start does before the
 * first invocation: timed inside the process, around the dynamic import alone. Both the elapsed
 * time and the process's CPU time are taken: on a machine busy with other work the elapsed time
 * counts that work too, the CPU time does not.
 */
import { spawnSync } from 'node:child_process';
import { NODE } from '../../harness/processes';

const SCRIPT = `
const cpu = process.cpuUsage();
const started = performance.now();
for (const specifier of JSON.parse(process.env.IMPORT_SPECIFIERS)) await import(specifier);
const wall = performance.now() - started;
const used = process.cpuUsage(cpu);
process.stdout.write('\\nimport-ms ' + wall + ' ' + (used.user + used.system) / 1000 + '\\n');
process.exit(0);
`;

export interface ImportTime {
  wallMs: number;
  cpuMs: number;
}

/** Time to import `specifiers` (bare names resolve from `cwd`) in a fresh process with `env` only. */
export function importTime(specifiers: readonly string[], cwd: string, env: Record<string, string>): ImportTime {
  const run = spawnSync(NODE, ['--input-type=module', '--eval', SCRIPT], {
    cwd,
    env: { ...env, IMPORT_SPECIFIERS: JSON.stringify(specifiers) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  // What the module itself prints (a warning at cold start) comes before the line.
  const [, wall, cpu] = /^import-ms (\S+) (\S+)$/m.exec(run.stdout) ?? [];
  const time = { wallMs: Number(wall), cpuMs: Number(cpu) };
  if (run.status !== 0 || !Number.isFinite(time.wallMs) || !Number.isFinite(time.cpuMs)) {
    throw new Error(`importing ${specifiers.join(', ')} failed (exit ${run.status}): ${run.stderr.slice(0, 2000)}`);
  }
  return time;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
