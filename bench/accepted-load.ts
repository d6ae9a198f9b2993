/**
 * Many asynchronous tasks in flight at once: `--tasks` tasks (default 1 000) whose agent accepts
 * them (202) and reports after `--work-seconds` (default 5), on `--agents` agents (default 10) of
 * `--tasks / --agents` slots each, through a local orchestrator (`npm start`'s entry point, its own
 * process). Prints how long they took and checks each task completed, after exactly one delivery.
 *
 *   node --import tsx bench/accepted-load.ts [--tasks 1000] [--agents 10] [--work-seconds 5]
 */
import { parseArgs } from 'node:util';
import { type AcceptingAgent, startAcceptingAgent } from '../harness/accepting-agent';
import { call, startLocalOrchestrator } from '../harness/local-orchestrator';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '10' },
    'work-seconds': { type: 'string', default: '5' },
  },
});
const tasks = Number(values.tasks);
const agentCount = Number(values.agents);
const workSeconds = Number(values['work-seconds']);

const orch = await startLocalOrchestrator({ RECONCILE_INTERVAL_SECONDS: '5', LOG_LEVEL: 'ERROR' });
const agents: AcceptingAgent[] = [];
try {
  for (let i = 0; i < agentCount; i++)
    agents.push(
      await startAcceptingAgent(orch.url, {
        name: `async-${i}`,
        type: 'async-load',
        capabilities: ['plan'],
        maxConcurrency: Math.ceil(tasks / agentCount),
        autoReport: { workMs: workSeconds * 1000 },
      }),
    );
  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < tasks; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, tasks - i) }, () =>
        call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'plan', agent_type: 'async-load', timeout_seconds: 600 }),
      ),
    );
    for (const res of batch) {
      if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.body)}`);
      ids.push(res.body.task_id);
    }
  }
  const submitted = Date.now();
  console.log(`submitted ${tasks} tasks in ${((submitted - started) / 1000).toFixed(1)} s`);
  const statusOf = new Map<string, string>();
  const deadline = Date.now() + (workSeconds + 300) * 1000;
  let mostRunning = 0;
  for (;;) {
    statusOf.clear();
    for (const status of ['completed', 'running', 'sent', 'pending', 'retrying', 'failed', 'timeout']) {
      let token: string | undefined;
      do {
        const page = await call<{ tasks: Array<{ task_id: string }>; next_token?: string }>(
          orch.url,
          'GET',
          `/tasks?agent_type=async-load&status=${status}&limit=100${token ? `&next_token=${token}` : ''}`,
        );
        for (const t of page.body.tasks) statusOf.set(t.task_id, status);
        token = page.body.next_token;
      } while (token);
    }
    mostRunning = Math.max(mostRunning, ids.filter((id) => statusOf.get(id) === 'running').length);
    const done = ids.filter((id) => statusOf.get(id) === 'completed').length;
    if (done === tasks || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const finished = Date.now();
  const deliveries = new Map<string, number>();
  for (const a of agents) for (const d of a.deliveries) deliveries.set(d.taskId, (deliveries.get(d.taskId) ?? 0) + 1);
  const completed = ids.filter((id) => statusOf.get(id) === 'completed').length;
  const twice = [...deliveries.values()].filter((n) => n > 1).length;
  const perAgent = agents.map((a) => a.deliveries.length);
  console.log(
    JSON.stringify({
      tasks,
      agents: agentCount,
      work_seconds: workSeconds,
      completed,
      not_completed: tasks - completed,
      delivered_more_than_once: twice,
      deliveries_per_agent: perAgent,
      most_running_at_once: mostRunning,
      seconds_from_first_submit_to_all_completed: (finished - started) / 1000,
    }),
  );
  process.exitCode = completed === tasks && twice === 0 ? 0 : 1;
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  await orch.dispose();
}
