/**
 * Waiting reads: GET /tasks/{id}?wait=N on tasks that do not end meanwhile, so each request is held
 * the whole N, the most one can cost. The tasks' agent accepted them (202) and holds nothing of the
 * orchestrator's while it works, so what is measured is the reads alone: the API request, the tasks
 * function held N seconds at the memory the template gives it, its reads of the task, and its cache
 * commands (listening on the task's channel, reading the cached result). A read woken by the task's
 * end costs the same, held only until then. The cache commands are counted on the server, so they
 * include what the agents' heartbeats and the reconciler sent meanwhile, spread over the reads.
 */
import { type AcceptingAgent, startAcceptingAgent } from '../../harness/accepting-agent';
import type { Counts } from './meter';

/** One scenario's counts, as run.ts's ScenarioMeasure. */
export interface WaitReadMeasure {
  name: string;
  description: string;
  tasks: number;
  perTask: Counts;
  fleet: Counts;
}

export interface WaitReadDeps {
  url: string;
  submitAll: (n: number, body: Record<string, unknown>) => Promise<string[]>;
  /** Waits until the tasks' executions ended (the agent accepted them; nothing runs for them then). */
  quiet: (ids: string[], timeoutMs: number) => Promise<void>;
  measure: (run: () => Promise<number>) => Promise<{ perTask: Counts; fleet: Counts }>;
  log: (line: string) => void;
  stops: Array<() => Promise<void> | void>;
}

/** Accepted, and kept alive for the longest heartbeat timeout: no keep-alive lands while the reads are measured. */
const UNFINISHED_TASK = { timeout_seconds: 3600, heartbeat_timeout_seconds: 3600, max_retries: 0 };

export async function waitReadScenarios(waits: readonly number[], requests: number, deps: WaitReadDeps): Promise<WaitReadMeasure[]> {
  if (waits.length === 0) return [];
  const type = 'bench-wait-read';
  const agent: AcceptingAgent = await startAcceptingAgent(deps.url, { name: type, type, capabilities: ['work'], maxConcurrency: 1000 });
  deps.stops.push(() => agent.stop());
  const ids = await deps.submitAll(requests, { task_type: 'work', agent_type: type, ...UNFINISHED_TASK });
  const deadline = Date.now() + 60_000;
  while (agent.deliveries.length < requests) {
    if (Date.now() > deadline) throw new Error(`the agent accepted ${agent.deliveries.length} of ${requests} tasks`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await deps.quiet(ids, 60_000);
  // Warm-up, not counted: the first waiting read opens the subscriber connection a warm function keeps.
  await fetch(`${deps.url}/tasks/${ids[0]}?wait=1`);
  const out: WaitReadMeasure[] = [];
  for (const seconds of waits) {
    deps.log(`wait-read-${seconds}s: ${requests} GET /tasks/{id}?wait=${seconds} held the whole ${seconds} s`);
    const m = await deps.measure(async () => {
      const reads = await Promise.all(ids.map(async (id) => (await fetch(`${deps.url}/tasks/${id}?wait=${seconds}`)).json()));
      const ended = (reads as Array<{ status?: string }>).filter((r) => r.status !== 'running');
      if (ended.length > 0) throw new Error(`a waiting read answered ${JSON.stringify(ended[0])}, expected a running task`);
      return requests;
    });
    out.push({
      name: `wait-read-${seconds}s`,
      description: `GET /tasks/{id}?wait=${seconds} on a task that does not end meanwhile, held ${seconds} s (per waiting request)`,
      tasks: requests,
      ...m,
    });
  }
  // Not measured: the tasks end, so nothing of theirs lands in a later scenario.
  await Promise.all(ids.map((id) => fetch(`${deps.url}/tasks/${id}`, { method: 'DELETE' })));
  return out;
}
