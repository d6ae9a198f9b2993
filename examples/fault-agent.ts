/**
 * A test-fixture agent that misbehaves on purpose, so integration tests can watch retries and timeouts.
 *
 *   node --import tsx examples/fault-agent.ts --mode fail500 --log /tmp/attempts.jsonl \
 *     [--fail-first 2] [--delay-ms 2000] [--name fault-agent-1] [--type fault] [--capabilities fault_task,other]
 *     [--port 0] [--orchestrator http://127.0.0.1:8080] [--max-concurrency 100] [--refuse-above N]
 *     [--fail-deliveries N] [--api-token T (default: env API_TOKEN)] [--fleet-token T (default: env FLEET_TOKEN)]
 *     [--result JSON] [--result-file PATH]
 *     [--async [--progress-every-ms M] [--silent] [--die-after-ms N]]
 *
 * Modes: `ok` answers completed at once; `fail500` answers HTTP 500 (only the first N deliveries of each
 * task with --fail-first N, then completed); `slow` waits --delay-ms before answering completed; `hang`
 * never answers; `reject` answers `failed` marked not retryable. With --fail-deliveries N the first N
 * deliveries of all (any task) answer HTTP 500 before the mode applies: a flapping agent. With
 * --result, a completed answer carries that JSON, parsed, as its result instead of the usual echo
 * (so a test can send what the orchestrator cannot store, such as 2^64 or a "__proto__" key);
 * --result-file reads that JSON from a file, for results larger than a command line holds.
 * A task whose parameters carry `fail_first: N` fails its first N deliveries with HTTP 500 in any
 * mode, so one task among many can fail (bench/cost.ts) without the agent's circuit opening; in
 * `slow` mode, one whose parameters carry `delay_ms: N` waits N ms instead of --delay-ms (a test
 * holds one task for long while the others pass quickly).
 * --max-concurrency is what it registers; --refuse-above is where the agent itself starts answering
 * 503 (default: far above, so a test sees whatever the orchestrator sends).
 * Every delivery that reaches a handler is appended to --log as one JSON line
 * {task_id, task_type, attempt, time, mode, concurrent} before the agent answers (`concurrent`:
 * tasks running on this agent including this one). Once registered it prints
 * `READY <agent_id> <port>` on stdout. After its handler settled, and so after the agent's SDK has
 * written the answer (if the orchestrator still held the connection), it prints one line
 * `ANSWERED {"task_id":…,"attempt":…,"outcome":…,"aborted":…}` on stdout: `outcome` is `completed`,
 * `HTTP 500` or `not retryable`; `aborted` is null, or why the task's signal was aborted by then (the
 * orchestrator closed the connection, or the task's deadline passed), in which case no answer went
 * out. A hung delivery prints nothing. SIGUSR2 drains it (it prints `DRAINED`). SIGTERM / SIGINT
 * unregister and exit 0.
 *
 * With --async its handlers are long-running (asynchronous delivery): each delivery is answered 202
 * at once and the mode plays out in the background, then the SDK reports the outcome with POST
 * /tasks/{id}/result (`HTTP 500` in ANSWERED then means a failed, retryable report). `slow` reports
 * after --delay-ms, with a progress every --progress-every-ms if given; `hang` never reports (the
 * SDK's keep-alive holds the attempt until its deadline). Async `slow` and `hang` stop when the
 * task's signal aborts (a cancel notice, a 409, the deadline) and print
 * `ABORTED {"task_id":…,"attempt":…,"reason":…}`. --silent turns the keep-alive off: an agent that
 * accepted and went quiet, for the heartbeat timeout. --die-after-ms N kills the process (SIGKILL)
 * N ms after it accepted its first task: an agent dying mid-task. Each report, once settled, prints
 * `REPORTED {"task_id":…,"attempt":…,"status":…,"outcome":…}` (the SDK's ReportOutcome).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, NonRetryableTaskError, type TaskContext } from '@optiinfra/sdk';

const MODES = ['ok', 'fail500', 'slow', 'hang', 'reject'] as const;
type Mode = (typeof MODES)[number];

function fail(message: string): never {
  console.error(`fault-agent: ${message}`);
  process.exit(2);
}

function intOption(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${what} must be a whole number, got "${value}"`);
  return n;
}

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: process.env.FAULT_MODE ?? 'ok' },
    log: { type: 'string', default: process.env.FAULT_LOG },
    'delay-ms': { type: 'string', default: process.env.FAULT_DELAY_MS },
    'fail-first': { type: 'string', default: process.env.FAULT_FAIL_FIRST },
    name: { type: 'string', default: process.env.AGENT_NAME ?? 'fault-agent-1' },
    type: { type: 'string', default: process.env.AGENT_TYPE ?? 'fault' },
    capabilities: { type: 'string', default: process.env.AGENT_CAPABILITIES ?? 'fault_task' },
    port: { type: 'string', default: process.env.AGENT_PORT ?? '0' },
    orchestrator: { type: 'string', default: process.env.ORCHESTRATOR_URL ?? 'http://127.0.0.1:8080' },
    'max-concurrency': { type: 'string', default: '100' },
    'refuse-above': { type: 'string', default: '1000' },
    'fail-deliveries': { type: 'string', default: '0' },
    'api-token': { type: 'string', default: process.env.API_TOKEN },
    'fleet-token': { type: 'string', default: process.env.FLEET_TOKEN },
    result: { type: 'string' },
    'result-file': { type: 'string' },
    async: { type: 'boolean', default: process.env.FAULT_ASYNC === '1' },
    'progress-every-ms': { type: 'string', default: process.env.FAULT_PROGRESS_EVERY_MS },
    silent: { type: 'boolean', default: false },
    'die-after-ms': { type: 'string', default: process.env.FAULT_DIE_AFTER_MS },
  },
});

const mode = values.mode as Mode;
if (!MODES.includes(mode)) fail(`--mode must be one of ${MODES.join(', ')}, got "${values.mode}"`);
const logFile = values.log;
const delayMs = intOption(values['delay-ms'], '--delay-ms', 5_000);
const failFirst = intOption(values['fail-first'], '--fail-first', Number.MAX_SAFE_INTEGER);
const port = intOption(values.port, '--port', 0);
const capabilities = (values.capabilities ?? '')
  .split(',')
  .map((c) => c.trim())
  .filter(Boolean);
if (capabilities.length === 0) fail('--capabilities must name at least one task type');

const resultText = values['result-file'] !== undefined ? readFileSync(values['result-file'], 'utf8') : values.result;
let fixedResult: unknown;
if (resultText !== undefined) {
  try {
    fixedResult = JSON.parse(resultText);
  } catch {
    fail(`--result (or the --result-file) must be JSON, got "${resultText.slice(0, 80)}"`);
  }
}
const failDeliveries = intOption(values['fail-deliveries'], '--fail-deliveries', 0);
const asyncMode = values.async === true;
const progressEveryMs = intOption(values['progress-every-ms'], '--progress-every-ms', 0);
const dieAfterMs = values['die-after-ms'] === undefined ? undefined : intOption(values['die-after-ms'], '--die-after-ms', 0);
if (!asyncMode && (progressEveryMs > 0 || values.silent || dieAfterMs !== undefined))
  fail('--progress-every-ms, --silent and --die-after-ms need --async');
const deliveries = new Map<string, number>();
let received = 0;
let running = 0;
const shuttingDown = new AbortController();

function record(ctx: TaskContext): number {
  const seen = (deliveries.get(ctx.taskId) ?? 0) + 1;
  deliveries.set(ctx.taskId, seen);
  if (logFile) {
    const line = JSON.stringify({
      task_id: ctx.taskId,
      task_type: ctx.taskType,
      attempt: ctx.attempt,
      time: new Date().toISOString(),
      mode,
      concurrent: running,
    });
    // Written synchronously so the line is on disk before the orchestrator sees the answer.
    appendFileSync(logFile, `${line}\n`);
  }
  return seen;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Async modes: waits `ms` (forever when undefined) with progress every --progress-every-ms, until the task's signal aborts. */
function work(ms: number | undefined, ctx: TaskContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let step = 0;
    const ticker =
      progressEveryMs > 0
        ? setInterval(() => {
            const pct = ms ? Math.min(99, Math.round(((Date.now() - started) / ms) * 100)) : undefined;
            void ctx.progress(pct, `step ${++step}`);
          }, progressEveryMs)
        : undefined;
    const done = ms === undefined ? undefined : setTimeout(finish, ms);
    const onAbort = () => {
      const reason: unknown = ctx.signal.reason;
      console.log(
        `ABORTED ${JSON.stringify({ task_id: ctx.taskId, attempt: ctx.attempt, reason: reason instanceof Error ? reason.message : 'aborted' })}`,
      );
      finish();
      reject(reason instanceof Error ? reason : new Error('aborted'));
    };
    function finish() {
      clearInterval(ticker);
      clearTimeout(done);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

let dying = false;
function dieLater(): void {
  if (dieAfterMs === undefined || dying) return;
  dying = true;
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), dieAfterMs);
}

/** Says on stdout that the delivery was answered: once the SDK has written the answer, a turn of the event loop later. */
function reportAnswer(ctx: TaskContext, outcome: 'completed' | 'HTTP 500' | 'not retryable'): void {
  setImmediate(() => {
    const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : null;
    const aborted = reason === null ? null : reason instanceof Error ? reason.message : 'aborted';
    console.log(`ANSWERED ${JSON.stringify({ task_id: ctx.taskId, attempt: ctx.attempt, outcome, aborted })}`);
  });
}

async function run(params: Record<string, unknown>, ctx: TaskContext): Promise<unknown> {
  running += 1;
  let outcome: 'completed' | 'HTTP 500' | 'not retryable' = 'HTTP 500';
  try {
    const seen = record(ctx);
    received += 1;
    if (received <= failDeliveries)
      throw new Error(`fault-agent fails its delivery ${received} of ${failDeliveries} on purpose (flapping)`);
    const failThis = typeof params.fail_first === 'number' ? params.fail_first : mode === 'fail500' ? failFirst : 0;
    if (seen <= failThis) throw new Error(`fault-agent fails delivery ${seen} of task ${ctx.taskId} on purpose`);
    if (mode === 'reject') {
      outcome = 'not retryable';
      throw new NonRetryableTaskError(`fault-agent rejects task ${ctx.taskId}: no attempt can succeed`);
    }
    dieLater();
    const delayThis = typeof params.delay_ms === 'number' ? params.delay_ms : delayMs;
    if (asyncMode && (mode === 'slow' || mode === 'hang')) await work(mode === 'slow' ? delayThis : undefined, ctx);
    // Synchronous ones ignore ctx.signal on purpose: a slow or hung agent does not notice that the orchestrator gave up.
    else if (mode === 'slow') await sleep(delayThis);
    else if (mode === 'hang') await new Promise<never>(() => undefined);
    outcome = 'completed';
    return resultText !== undefined ? fixedResult : { ok: true, mode, attempt: ctx.attempt, delivery: seen, echo: params };
  } finally {
    running -= 1;
    reportAnswer(ctx, outcome);
  }
}

const agent = new Agent({
  name: values.name ?? 'fault-agent-1',
  type: values.type ?? 'fault',
  port,
  orchestratorUrl: values.orchestrator,
  maxConcurrency: intOption(values['max-concurrency'], '--max-concurrency', 100),
  refuseAbove: intOption(values['refuse-above'], '--refuse-above', 1000),
  apiToken: values['api-token'],
  fleetToken: values['fleet-token'],
  stopGraceMs: 1_000,
  onReport: (e) =>
    console.log(`REPORTED ${JSON.stringify({ task_id: e.taskId, attempt: e.attempt, status: e.status, outcome: e.outcome })}`),
  logger: {
    info: () => undefined,
    warn: (m) => console.error(`fault-agent WARN ${m}`),
    error: (m) => console.error(`fault-agent ERROR ${m}`),
  },
});
for (const taskType of capabilities) agent.handle(taskType, run, { longRunning: asyncMode, keepAlive: !values.silent });

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(130);
  stopping = true;
  console.error(`fault-agent ${signal}: stopping`);
  shuttingDown.abort();
  // A hung handler never settles; stop() gives up on it after stopGraceMs and closes its connection.
  agent.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('SIGUSR2', () => {
  agent.drain().then(
    () => console.log('DRAINED'),
    (err: unknown) => console.error(`fault-agent could not drain: ${err instanceof Error ? err.message : String(err)}`),
  );
});

try {
  await agent.start({ signal: shuttingDown.signal });
} catch (err) {
  if (shuttingDown.signal.aborted) process.exit(0);
  fail(err instanceof Error ? err.message : String(err));
}
console.log(`READY ${agent.id} ${agent.port}`);
