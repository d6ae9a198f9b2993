/**
 * What the local runtime's Step Functions stand-in is running for a task, read through its own API
 * (the endpoint and the state machines that the runtime prints at start). A task's attempts are made
 * only by its executions, so once none of them is RUNNING, nothing more can reach an agent for it
 * (short of the reconciler driving an unfinished task again): the event a "nothing more happens"
 * assertion waits for.
 */
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { LocalOrchestrator } from './local-orchestrator';
import { waitUntil } from './wait';

export interface TaskExecution {
  name: string;
  status: string;
  stateMachine: 'STANDARD' | 'EXPRESS';
}

/** The Step Functions endpoint and state machine ARNs, as the running orchestrator process printed them. */
function workflowOf(orch: LocalOrchestrator): { endpoint: string; machines: Array<{ arn: string; type: 'STANDARD' | 'EXPRESS' }> } {
  const printed = [...orch.proc.output().matchAll(/runs (STANDARD|EXPRESS) (\S+) \(definition sha256 [0-9a-f]+\) behind (\S+)/g)];
  if (printed.length === 0) throw new Error('the orchestrator did not print its state machines');
  return {
    endpoint: printed[0]![3]!,
    machines: printed.map((m) => ({
      arn: `arn:aws:states:us-east-1:000000000000:stateMachine:${m[2]!}`,
      type: m[1] as 'STANDARD' | 'EXPRESS',
    })),
  };
}

/** Every execution the running orchestrator has started (Standard and Express), whatever its task. */
export async function allExecutions(orch: LocalOrchestrator): Promise<TaskExecution[]> {
  const { endpoint, machines } = workflowOf(orch);
  const sfn = new SFNClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const found: TaskExecution[] = [];
    for (const machine of machines) {
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.arn, maxResults: 1000, nextToken }));
        for (const e of page.executions ?? []) found.push({ name: String(e.name), status: String(e.status), stateMachine: machine.type });
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return found;
  } finally {
    sfn.destroy();
  }
}

/** A task driven again after its first Standard execution ended runs under `<task id>.<ms>`. */
const isOf = (taskId: string) => (e: TaskExecution) => e.name === taskId || e.name.startsWith(`${taskId}.`);

/** Every execution the running orchestrator started for `taskId` (Standard and Express). */
export async function executionsOf(orch: LocalOrchestrator, taskId: string): Promise<TaskExecution[]> {
  return (await allExecutions(orch)).filter(isOf(taskId));
}

/** Waits until each task has had an execution and none of their executions is running any more. */
export async function waitForWorkflowEnd(orch: LocalOrchestrator, taskIds: string | readonly string[], timeoutMs = 20_000): Promise<void> {
  const ids = typeof taskIds === 'string' ? [taskIds] : taskIds;
  await waitUntil(
    `every execution of ${ids.length === 1 ? `task ${ids[0]!}` : `${ids.length} tasks`} ended`,
    async () => {
      const executions = await allExecutions(orch);
      return ids.map((id) => ({ id, executions: executions.filter(isOf(id)).map((e) => e.status) }));
    },
    (tasks) => tasks.every((t) => t.executions.length > 0 && t.executions.every((status) => status !== 'RUNNING')),
    { timeoutMs },
  );
}
