/**
 * The docs walkthrough check: every fenced code block of README.md and docs/*.md is either run or
 * checked, according to its info string (the table is in docs/testing.md), so the docs cannot
 * drift from the code.
 *
 * - `bash` blocks run, file by file in order, against a real local orchestrator started as
 *   `npm start` starts it (local/main.ts, with the two example cost agents); `bash secured` blocks
 *   against a second one started with API_TOKENS and FLEET_TOKENS. Both are started with the
 *   harness's short settings (FAST_SETTINGS): the same behaviour, shorter waits.
 * - `bash start`, `bash dev` and `bash aws` blocks cannot run here (a foreground server; minutes of
 *   tooling or this test itself; an AWS account): `bash -n`, plus the checks named below.
 * - The README's `$ npm start` sample is compared with what the orchestrator printed.
 * Fixed agent ports in the docs (`--port 8031`) are swapped for free ones, and `http://127.0.0.1:8080`
 * for the test orchestrator's address; everything else runs as written.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { freePort, NODE, ROOT, tempDir } from '../../harness/processes';

interface Block {
  file: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  info: string;
  body: string;
}

const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

function blocksOf(file: string): Block[] {
  const lines = read(file).split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block is not closed`);
    blocks.push({ file, line: start + 1, info: open[1]!.trim(), body: `${body.join('\n')}\n` });
  }
  return blocks;
}

const ALL = DOCS.flatMap(blocksOf);
const KNOWN_INFO = ['bash', 'bash secured', 'bash start', 'bash dev', 'bash aws', 'console', 'python', 'ts', 'ts client', 'text', 'json'];
const where = (b: Block) => `${b.file}:${b.line}`;
const LOCAL_URL = 'http://127.0.0.1:8080';

const scratch = tempDir('docs-walkthrough-');
let main: LocalOrchestrator;
/** Started once the first is ready, while the first file's blocks run; awaited by the first `bash secured` block. */
let securedStart: Promise<LocalOrchestrator> | undefined;
const securedEnv = { API_TOKENS: randomBytes(24).toString('hex'), FLEET_TOKENS: randomBytes(24).toString('hex') };
/** Process groups of the bash blocks: their background agents outlive the block, so they are stopped at the end. */
const groups: number[] = [];
const report: string[] = [];
const began = Date.now();

beforeAll(async () => {
  main = await startLocalOrchestrator({}, []);
  report.push(`  started  the orchestrator in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  securedStart = startLocalOrchestrator(securedEnv, []);
  securedStart.catch(() => undefined);
}, 180_000);

afterAll(async () => {
  for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
  const until = Date.now() + 5_000;
  while (groups.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const pgid of groups.filter(alive)) signalGroup(pgid, 'SIGKILL');
  const secured = await securedStart?.catch(() => undefined);
  await Promise.all([main?.dispose(), secured?.dispose()]);
  // An orchestrator that never printed "ready" is left running by the harness: stop ours by pid.
  for (const pid of orchestratorChildren()) process.kill(pid, 'SIGTERM');
  scratch.remove();
  console.log(`docs walkthrough: ${ALL.length} code blocks, ${((Date.now() - began) / 1000).toFixed(1)} s\n${report.join('\n')}`);
}, 60_000);

/** Orchestrator processes this test process started (its children running local/main.ts). */
function orchestratorChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('local/main.ts')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function bashSyntax(block: Block): void {
  // `<account>` and the like are redirections to bash: a reader copying the line gets an error.
  const placeholder = /(?:^|\s)<[A-Za-z][\w -]*>/m.exec(block.body.replace(/'[^'\n]*'|"[^"\n]*"|#.*$/gm, ''));
  expect(placeholder, `${where(block)} has a placeholder a reader cannot run as written: ${placeholder?.[0]}`).toBeNull();
  const file = path.join(scratch.dir, 'syntax.sh');
  writeFileSync(file, block.body);
  try {
    execFileSync('bash', ['-n', file], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${where(block)}: bash -n failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`, { cause: err });
  }
}

/** Files of the repository a block names (examples/cost-agent.ts …) must exist. */
function namedFilesExist(block: Block): void {
  for (const m of block.body.matchAll(
    /\b((?:examples|scripts|bench|harness|local|sdk|functions|test|lib|bin)\/[\w./-]+\.(?:ts|py|js|cjs))\b/g,
  )) {
    expect(existsSync(path.join(ROOT, m[1]!)), `${where(block)} names ${m[1]}, which does not exist`).toBe(true);
  }
}

/** Joins `\`-continued lines, so that a `# →` comment applies to the whole command. */
function logicalLines(body: string, firstLine: number): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let current: { text: string; line: number } | undefined;
  body.split('\n').forEach((text, i) => {
    if (current) current.text += `\n${text}`;
    else current = { text, line: firstLine + 1 + i };
    if (!text.endsWith('\\')) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The block as a script: strict mode, the variables and functions of earlier blocks, and `# →` lines checked. */
function script(block: Block, url: string, state: string): string {
  const body = block.body.replaceAll(LOCAL_URL, url);
  const fileBlocks = ALL.filter((b) => b.file === block.file && b.info === block.info).map((b) => b.body);
  const vars = [...new Set(fileBlocks.flatMap((b) => [...b.matchAll(/\b([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!)))];
  const funcs = [...new Set(fileBlocks.flatMap((b) => [...b.matchAll(/^\s*([a-z_][a-z0-9_]*)\(\)\s*\{/gm)].map((m) => m[1]!)))];
  const lines = logicalLines(body, block.line).map(({ text, line }) => {
    const m = /^(.*\S)\s+# → (.*)$/s.exec(text);
    if (!m) return text;
    return `__got=$(${m[1]}); printf '%s\\n' "$__got"; __check ${line} "$__got" ${quote(m[2]!.trim())}`;
  });
  const save = [
    vars.length ? `declare -p ${vars.join(' ')} 2>/dev/null` : ':',
    funcs.length ? `declare -f ${funcs.join(' ')} 2>/dev/null` : ':',
  ].join('; ');
  return [
    'set -euo pipefail',
    `__check() { if [ "$2" != "$3" ]; then printf 'line %s printed:\\n%s\\nbut the docs say:\\n%s\\n' "$1" "$2" "$3" >&2; exit 1; fi; }`,
    `__save() { { ${save}; } > ${quote(`${state}.tmp`)} || true; mv ${quote(`${state}.tmp`)} ${quote(state)}; }`,
    `if [ -f ${quote(state)} ]; then source ${quote(state)}; fi`,
    'trap __save EXIT',
    ...lines,
    '',
  ].join('\n');
}

/** Fixed ports of the docs (`--port 8031`, `port: 8007`), each swapped for a free one: tests pick free ports. */
const ports = new Map<string, number>();
async function withFreePorts(text: string, pattern: RegExp): Promise<string> {
  for (const m of text.matchAll(pattern)) if (!ports.has(m[2]!)) ports.set(m[2]!, await freePort());
  return text.replace(pattern, (_all, before: string, port: string) => `${before}${ports.get(port)}`);
}

async function runBash(block: Block, url: string, env: Record<string, string>, timeoutMs = 120_000): Promise<string> {
  block = { ...block, body: await withFreePorts(block.body, /(--port )(\d+)/g) };
  const id = `${block.file.replace(/\W/g, '_')}_${block.line}`;
  const file = path.join(scratch.dir, `${id}.sh`);
  const log = path.join(scratch.dir, `${id}.log`);
  writeFileSync(
    file,
    script(block, url, path.join(scratch.dir, `${block.file.replace(/\W/g, '_')}_${block.info.replace(/\W/g, '_')}.state`)),
  );
  // Output goes to a file: background agents the block starts keep writing after the block ends.
  const fd = openSync(log, 'w');
  let child: ChildProcess;
  try {
    // The CLI's default API is http://127.0.0.1:8080, as the docs' own URL: here it is the orchestrator's free port.
    child = spawn('bash', [file], {
      cwd: ROOT,
      env: { ...process.env, OPTIINFRA_API_URL: url, ...env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  groups.push(child.pid!);
  const started = Date.now();
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      signalGroup(child.pid!, 'SIGKILL');
      resolve(`timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    child.once('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? String(signal));
    });
  });
  const output = readFileSync(log, 'utf8');
  if (process.env.DOCS_WALKTHROUGH_VERBOSE) console.log(`--- ${where(block)} (${block.info}), exit ${code}\n${output}`);
  report.push(`  ran      ${where(block)} (${block.info}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (code !== 0) throw new Error(`${where(block)} (${block.info}) failed (${code}):\n${block.body}\n--- output ---\n${output}`);
  return output;
}

/** `hh:mm:ss.mmm  orchestrator  Label  …` lines up to `ready`, as their labels (the feed's lines have other sources). */
function startLabels(text: string): string[] {
  const labels: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d\d:\d\d:\d\d\.\d{3} {2}orchestrator {2}(\S+)/.exec(line.trim());
    if (!m) continue;
    labels.push(m[1]!.replace(/\.$/, ''));
    if (m[1]!.startsWith('ready')) break;
  }
  return labels;
}

describe('every code block has a known kind', () => {
  it.each(ALL.map((b) => [where(b), b] as const))('%s', (_where, block) => {
    expect(KNOWN_INFO, `${where(block)}: unknown info string "${block.info}"; docs/testing.md lists the kinds`).toContain(block.info);
  });
});

describe('the documents', () => {
  it.each(DOCS)('%s links only to files in the repository, and to headings that exist', (file) => {
    const text = read(file);
    for (const banned of ['../shared', 'shared/research', 'DESIGN.md', '/work/'])
      expect(text, `${file} mentions ${banned}`).not.toContain(banned);
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [rel, anchor] = target.split('#') as [string, string | undefined];
      const resolved = rel ? path.resolve(path.dirname(path.join(ROOT, file)), rel) : path.join(ROOT, file);
      expect(resolved.startsWith(`${ROOT}${path.sep}`), `${file} links outside the repository: ${target}`).toBe(true);
      expect(existsSync(resolved), `${file} links to ${target}, which does not exist`).toBe(true);
      if (anchor) expect(headingSlugs(resolved), `${file} links to ${target}: no such heading`).toContain(anchor);
    }
  });

  it('README.md stays short, and starts with the two commands', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toMatch(/^# OptiInfra Orchestrator\n\n```bash dev\nnpm install && npm start .*\nnpm test .*\n```\n/);
  });

  it('docs/configuration.md lists the flags of `npm start`, and only those', () => {
    const flags = [...read('docs/configuration.md').matchAll(/^\| `(--[a-z-]+)` \|/gm)].map((m) => m[1]!);
    expect(flags.sort()).toEqual(npmStartFlags().sort());
  });

  it('docs/configuration.md names every setting the functions read, and only those', () => {
    const doc = read('docs/configuration.md');
    const config = read('functions/composition/config.ts');
    const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(config)?.[1] ?? '';
    const keys = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys) expect(doc, `configuration.md does not mention ${key}`).toContain(`\`${key}\``);
    const code = [
      config,
      ...readdirSync(path.join(ROOT, 'local'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => read(`local/${f}`)),
    ];
    code.push(read('local/stand-ins/redis-launcher.ts'));
    for (const m of doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)) {
      expect(
        code.some((c) => c.includes(m[1]!)),
        `configuration.md documents ${m[1]}, which no code reads`,
      ).toBe(true);
    }
  });
});

/** The options `npm start` (local/main.ts) parses. */
function npmStartFlags(): string[] {
  const flags = [...read('local/main.ts').matchAll(/^ {4}'?([a-z-]+)'?: \{ type: '(?:string|boolean)'/gm)].map((m) => `--${m[1]}`);
  expect(flags).toContain('--no-agents');
  return flags;
}

function headingSlugs(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );
}

describe('the README shows what `npm start` prints', () => {
  it('with the same lines, by label, as the orchestrator started for this test', () => {
    const sample = ALL.find((b) => b.file === 'README.md' && b.info === 'console' && b.body.startsWith('$ npm start\n'));
    expect(sample, 'README.md has no ```console block starting with "$ npm start"').toBeDefined();
    const real = startLabels(main.proc.output());
    expect(real).toContain('ready');
    expect(startLabels(sample!.body)).toEqual(real);
    report.push(`  compared ${where(sample!)} (console) with the real start output: ${real.join(', ')}`);
  });
});

describe.each(DOCS)('%s', (file) => {
  const blocks = ALL.filter((b) => b.file === file);
  if (blocks.length === 0) it('has no code blocks', () => undefined);

  for (const block of blocks) {
    const name = `${where(block)} ${block.info}`;
    switch (block.info) {
      case 'bash':
        it(`${name}: runs against the orchestrator`, () => runBash(block, main.url, {}).then(() => undefined), 130_000);
        break;
      case 'bash secured':
        it(`${name}: runs against the orchestrator started with API_TOKENS and FLEET_TOKENS`, async () => {
          const secured = await securedStart!;
          await runBash(block, secured.url, securedEnv);
        }, 190_000);
        break;
      case 'bash start':
        it(`${name}: not run (starts a long-running process): bash -n, flags and files`, () => {
          bashSyntax(block);
          namedFilesExist(block);
          const known = npmStartFlags();
          for (const m of block.body.matchAll(/npm start -- ([^\n#]*)/g)) {
            for (const flag of m[1]!.match(/--[a-z-]+/g) ?? [])
              expect(known, `${where(block)}: npm start has no flag ${flag}`).toContain(flag);
          }
          report.push(`  checked  ${where(block)} (bash start): bash -n, flags and files; not run: it starts a process in the foreground`);
        });
        break;
      case 'bash dev':
        it(`${name}: not run (project tooling, minutes each): bash -n and npm scripts`, () => {
          bashSyntax(block);
          namedFilesExist(block);
          const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
          for (const m of block.body.matchAll(/npm run ([\w:-]+)/g)) {
            if (scripts[m[1]!] === undefined) expect.fail(`${where(block)}: package.json has no script "${m[1]}"`);
          }
          report.push(
            `  checked  ${where(block)} (bash dev): bash -n and npm script names; not run: project tooling (npm run synth runs in test/infra/offline-synth.test.ts)`,
          );
        });
        break;
      case 'bash aws':
        it(`${name}: not run (needs an AWS account): bash -n`, () => {
          bashSyntax(block);
          report.push(`  checked  ${where(block)} (bash aws): bash -n; not run: needs an AWS account`);
        });
        break;
      case 'console':
        if (block.body.startsWith('$ npm run chaos\n')) {
          it(`${name}: every line is one scripts/chaos.ts prints`, () => {
            const chaos = read('scripts/chaos.ts');
            for (const line of block.body.split('\n').slice(1).filter(Boolean)) {
              const label = line.split(/ {2,}/)[0]!;
              expect(chaos, `${where(block)}: scripts/chaos.ts prints no "${label}" line`).toContain(`${label}  `);
            }
            report.push(`  checked  ${where(block)} (console): labels against scripts/chaos.ts`);
          });
        } else if (!(file === 'README.md' && block.body.startsWith('$ npm start\n'))) {
          it(`${name}: sample output that no check knows`, () => expect.fail(`${where(block)}: add a check for this sample output`));
        }
        break;
      case 'python':
        it(`${name}: the signature check, run by test/sdk/readme-signature-snippet.test.ts`, () => {
          expect(block.body).toContain('def verify(');
          expect(read('test/sdk/readme-signature-snippet.test.ts')).toContain(file);
          report.push(`  checked  ${where(block)} (python): run by test/sdk/readme-signature-snippet.test.ts`);
        });
        break;
      case 'ts client':
        it(`${name}: the client example, run by test/integration/cli.test.ts`, () => {
          expect(read('test/integration/cli.test.ts')).toContain(file);
          report.push(`  checked  ${where(block)} (ts client): run by test/integration/cli.test.ts`);
        });
        break;
      case 'json':
        it(`${name}: parses as JSON`, () => {
          expect((): unknown => JSON.parse(block.body), `${where(block)}: not JSON`).not.toThrow();
          report.push(`  checked  ${where(block)} (json): parses`);
        });
        break;
      case 'ts':
        it(`${name}: runs as an agent that completes a task and unregisters on SIGTERM`, () => runSdkExample(block), 130_000);
        break;
      default:
        break;
    }
  }
});

/** Runs the SDK example as written (its import pointed at the SDK's sources), sends it a task, and stops it. */
async function runSdkExample(block: Block): Promise<void> {
  const source = (await withFreePorts(block.body, /(port: )(\d+)/g))
    .replace("from '@optiinfra/sdk'", `from '${path.join(ROOT, 'packages', 'sdk', 'src', 'index.ts')}'`)
    .replaceAll(LOCAL_URL, main.url);
  const name = /name: '([^']+)'/.exec(source)?.[1];
  expect(name, `${where(block)}: the example names no agent`).toBeDefined();
  const file = path.join(scratch.dir, 'sdk-example.mts');
  writeFileSync(file, source);
  const started = Date.now();
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let id: string | undefined;
    for (const until = Date.now() + 30_000; !id && Date.now() < until; ) {
      const list = await call<{ agents: Array<{ id: string; name: string; status: string }> }>(main.url, 'GET', '/agents?type=cost');
      id = list.body.agents.find((a) => a.name === name && a.status === 'healthy')?.id;
      if (!id) await new Promise((r) => setTimeout(r, 300));
    }
    expect(id, `${where(block)}: agent ${name} did not register; its output:\n${output}`).toBeDefined();
    const submit = await call(main.url, 'POST', '/tasks', {
      task_type: 'analyze_cost',
      agent_type: 'cost',
      agent_id: id,
      parameters: { account_id: 'docs' },
    });
    expect(submit.status).toBe(201);
    const task = await waitForTask(main.url, String(submit.body.task_id), (t) => t.completed_at !== undefined);
    expect(task).toMatchObject({ status: 'completed', agent_id: id, result: { account_id: 'docs', potential_savings: 3200.75 } });
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 15 s after SIGTERM'), 15_000))]);
    expect(code, output).toBe(0);
    const after = await call<{ status: string }>(main.url, 'GET', `/agents/${id}`);
    expect(after.body.status).toBe('draining');
    report.push(`  ran      ${where(block)} (ts) as an agent in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Runs after every block (a file's tests run in order): what the walkthrough's tasks left in the feed and the console's list. */
describe("the walkthrough's tasks", () => {
  it('each appear in the feed that npm start prints and in the list the console reads', async () => {
    const listed = await call<{ tasks: Array<{ task_id: string; status: string }> }>(main.url, 'GET', '/tasks?limit=100');
    expect(listed.status).toBe(200);
    const tasks = listed.body.tasks;
    expect(tasks.length).toBeGreaterThan(0);
    const lines = main.proc.output().split('\n');
    for (const { task_id: id, status } of tasks) {
      const own = lines.filter((l) => l.includes(id));
      expect(
        own.some((l) => /\baccepted\b/.test(l)),
        `the feed has no "accepted" line for ${id}`,
      ).toBe(true);
      const terminal = ['completed', 'failed', 'timeout', 'cancelled'].includes(status);
      if (terminal)
        expect(
          own.some((l) => new RegExp(`\\b${status}\\b`).test(l)),
          `the feed has no "${status}" line for ${id}`,
        ).toBe(true);
    }
    report.push(`  checked  the feed and GET /tasks (the console's list) hold the walkthrough's ${tasks.length} tasks`);
  });
});
