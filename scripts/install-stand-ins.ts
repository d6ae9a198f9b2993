/**
 * Installs local/stand-ins/node22/ (fauxqs and aws-local-stepfunctions) as a project of its own, with the npm
 * that ran the root install but on the Node that npm scripts run on. Both packages need Node 22.5 or
 * newer and say so in `engines`; the root install may run on an older Node (it then brings Node 22
 * from the registry as node_modules/.bin/node, which this script runs on), and would warn about them
 * there. Run by the root `prepare`, so after every `npm install` and `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const MINIMUM = [22, 5];
const STAND_INS = path.resolve(import.meta.dirname, '..', 'local', 'stand-ins', 'node22');

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0]! || (major === MINIMUM[0] && minor < MINIMUM[1]!)) {
  // Only on a platform with no Node 22 in the registry (macOS on arm64): the packages and the CLI still install.
  console.warn(`optiinfra: the local runtime needs Node 22.5 or newer, this is ${process.version}; install it, then npm install again.`);
  process.exit(0);
}

/** The packages of a lockfile, the project's own entry left out: npm writes the same into node_modules/.package-lock.json once it has installed them. */
function lockedPackages(file: string): unknown {
  if (!existsSync(file)) return undefined;
  const { packages = {} } = JSON.parse(readFileSync(file, 'utf8')) as { packages?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(packages).filter(([where]) => where !== ''));
}

// Every root install runs this; reinstalling what is already there would add seconds to each.
const wanted = lockedPackages(path.join(STAND_INS, 'package-lock.json'));
if (wanted !== undefined && isDeepStrictEqual(wanted, lockedPackages(path.join(STAND_INS, 'node_modules', '.package-lock.json')))) {
  console.log('optiinfra: local/stand-ins/node22 is up to date');
  process.exit(0);
}

const npmCli = process.env.npm_execpath;
if (!npmCli) {
  console.error('optiinfra: run this through npm (npm install runs it as the prepare script).');
  process.exit(2);
}
const run = spawnSync(process.execPath, [npmCli, 'ci', '--prefix', STAND_INS, '--no-audit', '--no-fund'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
