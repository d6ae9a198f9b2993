/**
 * Chaos run: a few thousand tasks to a dozen agents while agents, redis-server and the orchestrator
 * itself are killed (SIGKILL) and started again. Every process is real: `local/main.ts`, a
 * redis-server, and examples/fault-agent.ts agents that log every delivery.
 *
 *   npm run chaos                         # 2000 tasks, 12 agents and 4 that answer 202
 *   npm run chaos -- --tasks 500 --rate 40 --seed 7
 *   npm run chaos -- --async-agents 0        # without the 4 agents that answer 202 and report later
 *
 * Prints what was accepted and how each accepted task ended, then the two numbers that must be 0:
 *   lost        accepted tasks that are unknown or unfinished when the run ends
 *   duplicated  attempts an agent received more than once (the same task and attempt number)
 * and exits 1 if either is not.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { type AgentProcess, type Delivery, type FaultAgentOptions, startFaultAgent } from '../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../harness/local-orchestrator';
import { freePort } from '../harness/processes';
import { killNow, redisUrlOn, startRedisOn } from '../harness/redis';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    'drain-minutes': { type: 'string', default: '10' },
    'async-agents': { type: 'string', default: '4' },
  },
});
const TASKS = Number(values.tasks);
const RATE = Number(values.rate);
const DRAIN_MS = Number(values['drain-minutes']) * 60_000;

// A small seeded generator, so a run can be repeated.
let state = Number(values.seed) >>> 0 || 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---- redis-server on a fixed port, so it can come back where the orchestrator expects it
let redis: ChildProcess | undefined;
const redisPort = await freePort();
async function startRedis(): Promise<void> {
  redis = await startRedisOn(redisPort);
}
async function killRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  await killNow(child);
}

// ---- the fleet: a dozen agents of one type, some of them unreliable
const FLEET: Array<Omit<FaultAgentOptions, 'type'> & { name: string }> = [
  ...Array.from({ length: 8 }, (_, i) => ({ name: `chaos-ok-${i}`, mode: 'slow' as const, delayMs: 50 + i * 30, maxConcurrency: 8 })),
  { name: 'chaos-fails-first-0', mode: 'fail500', failFirst: 1, maxConcurrency: 8 },
  { name: 'chaos-fails-first-1', mode: 'fail500', failFirst: 1, maxConcurrency: 8 },
  { name: 'chaos-flapping-0', mode: 'ok', failDeliveries: 30, maxConcurrency: 8 },
  { name: 'chaos-flapping-1', mode: 'ok', failDeliveries: 30, maxConcurrency: 8 },
  // Asynchronous delivery: they answer 202, report progress, and report the result later (killed too).
  ...Array.from({ length: Number(values['async-agents']) }, (_, i) => ({
    name: `chaos-async-${i}`,
    mode: 'slow' as const,
    async: true,
    delayMs: 200 + i * 100,
    progressEveryMs: 100,
    maxConcurrency: 8,
  })),
];

const live = new Map<string, AgentProcess>();
const deliveries: Delivery[] = [];
/** Of them, those to the agents that answer 202 (--async-agents), and their reports the orchestrator acknowledged. */
const accepted202 = { deliveries: 0, acknowledged: 0 };
function keep(name: string, agent: AgentProcess): void {
  deliveries.push(...agent.deliveries());
  if (!name.startsWith('chaos-async-')) return;
  accepted202.deliveries += agent.deliveries().length;
  accepted202.acknowledged += agent.reports().filter((r) => r.outcome === 'acknowledged').length;
}

async function startAgent(name: string): Promise<void> {
  const spec = FLEET.find((f) => f.name === name)!;
  live.set(name, await startFaultAgent(orch.url, { ...spec, type: 'chaos', capabilities: ['work'] }));
}
// A run that throws (say, the orchestrator does not come back) still leaves no process behind.
const started: { orch?: LocalOrchestrator } = {};
process.on('exit', () => {
  redis?.kill('SIGKILL');
  for (const agent of live.values()) agent.proc.child.kill('SIGKILL');
  started.orch?.proc.child.kill('SIGKILL');
});

/** Keeps what the agent logged, then SIGKILLs it. */
async function killAgent(name: string): Promise<void> {
  const agent = live.get(name);
  if (!agent) return;
  live.delete(name);
  agent.proc.child.kill('SIGKILL');
  await sleep(50);
  keep(name, agent);
  await agent.stop();
}

async function post(path: string, body?: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(`${orch.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch {
    return { status: 0, body: {} };
  }
}

// ---- the run
log(`starting: redis-server on ${redisPort}, the orchestrator, ${FLEET.length} agents; ${TASKS} tasks at ${RATE}/s`);
await startRedis();
// DEBUG logs every workflow step, so a lost task can be traced through every incarnation.
const orch: LocalOrchestrator = await startLocalOrchestrator({
  REDIS_URL: redisUrlOn(redisPort),
  QUEUE_TIMEOUT_SECONDS: '600',
  BREAKER_COOLDOWN_SECONDS: '5',
  LOG_LEVEL: 'DEBUG',
});
started.orch = orch;
const pastOutput: string[] = [];
for (const f of FLEET) await startAgent(f.name);

const accepted: string[] = [];
const cancelRequested = new Set<string>();
let refused = 0;
let submitting = true;
const events: string[] = [];

const submitter = (async () => {
  for (let i = 0; i < TASKS; i++) {
    const res = await post('/tasks', {
      task_type: 'work',
      agent_type: 'chaos',
      priority: pick([1, 5, 5, 10, 15]),
      max_retries: 8,
      retry_delay_seconds: 1,
      timeout_seconds: 10,
      parameters: { n: i },
    });
    if (res.status === 201) {
      const id = String(res.body.task_id);
      accepted.push(id);
      if (random() < 0.02) {
        cancelRequested.add(id);
        setTimeout(() => void post(`/tasks/${id}`, undefined, 'DELETE'), Math.floor(random() * 2_000));
      }
    } else {
      refused += 1;
    }
    await sleep(1000 / RATE);
  }
  submitting = false;
})();

const chaos = (async () => {
  while (submitting) {
    await sleep(2_000 + random() * 3_000);
    if (!submitting) break;
    const roll = random();
    if (roll < 0.5) {
      const name = pick([...live.keys()]);
      events.push(`killed agent ${name}`);
      await killAgent(name);
      await sleep(500 + random() * 2_000);
      await startAgent(name);
    } else if (roll < 0.75) {
      events.push('killed redis-server');
      await killRedis();
      await sleep(1_000 + random() * 3_000);
      await startRedis();
    } else {
      events.push('killed the orchestrator');
      await orch.stop('SIGKILL');
      pastOutput.push(`${orch.proc.output()}\n[chaos] --- the orchestrator was SIGKILLed here ---`);
      await sleep(500 + random() * 1_500);
      await orch.restart();
    }
    log(`${events.at(-1)} and started it again (${accepted.length} accepted so far)`);
  }
})();

await Promise.all([submitter, chaos]);
log(
  `submitted: ${accepted.length} accepted, ${refused} refused (while the orchestrator was down); waiting for every accepted task to finish`,
);

const TERMINAL = new Set(['completed', 'failed', 'timeout', 'cancelled']);
const final = new Map<string, Record<string, unknown>>();
const drainUntil = Date.now() + DRAIN_MS;
while (Date.now() < drainUntil && final.size < accepted.length) {
  for (const id of accepted) {
    if (final.has(id)) continue;
    const res = await post(`/tasks/${id}`, undefined, 'GET');
    if (res.status === 200 && TERMINAL.has(String(res.body.status))) final.set(id, res.body);
  }
  if (final.size < accepted.length) await sleep(2_000);
}

// What the lost ones look like, before the orchestrator and its data go away.
const lostNow = accepted.filter((id) => !final.has(id));
for (const id of lostNow.slice(0, 5)) {
  const seenBy = [...deliveries, ...[...live.values()].flatMap((a) => a.deliveries())].filter((d) => d.task_id === id);
  const listed = await post(`/tasks?limit=100`, undefined, 'GET');
  const view = (listed.body.tasks as Array<Record<string, unknown>> | undefined)?.find((t) => t.task_id === id);
  const record = (await post(`/tasks/${id}`, undefined, 'GET')).body;
  log(`lost ${id}: ${JSON.stringify(record)} ${view ? `updated_at ${String(view.updated_at)}` : ''} deliveries ${JSON.stringify(seenBy)}`);
  // Whether the status index (what the reconciler reads) lists it under its status.
  let inIndex = false;
  let token: string | undefined;
  for (let page = 0; page < 50 && !inIndex; page++) {
    const res = await post(
      `/tasks?status=${String(record.status)}&limit=100${token ? `&next_token=${encodeURIComponent(token)}` : ''}`,
      undefined,
      'GET',
    );
    const tasks = (res.body.tasks as Array<Record<string, unknown>> | undefined) ?? [];
    inIndex = tasks.some((t) => t.task_id === id);
    token = res.body.next_token as string | undefined;
    if (!token) break;
  }
  log(`lost ${id}: ${inIndex ? 'listed' : 'NOT listed'} under status ${String(record.status)} by GET /tasks?status=`);
}
const everyIncarnation = [...pastOutput, orch.proc.output()].join('\n').split('\n');
// Items the DynamoDB stand-in wrote again at a restart because a kill had cut them out of an index.
const indexRepairs = everyIncarnation
  .map((l) => /(\d+) written again because an index had lost them/.exec(l)?.[1])
  .filter((n) => n !== undefined);
if (lostNow.length > 0) {
  const aboutLost = (l: string) => lostNow.slice(0, 5).some((id) => l.includes(id));
  const general = (l: string) =>
    !l.includes('Workflow  execution') && /^\[orchestrator\]|SIGKILLed here|"level":"(WARN|ERROR)"|failed|Recovery/.test(l);
  const relevant = everyIncarnation.filter((l) => aboutLost(l) || general(l));
  log(`orchestrator output about the lost tasks, every incarnation:\n${relevant.slice(-400).join('\n')}`);
}

for (const name of [...live.keys()]) {
  const agent = live.get(name)!;
  keep(name, agent);
  await agent.stop();
}
if (lostNow.length > 0) {
  await orch.stop();
  log(`the orchestrator's data is kept for inspection in ${orch.dataDir}`);
} else {
  await orch.dispose();
}
await killRedis();

const count = (status: string) => [...final.values()].filter((t) => t.status === status).length;
const lost = accepted.filter((id) => !final.has(id));
const seen = new Map<string, number>();
for (const d of deliveries) seen.set(`${d.task_id}#${d.attempt}`, (seen.get(`${d.task_id}#${d.attempt}`) ?? 0) + 1);
const duplicated = [...seen.values()].filter((n) => n > 1).length;
const unknownDeliveries = deliveries.filter((d) => !accepted.includes(d.task_id)).length;

console.log('');
console.log(
  `chaos events        ${events.length} (${['agent', 'redis', 'orchestrator'].map((k) => `${events.filter((e) => e.includes(k)).length} ${k}`).join(', ')})`,
);
console.log(`accepted            ${accepted.length}`);
console.log(`completed           ${count('completed')}`);
console.log(`failed              ${count('failed')}`);
console.log(`timed out           ${count('timeout')}`);
console.log(`cancelled           ${count('cancelled')} (cancel asked for ${cancelRequested.size})`);
console.log(`lost                ${lost.length}${lost.length ? `  e.g. ${lost.slice(0, 3).join(', ')}` : ''}`);
console.log(`duplicated          ${duplicated}  (attempts delivered more than once, of ${deliveries.length} deliveries)`);
console.log(`answered 202        ${accepted202.deliveries} deliveries, ${accepted202.acknowledged} reports acknowledged (--async-agents)`);
console.log(
  `index repairs       ${indexRepairs.reduce((sum, n) => sum + Number(n), 0)}  (items an index lost to a kill, written again at the ${indexRepairs.length} restart(s) after a kill)`,
);
// A submit whose answer was lost to a kill may still have been stored and run: at-least-once on the client's side.
console.log(
  `unconfirmed         ${unknownDeliveries}  (deliveries of tasks whose submit got no 201, e.g. the orchestrator died answering)`,
);
process.exit(lost.length === 0 && duplicated === 0 ? 0 : 1);
