/**
 * How every function is bundled: the one definition that HandlerFunction deploys and that
 * `npm run bench:cold` and the bundle tests build with, so what is measured is what deploys.
 */
import path from 'node:path';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '@optiinfra/contract';
import type { BuildOptions } from 'esbuild';

/** `@aws-sdk/*` stays out of the bundles: the Node 22 Lambda runtime provides it. */
export const FUNCTION_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  // A map beside each bundle, without the sources (the commit has them), and not loaded at start:
  // NODE_OPTIONS has no --enable-source-maps. `npm run stack-trace` reads a stack trace with it.
  sourceMap: true,
  sourcesContent: false,
  externalModules: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
} as const satisfies BundlingOptions;

/** Environment every function gets besides its own settings. */
export const FUNCTION_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
} as const;

/** The file name CDK gives an ESM bundle in the asset. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * The esbuild build that CDK's NodejsFunction runs for FUNCTION_BUNDLING (its local bundling turns
 * each option into the matching esbuild CLI flag). The deployed asset and this build are compared
 * byte for byte by test/infra/offline-synth.test.ts.
 */
export function esbuildOptionsOf(entry: string, outdir: string): BuildOptions & { outfile: string } {
  const b: BundlingOptions = FUNCTION_BUNDLING;
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: b.target,
    format: b.format,
    outfile: path.join(outdir, BUNDLE_FILE),
    minify: b.minify,
    sourcemap: b.sourceMap,
    sourcesContent: b.sourcesContent,
    external: [...(b.externalModules ?? [])],
    mainFields: [...(b.mainFields ?? [])],
    ...(b.banner ? { banner: { js: b.banner } } : {}),
    logLevel: 'silent',
  };
}
