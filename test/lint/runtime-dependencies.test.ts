/**
 * The root package.json keeps what the Lambda functions import at run time in `dependencies`, and the
 * local runtime, the CDK app and the tools in `devDependencies`; each package under packages/ lists
 * exactly what its sources import, as that is all its users get installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../harness/processes';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Packages a folder's sources import at run time, statically or with import() (type-only imports and node: built-ins left out). */
function packagesImportedBy(folder: string): Set<string> {
  const found = new Set<string>();
  const files = readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const source = readFileSync(path.join(ROOT, folder, file), 'utf8');
    const statics = [...source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^'.][^']*)'/gm)].filter((m) => !m[1]).map((m) => m[2]!);
    const dynamics = [...source.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)].map((m) => m[1]!);
    for (const specifier of [...statics, ...dynamics]) {
      if (specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      found.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return found;
}

/** Installed for a runtime package that needs it but does not import it itself: Powertools parameters reads secrets with it. */
const PEERS = ['@aws-sdk/client-secrets-manager'];

describe('package.json', () => {
  const runtime = new Set(packagesImportedBy('functions'));

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

  it('lists exactly the packages its sources import under dependencies', () => {
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...packagesImportedBy(path.join('packages', name, 'src'))].sort());
  });
});
