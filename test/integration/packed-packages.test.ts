/**
 * What users install is what is tested here: the packages built and packed as npm publishes
 * them, installed from the tarballs into an empty project (from the npm cache when it has them), a
 * TypeScript agent written against @optiinfra/sdk and compiled there by tsc (nodenext, strict),
 * run against the local runtime, the installed `optiinfra` CLI's `run --wait` and `console` against
 * it, and the installed console's page files.
 * A file missing from a package's `files`, an import without `.js`, a declaration that does not
 * compile or a dependency left out of a package.json fails here, and nowhere else.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { freePort, NODE, type Proc, ROOT, startProcess, tempDir } from '../../harness/processes';

const run = promisify(execFile);
/** Every workspace of the root package.json, in build order (packages/contract, packages/sdk, …). */
const WORKSPACES = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;

/** npm as a user runs it: no npm_* variables of the npm that started the tests, which would point it back at the repository. */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  return run('npm', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
}

/** The version the repository has installed, so that the cache has it. */
const installedVersion = (name: string) =>
  (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

const AGENT_SOURCE = `import { Agent, type TaskContext } from '@optiinfra/sdk';

const [orchestratorUrl, port] = process.argv.slice(2);
const agent = new Agent({ name: 'packed-agent-1', type: 'packed', orchestratorUrl, port: Number(port) });
agent.handle('echo', async (params: Record<string, unknown>, ctx: TaskContext) => ({ echoed: params, task: ctx.taskId }));

const stopping = new AbortController();
process.once('SIGTERM', () => stopping.abort());
await agent.start({ signal: stopping.signal });
console.log(\`ready \${agent.url}\`);
await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }));
await agent.stop();
`;

const TSCONFIG = {
  compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, outDir: 'dist', types: ['node'] },
  include: ['agent.ts'],
};

describe('the packed packages, installed into an empty project', () => {
  const project = tempDir('optiinfra-packed-');
  let orchestrator: LocalOrchestrator | undefined;
  let agent: Proc | undefined;

  beforeAll(async () => {
    // The runtime starts while the packages build and install: both take seconds on a shared machine.
    const starting = startLocalOrchestrator();
    await npm(['run', 'build'], ROOT);
    const packed = await npm(['pack', '--json', '--pack-destination', project.dir, ...WORKSPACES.map((w) => `--workspace=${w}`)], ROOT);
    const tarballs = (JSON.parse(packed.stdout) as Array<{ filename: string }>).map((t) => path.join(project.dir, t.filename));
    writeFileSync(path.join(project.dir, 'package.json'), JSON.stringify({ name: 'packed-check', private: true, type: 'module' }));
    await npm(
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...tarballs,
        `typescript@${installedVersion('typescript')}`,
        `@types/node@${installedVersion('@types/node')}`,
      ],
      project.dir,
    );
    writeFileSync(path.join(project.dir, 'agent.ts'), AGENT_SOURCE);
    writeFileSync(path.join(project.dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await run(NODE, [path.join(project.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project.dir]);
    orchestrator = await starting;
  }, 180_000);

  afterAll(async () => {
    await agent?.stop('SIGTERM');
    await orchestrator?.dispose();
    project.remove();
  });

  it('packs each package as dist/, package.json, README and its commands only', async () => {
    const listed = await npm(['pack', '--dry-run', '--json', ...WORKSPACES.map((w) => `--workspace=${w}`)], ROOT);
    for (const pkg of JSON.parse(listed.stdout) as Array<{ name: string; files: Array<{ path: string }> }>) {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, 'packages', pkg.name.split('/')[1]!, 'package.json'), 'utf8')) as {
        bin?: Record<string, string>;
      };
      // A command's launcher may sit outside dist/ (npm links commands before prepare builds dist/).
      const commands = Object.values(manifest.bin ?? {}).map((file) => path.posix.normalize(file));
      const stray = pkg.files
        .map((f) => f.path)
        .filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', ...commands].includes(p));
      expect(stray, pkg.name).toEqual([]);
    }
  });

  it('installs every package from its tarball, none from the registry', () => {
    const lock = JSON.parse(readFileSync(path.join(project.dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    const installed = Object.entries(lock.packages).filter(([where]) => where.startsWith('node_modules/@optiinfra/'));
    expect(installed.map(([where]) => where.slice('node_modules/'.length)).sort()).toEqual(
      WORKSPACES.map((w) => `@optiinfra/${path.basename(w)}`).sort(),
    );
    for (const [where, entry] of installed) expect(entry.resolved, where).toMatch(/^file:.*\.tgz$/);
  });

  it('runs the compiled TypeScript agent, and the orchestrator completes a task on it', async () => {
    const url = orchestrator!.url;
    agent = startProcess(NODE, [path.join(project.dir, 'dist', 'agent.js'), url, String(await freePort())]);
    await agent.waitFor(/^ready /m, 30_000);
    const submitted = await call<{ task_id: string }>(url, 'POST', '/tasks', {
      task_type: 'echo',
      agent_type: 'packed',
      parameters: { word: 'hello' },
    });
    expect(submitted.status).toBe(201);
    const task = await waitForTask(url, submitted.body.task_id, isTerminal);
    expect(task).toMatchObject({ status: 'completed', result: { echoed: { word: 'hello' }, task: submitted.body.task_id } });
  });

  it('runs the installed CLI: run --wait prints the result and exits 0', async () => {
    const cli = path.join(project.dir, 'node_modules', '.bin', 'optiinfra');
    // The CLI's `#!/usr/bin/env node` finds the Node that runs the tests first.
    const env = { ...process.env, PATH: `${path.dirname(NODE)}${path.delimiter}${process.env.PATH ?? ''}` };
    const { stdout } = await run(
      cli,
      ['run', 'echo', '--type', 'packed', '-p', 'word=cli', '--wait', '--json', '--api', orchestrator!.url],
      {
        cwd: project.dir,
        env,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ status: 'completed', result: { echoed: { word: 'cli' } } });
  });

  it("serves the installed console's built page, with no bundler installed", async () => {
    const script = `import { consoleAssets } from '@optiinfra/console';
for (const [name, file] of await consoleAssets()) console.log(name, file.type, file.body.includes('data-testid') || name !== 'app.js');`;
    const { stdout } = await run(NODE, ['--input-type=module', '-e', script], { cwd: project.dir });
    expect(stdout.trim().split('\n')).toEqual([
      'index.html text/html; charset=utf-8 true',
      'app.js text/javascript; charset=utf-8 true',
      'app.css text/css; charset=utf-8 true',
    ]);
    expect(() => readFileSync(path.join(project.dir, 'node_modules', 'esbuild', 'package.json'))).toThrow();
  });

  it('runs the installed CLI: console serves the built page and forwards its calls, until Ctrl-C', async () => {
    const cli = path.join(project.dir, 'node_modules', '.bin', 'optiinfra');
    const proc = startProcess(cli, ['console', '--api', orchestrator!.url, '--port', '0'], {
      PATH: `${path.dirname(NODE)}${path.delimiter}${process.env.PATH ?? ''}`,
    });
    try {
      await proc.waitFor(/Ctrl-C stops it\./, 30_000);
      const url = /Console (http:\/\/127\.0\.0\.1:\d+)\/ui\//.exec(proc.output())![1]!;
      const page = await fetch(`${url}/ui/app.js`);
      expect([page.status, (await page.text()).includes('data-testid')]).toEqual([200, true]);
      const agents = (await (await fetch(`${url}/agents?type=packed`)).json()) as { count: number };
      expect(agents.count).toBeGreaterThan(0);
    } finally {
      expect(await proc.stop('SIGINT')).toBe(0);
    }
  });
});
