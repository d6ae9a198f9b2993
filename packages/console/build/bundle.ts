/**
 * Bundles the page (app/) with esbuild into the three files the console serves: the package's build
 * writes them to dist/ui/ (build/write-assets.ts), and consoleAssets() run from the sources calls
 * this directly, in memory.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type ConsoleAssets, contentTypeOf } from '../src/console-assets.js';

const APP = fileURLToPath(new URL('../app/', import.meta.url));

export async function bundleConsole(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: { app: `${APP}main.tsx` },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    outdir: '/',
    legalComments: 'none',
    logLevel: 'silent',
    // Given here, so esbuild reads no tsconfig.json: the root one's paths would point it at packages' sources.
    tsconfigRaw: { compilerOptions: { jsx: 'react-jsx', jsxImportSource: 'preact', verbatimModuleSyntax: true } },
  });
  const assets: ConsoleAssets = new Map();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    assets.set(name, { type: contentTypeOf(name), body: Buffer.from(file.contents) });
  }
  assets.set('index.html', { type: contentTypeOf('index.html'), body: await readFile(`${APP}index.html`) });
  return assets;
}
