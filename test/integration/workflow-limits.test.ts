/**
 * Two limits of AWS that only an account shows, on the local runtime (in this process, so the
 * dispatcher's invocations can be wrapped and the engine's events counted) with a real agent:
 * - Lambda throttles an invocation (the function does not run). The state machine retries it with
 *   backoff; the task completes with one delivery, and no fault is recorded.
 * - A Standard execution fails at 25 000 history events. One that nears its budget (200 events
 *   here, WORKFLOW_HISTORY_BUDGET) hands its task to a fresh execution, which finishes it.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { historyEventsBound } from '../../functions/core/workflow-history';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, waitForTask } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { functionBySource } from '../../local/provision';
import { type Handler, type Runtime, startRuntime } from '../../local/runtime';
import type { ExecutionInfo } from '../../local/stand-ins/step-functions-engine';
import { type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { call } from '../support/checked-call';

const BUDGET = 200;

let runtime: Runtime;
let redis: RedisInstance;
let agent: AgentProcess;
const data = tempDir('optiinfra-limits-');
/** Throttles still to answer, per task id, before its dispatch step is invoked. */
const throttles = new Map<string, number>();
/** Throttles for the next task whose dispatch step is invoked (set before it is submitted, so no race). */
let throttleNextTask = 0;
/** The dispatcher's invocations that ran: action and the step's result, per task id. */
const invocations = new Map<string, Array<{ action: string; loop?: number }>>();
const events = new Map<string, Array<{ type: string; state?: { name: string; type: string } }>>();
const ended: ExecutionInfo[] = [];

type StepEvent = { action: string; state: { task_id: string } };

/**
 * A mock, because a throttle cannot be produced locally: Lambda answers TooManyRequestsException
 * without running the function, and so does this wrapper. Everything else is the real dispatcher.
 */
function throttling(handler: Handler): Handler {
  return async (event: unknown, context: Context) => {
    const { action, state } = event as StepEvent;
    if (throttleNextTask > 0 && !throttles.has(state.task_id)) {
      throttles.set(state.task_id, throttleNextTask);
      throttleNextTask = 0;
    }
    const left = throttles.get(state.task_id) ?? 0;
    if (action === 'dispatch' && left > 0) {
      throttles.set(state.task_id, left - 1);
      throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
    }
    const result = (await handler(event, context)) as { loop?: number };
    invocations.set(state.task_id, [...(invocations.get(state.task_id) ?? []), { action, loop: result.loop }]);
    return result;
  };
}

beforeAll(async () => {
  redis = await startRedis({ env: { PATH: process.env.PATH } });
  if (redis.kind === 'none') throw new Error('this test needs redis-server on PATH');
  const dispatcher = functionBySource(await synthesizedTemplate(), 'handlers/dispatcher.ts');
  runtime = await startRuntime({
    host: '127.0.0.1',
    port: 0,
    dataDir: data.dir,
    log: () => undefined,
    env: { CACHE_URL: redis.url, WORKFLOW_MODE: 'standard', WORKFLOW_HISTORY_BUDGET: String(BUDGET), HEARTBEAT_INTERVAL_SECONDS: '1' },
    instrument: {
      handler: (logicalId, handler) => (logicalId === dispatcher ? throttling(handler) : handler),
      onWorkflowEvent: (arn, event) => events.set(arn, [...(events.get(arn) ?? []), event]),
      onExecutionEnd: (info) => ended.push(info),
    },
  });
  agent = await startFaultAgent(runtime.url, { mode: 'ok', type: 'limits' });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await runtime?.stop();
  if (redis && redis.kind !== 'none') await redis.stop();
  data.remove();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(runtime.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'limits', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

const executionsOf = (taskId: string) => ended.filter((e) => e.name.startsWith(taskId));
const statesEntered = (arn: string, name: string) =>
  (events.get(arn) ?? []).filter((e) => e.type === 'StateEntered' && e.state?.name === name).length;

/**
 * What AWS would write for the engine's events: a Task state's entry also schedules and starts the
 * Lambda invocation, each retry schedules and starts another, and its exit records the outcome.
 */
function awsHistoryEvents(arn: string): number {
  let count = 0;
  for (const e of events.get(arn) ?? []) {
    const task = e.state?.type === 'Task';
    if (e.type === 'StateEntered') count += task ? 3 : 1;
    else if (e.type === 'StateExited') count += task ? 2 : 1;
    else if (e.type === 'StateRetried') count += 2;
    else if (e.type !== 'StateCaught') count += 1;
  }
  return count;
}

it('a throttled dispatch step is invoked again after a backoff: the task completes, delivered once, with no fault recorded', async () => {
  throttleNextTask = 2;
  const taskId = await submit({ max_retries: 0 });
  expect(await waitForTask(runtime.url, taskId, isTerminal, 30_000)).toMatchObject({ status: 'completed', attempts: 1 });
  expect(agent.deliveries().filter((d) => d.task_id === taskId)).toHaveLength(1);
  expect(throttles.get(taskId)).toBe(0);
  expect(invocations.get(taskId)).toEqual([{ action: 'dispatch', loop: 1 }]);
  const [execution] = executionsOf(taskId);
  expect(execution).toMatchObject({ name: taskId, status: 'SUCCEEDED' });
  const retried = (events.get(execution!.executionArn) ?? []).filter((e) => e.type === 'StateRetried');
  expect(retried.map((e) => e.state?.name)).toEqual(['Dispatch', 'Dispatch']);
  expect(statesEntered(execution!.executionArn, 'RecordFault')).toBe(0);
});

it('a Standard execution near its history budget hands the task to a fresh one, which finishes it, each attempt delivered once', async () => {
  // Two failed attempts (the agent answers HTTP 500 to the first two deliveries), then one that completes.
  const taskId = await submit({ max_retries: 2, retry_delay_seconds: 0, parameters: { fail_first: 2 } });
  expect(await waitForTask(runtime.url, taskId, isTerminal, 30_000)).toMatchObject({ status: 'completed', attempts: 3 });
  expect(
    agent
      .deliveries()
      .filter((d) => d.task_id === taskId)
      .map((d) => d.attempt),
  ).toEqual([1, 2, 3]);

  // The first execution ran two passes, handed over in its third, and ended within the budget.
  const [first, second, ...more] = executionsOf(taskId);
  expect(more).toEqual([]);
  expect(first).toMatchObject({ name: taskId, status: 'SUCCEEDED' });
  expect(second).toMatchObject({ name: `${taskId}.1`, status: 'SUCCEEDED' });
  expect(invocations.get(taskId)).toEqual([
    { action: 'dispatch', loop: 1 },
    { action: 'dispatch', loop: 2 },
    { action: 'dispatch', loop: 3 },
    { action: 'dispatch', loop: 1 },
  ]);
  // The dispatcher's count of passes is the engine's, and its bound holds for what AWS would record.
  expect(statesEntered(first!.executionArn, 'Dispatch')).toBe(3);
  expect(awsHistoryEvents(first!.executionArn)).toBeLessThanOrEqual(historyEventsBound(3));
  expect(historyEventsBound(3)).toBeLessThanOrEqual(BUDGET);
  expect(statesEntered(second!.executionArn, 'Dispatch')).toBe(1);
});
