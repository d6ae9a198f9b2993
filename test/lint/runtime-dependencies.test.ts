/**
 * The root package.json keeps what the Lambda functions import at run time in `dependencies`, and the
 * local runtime, the CDK app and the tools in `devDependencies`; each package under packages/ lists
 * what its sources import, and nothing else, as that is all its users get installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../harness/processes';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * Packages a folder's sources import: at run time, statically or with `import('x')` when first
 * needed; or only for their types (`import type`, `import('x').Type`). node: built-ins left out.
 */
function packagesImportedBy(folder: string): { runtime: Set<string>; typesOnly: Set<string> } {
  const runtime = new Set<string>();
  const types = new Set<string>();
  const files = readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const source = readFileSync(path.join(ROOT, folder, file), 'utf8');
    for (const m of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^'.][^']*)'/gm)) (m[1] ? types : runtime).add(packageOf(m[2]!));
    for (const m of source.matchAll(/\bimport\('([^'.][^']*)'\)(\.)?/g)) (m[2] ? types : runtime).add(packageOf(m[1]!));
  }
  const builtIn = (name: string) => name.startsWith('node:');
  return {
    runtime: new Set([...runtime].filter((name) => !builtIn(name))),
    typesOnly: new Set([...types].filter((name) => !builtIn(name) && !runtime.has(name))),
  };
}

/** Installed for a runtime package that needs it but does not import it itself: Powertools parameters reads secrets with it. */
const PEERS = ['@aws-sdk/client-secrets-manager'];

describe('package.json', () => {
  const { runtime } = packagesImportedBy('functions');

  it('lists every package the functions import at run time under dependencies', () => {
    expect([...runtime].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
  });

  it('lists nothing else under dependencies: local stand-ins, the CDK app and tools are devDependencies', () => {
    expect(Object.keys(pkg.dependencies).filter((name) => !runtime.has(name) && !PEERS.includes(name))).toEqual([]);
    for (const tool of ['aws-cdk-lib', 'dynalite', 'tsx', 'esbuild']) expect(pkg.devDependencies).toHaveProperty(tool);
  });

  it('installs the stand-ins that need Node 22.5 from local/stand-ins/node22/, not from the root', () => {
    const standIns = JSON.parse(readFileSync(path.join(ROOT, 'local', 'stand-ins', 'node22', 'package.json'), 'utf8')) as typeof pkg;
    for (const name of ['fauxqs', 'aws-local-stepfunctions']) {
      expect(standIns.dependencies).toHaveProperty(name);
      expect({ ...pkg.dependencies, ...pkg.devDependencies }).not.toHaveProperty(name);
    }
  });
});

describe.each(readdirSync(path.join(ROOT, 'packages')))('packages/%s/package.json', (name) => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const listed = Object.keys(manifest.dependencies ?? {});
  const { runtime, typesOnly } = packagesImportedBy(path.join('packages', name, 'src'));

  it('lists every package its sources import under dependencies', () => {
    expect([...runtime].filter((dep) => !listed.includes(dep)).sort()).toEqual([]);
  });

  it('lists nothing its sources do not import (its declarations may import types: users need those too)', () => {
    expect(listed.filter((dep) => !runtime.has(dep) && !typesOnly.has(dep))).toEqual([]);
  });
});
