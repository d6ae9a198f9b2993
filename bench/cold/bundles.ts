/**
 * Builds every function's bundle as it deploys (lib/constructs/function-bundling.ts), with esbuild's
 * metafile: the bundle's size, the packages in it and the AWS SDK modules it leaves to the runtime.
 */
import { readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ROOT } from '../../harness/processes';
import { esbuildOptionsOf } from '../../lib/constructs/function-bundling';

export interface FunctionBundle {
  /** The handler's file name without .ts, such as api-health. */
  name: string;
  file: string;
  bytes: number;
  /** The `@aws-sdk/*` modules the bundle imports from the runtime. */
  sdkImports: string[];
  /** Bytes in the bundle per package (`functions` for the project's own code). */
  packages: Map<string, number>;
  /** Every input file in the bundle, relative to the project root. */
  inputs: string[];
}

const HANDLERS = 'functions/handlers';

/** Every deployed function is one file in functions/handlers/. */
export function functionNames(): string[] {
  return readdirSync(path.join(ROOT, HANDLERS))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** `node_modules/@scope/name/...` → `@scope/name`, `node_modules/name/...` → `name`, else the project's own. */
export function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  // The workspace packages are bundled from their sources (tsconfig.json's paths): named as installed.
  const workspace = /^packages\/([^/]+)\//.exec(input);
  if (workspace) return `@optiinfra/${workspace[1]}`;
  if (at < 0) return input.split('/')[0] ?? input;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function describeOutput(name: string, file: string, metafile: Metafile): FunctionBundle {
  const output = Object.entries(metafile.outputs).find(([out]) => out.endsWith('.mjs'))?.[1];
  if (!output) throw new Error(`esbuild wrote no .mjs for ${name}`);
  const packages = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = packageOf(input);
    packages.set(pkg, (packages.get(pkg) ?? 0) + bytesInOutput);
  }
  const sdkImports = [...new Set(output.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path))].sort();
  return { name, file, bytes: output.bytes, sdkImports, packages, inputs: Object.keys(output.inputs) };
}

/**
 * Bundles every function into `outRoot/<name>/`. A `node_modules` link in `outRoot` lets the
 * bundles' external imports resolve there as they do in the Lambda runtime.
 */
export async function buildFunctionBundles(outRoot: string, names = functionNames()): Promise<FunctionBundle[]> {
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(outRoot, 'node_modules'), 'dir');
  return Promise.all(
    names.map(async (name) => {
      const options = esbuildOptionsOf(path.join(ROOT, HANDLERS, `${name}.ts`), path.join(outRoot, name));
      const result = await build({ ...options, absWorkingDir: ROOT, metafile: true });
      return describeOutput(name, options.outfile, result.metafile);
    }),
  );
}
