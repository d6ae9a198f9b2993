/**
 * `npm run bench:cold`: each function's bundle as it deploys, its size, and how long a fresh Node
 * process takes to import it (a Lambda cold start's module load), next to the floor: a fresh
 * process importing only the AWS SDK modules the bundle leaves to the runtime.
 *
 *   npm run bench:cold                     # every function, 10 processes each
 *   npm run bench:cold -- --runs 20 api-health starter
 *
 * Exits 1 when a function misses a target.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../harness/processes';
import { buildFunctionBundles, functionNames } from './cold/bundles';
import { coldStartEnv } from './cold/lambda-env';
import { type ImportTime, importTime, median } from './cold/import-time';
import { COLD_TARGETS, formatColdReport, type ColdResult } from './cold/report';

const { values, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, help: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const known = functionNames();
if (values.help) {
  console.log(`usage: npm run bench:cold -- [--runs 10] [${known.join(' | ')} ...]`);
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  console.error(`--runs must be a whole number from 1 to 100, got "${values.runs}"`);
  process.exit(2);
}
const unknown = positionals.filter((p) => !known.includes(p));
if (unknown.length > 0) {
  console.error(`no function ${unknown.join(', ')}; the functions are ${known.join(', ')}`);
  process.exit(2);
}

const out = tempDir('optiinfra-cold-');
try {
  const bundles = await buildFunctionBundles(out.dir, positionals.length > 0 ? positionals : known);
  const results: ColdResult[] = [];
  for (const bundle of bundles) {
    const env = coldStartEnv(bundle.name);
    const bundleRuns: ImportTime[] = [];
    const floorRuns: ImportTime[] = [];
    // Alternated, so that whatever else loads the machine weighs on both alike.
    for (let i = 0; i < runs; i++) {
      bundleRuns.push(importTime([path.join(out.dir, bundle.name, 'index.mjs')], out.dir, env));
      floorRuns.push(bundle.sdkImports.length > 0 ? importTime(bundle.sdkImports, out.dir, env) : { wallMs: 0, cpuMs: 0 });
    }
    const medians = (times: ImportTime[]): ImportTime => ({
      wallMs: median(times.map((t) => t.wallMs)),
      cpuMs: median(times.map((t) => t.cpuMs)),
    });
    results.push({ bundle, import: medians(bundleRuns), floor: medians(floorRuns) });
  }
  const report = formatColdReport(results, runs);
  console.log(report.text);
  process.exitCode = report.allMet ? 0 : 1;
} finally {
  out.remove();
}
console.error(
  `targets: bundle ≤ ${COLD_TARGETS.maxBundleBytes / 1000} KB; import ≤ ${COLD_TARGETS.maxFloorRatio}× the SDK floor; with no SDK import ≤ ${COLD_TARGETS.noSdkMaxMs} ms`,
);
