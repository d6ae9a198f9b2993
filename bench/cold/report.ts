/** The targets of `npm run bench:cold` and its table. */
import type { FunctionBundle } from './bundles';
import type { ImportTime } from './import-time';

export const COLD_TARGETS = {
  /** Minified bundle, source map not counted. */
  maxBundleBytes: 250_000,
  /** Import time over the import of the AWS SDK modules the function needs. */
  maxFloorRatio: 1.5,
  /** A function that needs no SDK module (the health check). */
  noSdkMaxMs: 20,
};

export interface ColdResult {
  bundle: FunctionBundle;
  /** Medians over the runs. */
  import: ImportTime;
  /** Zero when the function imports no SDK module. */
  floor: ImportTime;
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function largest(packages: Map<string, number>, n: number): string {
  return [...packages]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(', ');
}

/** Whether a result meets the size and import-time targets; import time is judged on CPU time. */
export function verdict({ bundle, import: time, floor }: ColdResult): { size: boolean; time: boolean; ratio?: number } {
  const size = bundle.bytes <= COLD_TARGETS.maxBundleBytes;
  if (floor.cpuMs === 0) return { size, time: time.cpuMs <= COLD_TARGETS.noSdkMaxMs };
  const ratio = time.cpuMs / floor.cpuMs;
  return { size, time: ratio <= COLD_TARGETS.maxFloorRatio, ratio };
}

export function formatColdReport(results: readonly ColdResult[], runs: number): { text: string; allMet: boolean } {
  let allMet = true;
  const rows = results.map((result) => {
    const { bundle, import: time, floor } = result;
    const met = verdict(result);
    allMet &&= met.size && met.time;
    return [
      bundle.name,
      kb(bundle.bytes),
      met.size ? 'yes' : 'NO',
      ms(time.cpuMs),
      floor.cpuMs > 0 ? ms(floor.cpuMs) : '-',
      met.ratio === undefined ? `(≤ ${COLD_TARGETS.noSdkMaxMs} ms)` : `${met.ratio.toFixed(2)}×`,
      met.time ? 'yes' : 'NO',
      `${ms(time.wallMs)} / ${floor.wallMs > 0 ? ms(floor.wallMs) : '-'}`,
      largest(bundle.packages, 3),
    ];
  });
  const header = [
    'function',
    'bundle',
    '≤ 250 KB',
    'import CPU',
    'SDK floor CPU',
    'ratio',
    'time ok',
    'elapsed: import / floor',
    'largest parts',
  ];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const text = table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
  const sdk = results.map(({ bundle }) => `  ${bundle.name}: ${bundle.sdkImports.join(', ') || 'none'}`).join('\n');
  return {
    text: `Medians of ${runs} fresh processes each.\n${text}\n\nThe floor: a fresh process importing only the SDK modules the bundle leaves to the runtime:\n${sdk}`,
    allMet,
  };
}
