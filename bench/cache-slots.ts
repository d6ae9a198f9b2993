/**
 * Benchmark: where a task's cache commands land on a cluster, as on ElastiCache Serverless.
 *
 *   node --import tsx bench/cache-slots.ts                # 200 tasks of one agent type
 *   node --import tsx bench/cache-slots.ts --tasks 500
 *
 * Starts a three-master Redis Cluster over TLS (harness/redis-cluster.ts) and `npm start` in cluster
 * mode against it (CACHE_CLUSTER=true, as deployed), one agent of one type, then runs `--tasks`
 * tasks in waves of 20 and prints each master's commands per task (INFO commandstats, the commands
 * scripts run included). The master holding the type's hash slot carries that type's routing: its
 * count, less the others' average (per-task and per-agent keys spread evenly), is the load of one
 * type's slot per task. It also fails if the orchestrator logged any fallback to DynamoDB.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type AgentProcess, startFaultAgent } from '../harness/agents';
import { call, isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTasks } from '../harness/local-orchestrator';
import { tempDir } from '../harness/processes';
import { ownerOf, startRedisCluster } from '../harness/redis-cluster';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '200' } } });
const TASKS = Number(values.tasks);
const TYPE = 'measure';
/** What clients and this benchmark send besides the orchestrator's own commands. */
const NOT_COUNTED = new Set(['info', 'auth', 'ping', 'command', 'client|setinfo', 'cluster|slots', 'cluster|info', 'cluster|myid']);

const cluster = await startRedisCluster();
const certs = tempDir('cache-slots-');
let orch: LocalOrchestrator | undefined;
let agent: AgentProcess | undefined;
try {
  // The orchestrator is another process: it trusts the cluster's certificate authority through Node's own setting.
  const ca = path.join(certs.dir, 'ca.crt');
  writeFileSync(ca, cluster.ca);
  orch = await startLocalOrchestrator({ CACHE_URL: cluster.url, CACHE_CLUSTER: 'true', NODE_EXTRA_CA_CERTS: ca });
  agent = await startFaultAgent(orch.url, { mode: 'ok', type: TYPE, name: 'cache-slots', maxConcurrency: 20 });
  const base = orch.url;
  const submit = () => call(base, 'POST', '/tasks', { task_type: 'work', agent_type: TYPE, parameters: {} });
  const commands = () =>
    Promise.all(
      cluster.nodes.map(async (n) => {
        let count = 0;
        for (const m of (await cluster.node(n.port).info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
          if (!NOT_COUNTED.has(m[1]!)) count += Number(m[2]);
        return count;
      }),
    );
  // A first task once the agent has registered (it warms the handlers' clients), then the measured ones.
  let first = await submit();
  for (let i = 0; i < 100 && typeof first.body.task_id !== 'string'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    first = await submit();
  }
  if (typeof first.body.task_id !== 'string') throw new Error(`no task accepted: ${JSON.stringify(first)}`);
  await waitForTasks(base, [first.body.task_id], isTerminal, 60_000);
  const before = await commands();
  for (let i = 0; i < TASKS; i += 20) {
    const wave = await Promise.all(Array.from({ length: Math.min(20, TASKS - i) }, submit));
    const done = await waitForTasks(
      base,
      wave.map((r) => String(r.body.task_id)),
      isTerminal,
      120_000,
    );
    const wrong = done.find((t) => t.status !== 'completed');
    if (wrong) throw new Error(`a task ended ${String(wrong.status)}`);
  }
  const perTask = (await commands()).map((after, i) => (after - before[i]!) / TASKS);
  const owner = await ownerOf(cluster, Number(await cluster.node(cluster.nodes[0]!.port).cluster('KEYSLOT', `{${TYPE}}`)));
  const at = cluster.nodes.findIndex((n) => n.id === owner.id);
  const others = perTask.filter((_, i) => i !== at);
  const spread = others.reduce((a, b) => a + b, 0) / others.length;
  perTask.forEach((c, i) => console.log(`master ${i}${i === at ? ` (slot of {${TYPE}})` : ''}: ${c.toFixed(1)} commands per task`));
  console.log(
    `one agent type's slot: ${(perTask[at]! - spread).toFixed(1)} of ${perTask.reduce((a, b) => a + b, 0).toFixed(1)} commands per task`,
  );
  const fallbacks = orch.proc.output().match(/cache unavailable/g)?.length ?? 0;
  console.log(`${fallbacks === 0 ? 'PASS' : 'FAIL'}: ${fallbacks} cache fallback cause(s) logged`);
  process.exitCode = fallbacks === 0 ? 0 : 1;
} finally {
  await agent?.stop();
  await orch?.dispose();
  await cluster.stop();
  certs.remove();
}
