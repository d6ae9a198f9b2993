/**
 * Tasks whose agent answers 202 and reports later (asynchronous delivery): the same tasks with 1 s
 * and with `acceptedSeconds` of work, each sending a keep-alive every heartbeat_timeout_seconds / 2
 * meanwhile, as the SDK does. No compute waits for the agent, so the difference is what the agent's
 * own calls (keep-alives, the report) cost, not the time it takes.
 */
import { type AcceptingAgent, startAcceptingAgent } from '../../harness/accepting-agent';
import type { Counts } from './meter';

/** One scenario's counts, as run.ts's ScenarioMeasure. */
export interface AcceptedMeasure {
  name: string;
  description: string;
  tasks: number;
  perTask: Counts;
  fleet: Counts;
}

export interface AcceptedDeps {
  url: string;
  submitAll: (n: number, body: Record<string, unknown>) => Promise<string[]>;
  settle: (ids: string[], timeoutMs: number) => Promise<void>;
  measure: (run: () => Promise<number>) => Promise<{ perTask: Counts; fleet: Counts }>;
  log: (line: string) => void;
  stops: Array<() => Promise<void> | void>;
}

/** Fits Express (all attempts' HTTP waits and backoffs within its 5 minutes), as the 1 KB happy path does. */
const ACCEPTED_TASK = { timeout_seconds: 90, max_retries: 1, heartbeat_timeout_seconds: 60 };

export async function acceptedScenarios(tasks: number, acceptedSeconds: number, deps: AcceptedDeps): Promise<AcceptedMeasure[]> {
  const out: AcceptedMeasure[] = [];
  for (const [seconds, count] of [
    [1, tasks],
    [acceptedSeconds, Math.min(tasks, 50)],
  ] as const) {
    const type = `bench-async-${seconds}`;
    const agent: AcceptingAgent = await startAcceptingAgent(deps.url, {
      name: type,
      type,
      capabilities: ['work'],
      maxConcurrency: 1000,
      autoReport: { workMs: seconds * 1000 },
    });
    deps.stops.push(() => agent.stop());
    deps.log(`accepted-${seconds}s: ${count} task(s) that the agent accepts (202) and reports after ${seconds} s`);
    const body = { task_type: 'work', agent_type: type, parameters: { data: 'x'.repeat(984) }, ...ACCEPTED_TASK };
    const m = await deps.measure(async () => {
      // All at once: they only wait on the agent, which holds nothing of the orchestrator's meanwhile.
      await deps.settle(await deps.submitAll(count, body), (seconds + 120) * 1000);
      return count;
    });
    out.push({
      name: `accepted-${seconds}s`,
      description: `agent answers 202, keep-alives every 30 s, reports after ${seconds} s (Express)`,
      tasks: count,
      ...m,
    });
  }
  return out;
}
