import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NODE, type Proc, startProcess, tempDir } from './processes';

export interface AgentProcess {
  id: string;
  port: number;
  proc: Proc;
  /** Deliveries the agent received so far, in order. */
  deliveries(): Array<{ task_id: string; attempt: number | string; time: string }>;
  stop(): Promise<void>;
}

let counter = 0;

/** Starts examples/fault-agent.ts as a real process registered with `orchestratorUrl`. */
export async function startFaultAgent(orchestratorUrl: string, options: { mode: 'ok' | 'fail500' | 'slow' | 'hang'; type: string; capabilities?: string[]; delayMs?: number; name?: string; maxConcurrency?: number }): Promise<AgentProcess> {
  const dir = tempDir('fault-agent-');
  const log = path.join(dir.dir, 'deliveries.jsonl');
  const name = options.name ?? `fault-${options.mode}-${process.pid}-${++counter}`;
  const args = ['--import', 'tsx', 'examples/fault-agent.ts', '--mode', options.mode, '--log', log, '--name', name, '--type', options.type, '--capabilities', (options.capabilities ?? ['work']).join(','), '--orchestrator', orchestratorUrl];
  if (options.delayMs !== undefined) args.push('--delay-ms', String(options.delayMs));
  if (options.maxConcurrency !== undefined) args.push('--max-concurrency', String(options.maxConcurrency));
  const proc = startProcess(NODE, args);
  const [, id, port] = await proc.waitFor(/READY (\S+) (\d+)/, 30_000);
  return {
    id: id!,
    port: Number(port),
    proc,
    deliveries: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { task_id: string; attempt: number | string; time: string })
        : [],
    async stop() {
      await proc.stop('SIGTERM');
      dir.remove();
    },
  };
}

/** Starts examples/plain_agent.py: an agent that knows only the seed's HTTP protocol. */
export async function startPlainPythonAgent(orchestratorUrl: string, options: { name: string; type: string }): Promise<{ id: string; port: number; proc: Proc; stop(): Promise<void> }> {
  const proc = startProcess('python3', ['examples/plain_agent.py', '--name', options.name, '--type', options.type, '--port', '0', '--orchestrator', orchestratorUrl]);
  const [, id, port] = await proc.waitFor(/READY (\S+) (\d+)/, 30_000);
  return { id: id!, port: Number(port), proc, stop: async () => void (await proc.stop('SIGTERM')) };
}

export { NODE };
