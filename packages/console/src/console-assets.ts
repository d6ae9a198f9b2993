import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One file of the page, as a server sends it. */
export interface ConsoleAsset {
  /** The Content-Type header's value. */
  type: string;
  body: Buffer;
}

/** The page's files by name: `index.html`, `app.js`, `app.css`. */
export type ConsoleAssets = Map<string, ConsoleAsset>;

export const CONSOLE_FILES = ['index.html', 'app.js', 'app.css'] as const;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export function contentTypeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

/** What the repository's bundler (build/bundle.ts, never published) exports. */
interface Bundler {
  bundleConsole(): Promise<ConsoleAssets>;
}

/**
 * The console's files. Run from its TypeScript sources (in the repository, under tsx or vitest), it
 * bundles the page now from app/, so `npm start` always serves the sources as they are; run as the
 * published package, it reads the bundle its build wrote to dist/ui/. The bundler is loaded by URL:
 * it and esbuild stay out of the package users install, which never takes this path.
 */
export async function consoleAssets(): Promise<ConsoleAssets> {
  if (import.meta.url.endsWith('.ts')) {
    const bundler = (await import(new URL('../build/bundle.ts', import.meta.url).href)) as Bundler;
    return bundler.bundleConsole();
  }
  const assets: ConsoleAssets = new Map();
  for (const name of CONSOLE_FILES) {
    const body = await readFile(fileURLToPath(new URL(`./ui/${name}`, import.meta.url)));
    assets.set(name, { type: contentTypeOf(name), body });
  }
  return assets;
}
