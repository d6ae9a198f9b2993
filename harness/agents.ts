import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { NODE, type Proc, ROOT, startProcess, tempDir } from './processes';
import { waitUntil } from './wait';

export interface AgentProcess {
  id: string;
  port: number;
  proc: Proc;
  /** Asks the agent to drain itself (only it holds its token), and waits until the orchestrator agreed. */
  drain(): Promise<void>;
  /** Pauses (SIGSTOP) or resumes (SIGCONT) the process: a paused agent neither heartbeats nor answers. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Deliveries the agent received so far, in order. */
  deliveries(): Delivery[];
  /**
   * Waits until the agent has logged exactly `count` deliveries. A task is `sent` as the request goes out:
   * on a loaded machine the agent reads it later, so a test that pauses or kills the agent waits for this.
   */
  waitForDeliveries(count: number, timeoutMs?: number): Promise<Delivery[]>;
  /** Deliveries the agent has answered so far (its `ANSWERED` lines), in order. */
  answers(): Answer[];
  /** Waits until the agent has answered `taskId` (its attempt `attempt`, or any): the event a late answer is. */
  waitForAnswer(taskId: string, attempt?: number, timeoutMs?: number): Promise<Answer>;
  /** With `async`: reports that settled so far (its `REPORTED` lines), in order. */
  reports(): Report[];
  /** With `async`: waits until the report of `taskId` (attempt `attempt`, or any) settled. */
  waitForReport(taskId: string, attempt?: number, timeoutMs?: number): Promise<Report>;
  /** With `async`: the tasks whose signal aborted while they worked (its `ABORTED` lines). */
  aborts(): Array<{ task_id: string; attempt: number; reason: string }>;
  stop(): Promise<void>;
}

/** A delivery the fault agent answered: its handler settled and the SDK wrote the answer, unless `aborted` says why not. */
export interface Answer {
  task_id: string;
  attempt: number;
  outcome: 'completed' | 'HTTP 500' | 'not retryable';
  /** Null when the connection was still open and the deadline not passed: the answer went out. */
  aborted: string | null;
}

/** A long-running attempt's report as the SDK's `onReport` saw it settle. */
export interface Report {
  task_id: string;
  attempt: number;
  status: 'completed' | 'failed';
  outcome: 'acknowledged' | 'attempt_ended' | 'refused' | 'gave_up' | 'aborted' | 'not_sent';
}

export interface Delivery {
  task_id: string;
  attempt: number | string;
  time: string;
  /** Tasks running on the agent when this one arrived, itself included. */
  concurrent: number;
}

let counter = 0;
let bundled: Promise<string> | undefined;

/**
 * examples/fault-agent.ts and the SDK bundled into one file. Plain node starts it on about a third of
 * the CPU that `node --import tsx` needs to compile it at every start, which matters with a dozen
 * agents per file on a shared 2-core machine. Same code, so the same behaviour
 * (test/sdk/example-agents.test.ts runs the example itself through tsx). The bundle is kept in
 * node_modules/.cache under a digest of its sources and the lockfile, so test processes share it
 * and a change to the agent, the SDK or the core it imports builds a new one.
 */
export function faultAgentScript(): Promise<string> {
  bundled ??= (async () => {
    // Everything the bundle is built from: the agent, the SDK, the wire contract it imports, the locked dependencies.
    const tsUnder = (folder: string) =>
      readdirSync(path.join(ROOT, folder))
        .filter((f) => f.endsWith('.ts'))
        .sort()
        .map((f) => path.join(folder, f));
    const sources = [
      path.join('examples', 'fault-agent.ts'),
      'package-lock.json',
      ...tsUnder(path.join('packages', 'sdk', 'src')),
      ...tsUnder(path.join('packages', 'contract', 'src')),
    ];
    const digest = createHash('sha256');
    for (const file of sources) digest.update(file).update(readFileSync(path.join(ROOT, file)));
    const dir = path.join(ROOT, 'node_modules', '.cache', 'optiinfra-fault-agent');
    const file = path.join(dir, `${digest.digest('hex').slice(0, 16)}.mjs`);
    if (existsSync(file)) return file;
    mkdirSync(dir, { recursive: true });
    // Built beside its name and renamed into place: test processes that build it at once never see half a file.
    const partial = `${file}.${process.pid}.tmp`;
    const { build } = await import('esbuild');
    await build({
      entryPoints: [path.join(ROOT, 'examples', 'fault-agent.ts')],
      outfile: partial,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // Bundled CommonJS dependencies call require() for node's own modules.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    renameSync(partial, file);
    return file;
  })();
  return bundled;
}

/** Starts examples/fault-agent.ts as a real process registered with `orchestratorUrl`. */
export interface FaultAgentOptions {
  mode: 'ok' | 'fail500' | 'slow' | 'hang' | 'reject';
  type: string;
  capabilities?: string[];
  delayMs?: number;
  name?: string;
  maxConcurrency?: number;
  /** The first N deliveries of all answer HTTP 500. */
  failDeliveries?: number;
  /** With mode fail500: only the first N deliveries of each task fail. */
  failFirst?: number;
  /** The agent itself answers 503 with Retry-After above this many running tasks. */
  refuseAbove?: number;
  /** Bearer token for the orchestrator's API. */
  apiToken?: string;
  /** For an orchestrator started with FLEET_TOKENS. */
  fleetToken?: string;
  /** JSON text: completed answers carry it, parsed, as their result (instead of echoing the parameters). */
  result?: string;
  /** The same from a file, for results larger than a command line holds. */
  resultFile?: string;
  /** Long-running handlers: answer 202 and report later (asynchronous delivery). */
  async?: boolean;
  /** With `async`: a progress every this many ms while `slow` or `hang` works. */
  progressEveryMs?: number;
  /** With `async`: no keep-alive progress, an agent that accepted and went quiet. */
  silent?: boolean;
  /** With `async`: SIGKILLs itself this long after accepting its first task. */
  dieAfterMs?: number;
}

export async function startFaultAgent(orchestratorUrl: string, options: FaultAgentOptions): Promise<AgentProcess> {
  const dir = tempDir('fault-agent-');
  const log = path.join(dir.dir, 'deliveries.jsonl');
  const name = options.name ?? `fault-${options.mode}-${process.pid}-${++counter}`;
  const args = [
    await faultAgentScript(),
    '--mode',
    options.mode,
    '--log',
    log,
    '--name',
    name,
    '--type',
    options.type,
    '--capabilities',
    (options.capabilities ?? ['work']).join(','),
    '--orchestrator',
    orchestratorUrl,
  ];
  if (options.delayMs !== undefined) args.push('--delay-ms', String(options.delayMs));
  if (options.maxConcurrency !== undefined) args.push('--max-concurrency', String(options.maxConcurrency));
  if (options.failDeliveries !== undefined) args.push('--fail-deliveries', String(options.failDeliveries));
  if (options.failFirst !== undefined) args.push('--fail-first', String(options.failFirst));
  if (options.refuseAbove !== undefined) args.push('--refuse-above', String(options.refuseAbove));
  if (options.apiToken !== undefined) args.push('--api-token', options.apiToken);
  if (options.fleetToken !== undefined) args.push('--fleet-token', options.fleetToken);
  if (options.result !== undefined) args.push('--result', options.result);
  if (options.resultFile !== undefined) args.push('--result-file', options.resultFile);
  if (options.async) args.push('--async');
  if (options.progressEveryMs !== undefined) args.push('--progress-every-ms', String(options.progressEveryMs));
  if (options.silent) args.push('--silent');
  if (options.dieAfterMs !== undefined) args.push('--die-after-ms', String(options.dieAfterMs));
  const proc = startProcess(NODE, args);
  const [, id, port] = await proc.waitFor(/READY (\S+) (\d+)/, 30_000);
  const lines = <T>(tag: string) => [...proc.output().matchAll(new RegExp(`^${tag} (\\{.*\\})$`, 'gm'))].map((m) => JSON.parse(m[1]!) as T);
  const deliveries = (): Delivery[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Delivery)
      : [];
  const answers = () => lines<Answer>('ANSWERED');
  const reports = () => lines<Report>('REPORTED');
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    id: id!,
    port: Number(port),
    proc,
    signal: (signal) => void proc.child.kill(signal),
    async drain() {
      proc.child.kill('SIGUSR2');
      await proc.waitFor(/^DRAINED$/m, 10_000);
    },
    deliveries,
    waitForDeliveries: (count, timeoutMs = 20_000) =>
      waitUntil(`agent ${id!} logged ${count} deliveries`, deliveries, (d) => d.length === count, { timeoutMs, intervalMs: 150 }),
    answers,
    async waitForAnswer(taskId, attempt, timeoutMs = 30_000) {
      const head = escape(`ANSWERED {"task_id":"${taskId}","attempt":`);
      await proc.waitFor(new RegExp(`^${head}${attempt ?? '\\d+'},`, 'm'), timeoutMs);
      return answers().find((a) => a.task_id === taskId && (attempt === undefined || a.attempt === attempt))!;
    },
    reports,
    async waitForReport(taskId, attempt, timeoutMs = 30_000) {
      const head = escape(`REPORTED {"task_id":"${taskId}","attempt":`);
      await proc.waitFor(new RegExp(`^${head}${attempt ?? '\\d+'},`, 'm'), timeoutMs);
      return reports().find((r) => r.task_id === taskId && (attempt === undefined || r.attempt === attempt))!;
    },
    aborts: () => lines('ABORTED'),
    async stop() {
      proc.child.kill('SIGCONT');
      await proc.stop('SIGTERM');
      dir.remove();
    },
  };
}

/** Starts examples/plain_agent.py: an agent that knows only the seed's HTTP protocol. */
export async function startPlainPythonAgent(
  orchestratorUrl: string,
  options: { name: string; type: string },
): Promise<{ id: string; port: number; proc: Proc; stop(): Promise<void> }> {
  const proc = startProcess('python3', [
    'examples/plain_agent.py',
    '--name',
    options.name,
    '--type',
    options.type,
    '--port',
    '0',
    '--orchestrator',
    orchestratorUrl,
  ]);
  const [, id, port] = await proc.waitFor(/READY (\S+) (\d+)/, 30_000);
  return { id: id!, port: Number(port), proc, stop: async () => void (await proc.stop('SIGTERM')) };
}

export { NODE };

/** Starts examples/plan-agent.ts (a long-running agent: 202, progress after each step) as a real process. */
export async function startPlanAgent(
  orchestratorUrl: string,
  options: { name: string; stepMs: number },
): Promise<{ id: string; proc: Proc; stop(): Promise<void> }> {
  const args = ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'examples/plan-agent.ts', '--name', options.name];
  args.push('--port', '0', '--step-ms', String(options.stepMs), '--orchestrator', orchestratorUrl);
  const proc = startProcess(NODE, args);
  const [, id] = await proc.waitFor(/ready: \S+, agent id (\S+)/, 60_000);
  return { id: id!, proc, stop: async () => void (await proc.stop('SIGTERM')) };
}
