/**
 * A test-fixture agent that misbehaves on purpose, so integration tests can watch retries and timeouts.
 *
 *   node --import tsx examples/fault-agent.ts --mode fail500 --log /tmp/attempts.jsonl \
 *     [--fail-first 2] [--delay-ms 2000] [--name fault-agent-1] [--type fault] [--capabilities fault_task,other]
 *     [--port 0] [--orchestrator http://127.0.0.1:8080] [--max-concurrency 100] [--refuse-above N]
 *     [--fail-deliveries N] [--api-token T (default: env API_TOKEN)] [--fleet-token T (default: env FLEET_TOKEN)]
 *     [--result JSON] [--result-file PATH]
 *
 * Modes: `ok` answers completed at once; `fail500` answers HTTP 500 (only the first N deliveries of each
 * task with --fail-first N, then completed); `slow` waits --delay-ms before answering completed; `hang`
 * never answers; `reject` answers `failed` marked not retryable. With --fail-deliveries N the first N
 * deliveries of all (any task) answer HTTP 500 before the mode applies: a flapping agent. With
 * --result, a completed answer carries that JSON, parsed, as its result instead of the usual echo
 * (so a test can send what the orchestrator cannot store, such as 2^64 or a "__proto__" key);
 * --result-file reads that JSON from a file, for results larger than a command line holds.
 * A task whose parameters carry `fail_first: N` fails its first N deliveries with HTTP 500 in any
 * mode, so one task among many can fail (bench/cost.ts) without the agent's circuit opening.
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
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, NonRetryableTaskError, type TaskContext } from '../sdk';

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
    // Both ignore ctx.signal on purpose: a slow or hung agent does not notice that the orchestrator gave up.
    if (mode === 'slow') await sleep(delayMs);
    if (mode === 'hang') await new Promise<never>(() => undefined);
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
  logger: {
    info: () => undefined,
    warn: (m) => console.error(`fault-agent WARN ${m}`),
    error: (m) => console.error(`fault-agent ERROR ${m}`),
  },
});
for (const taskType of capabilities) agent.handle(taskType, run);

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
