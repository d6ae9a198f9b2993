/**
 * `npm run build`: builds every workspace of the root package.json with one `tsc -b`, in the order
 * listed there (each package's dependencies before it). One process parses the standard library and
 * @types/node once for all packages, about half the work of a tsc per package, and `-b` skips a
 * package whose dist/ is newer than its sources, so a build right after `npm install` costs little.
 * A package with more than tsc builds (the console's page, bundled by esbuild) then runs its own
 * `bundle` script.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const { workspaces } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const configs = workspaces.map((folder) => path.join(folder, 'tsconfig.build.json'));
const build = spawnSync(process.execPath, [tsc, '--build', ...configs], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const bundle = spawnSync('npm', ['run', 'bundle', '--workspaces', '--if-present', '--silent'], { cwd: ROOT, stdio: 'inherit' });
process.exit(bundle.status ?? 1);
