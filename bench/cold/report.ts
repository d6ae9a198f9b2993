/** The targets of `npm run bench:cold` and its table. */
import type { FunctionBundle } from './bundles';

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
  importMs: number;
  /** 0 when the function imports no SDK module. */
  floorMs: number;
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

export function formatColdReport(results: readonly ColdResult[], runs: number): { text: string; allMet: boolean } {
  let allMet = true;
  const rows = results.map(({ bundle, importMs, floorMs }) => {
    const sizeMet = bundle.bytes <= COLD_TARGETS.maxBundleBytes;
    const ratio = floorMs > 0 ? importMs / floorMs : undefined;
    const timeMet = ratio === undefined ? importMs <= COLD_TARGETS.noSdkMaxMs : ratio <= COLD_TARGETS.maxFloorRatio;
    allMet &&= sizeMet && timeMet;
    return [
      bundle.name,
      kb(bundle.bytes),
      sizeMet ? 'yes' : 'NO',
      ms(importMs),
      floorMs > 0 ? ms(floorMs) : '-',
      ratio === undefined ? `(≤ ${COLD_TARGETS.noSdkMaxMs} ms)` : `${ratio.toFixed(2)}×`,
      timeMet ? 'yes' : 'NO',
      largest(bundle.packages, 3),
    ];
  });
  const header = ['function', 'bundle', 'size ok', `import (median of ${runs})`, 'SDK floor', 'ratio', 'time ok', 'largest parts'];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const text = table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
  const sdk = results.map(({ bundle }) => `${bundle.name}: ${bundle.sdkImports.join(', ') || 'none'}`).join('\n');
  return { text: `${text}\n\nSDK modules each function imports from the runtime (the floor):\n${sdk}`, allMet };
}
