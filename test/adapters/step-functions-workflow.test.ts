/**
 * The Step Functions adapter against the local Step Functions endpoint: a task's Standard executions
 * are its generations (`<task id>`, `<task id>.1`, …). A start finds the generation that runs, or
 * starts the one after the last that ended, so a re-drive of a task that was continued in a fresh
 * execution starts nothing new while that one runs.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StepFunctionsWorkflow } from '../../functions/adapters/step-functions-workflow';
import { waitUntil } from '../../harness/wait';
import { startStepFunctionsServer, type StepFunctionsServer } from '../../local/stand-ins/step-functions-server';

const STANDARD = 'arn:aws:states:us-east-1:000000000000:stateMachine:Standard';
const TASK = 'a0000000-0000-4000-8000-000000000001';

/** One Task state that holds each execution until the test releases it, by its name. */
const HOLD = {
  StartAt: 'Hold',
  States: { Hold: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Hold', End: true } },
};
const gates = new Map<string, () => void>();
const inputs: unknown[] = [];

let server: StepFunctionsServer;
let sfn: SFNClient;
let workflow: StepFunctionsWorkflow;

beforeAll(async () => {
  server = await startStepFunctionsServer({
    machines: [
      {
        arn: STANDARD,
        definition: HOLD,
        handlers: {
          Hold: (input) => {
            inputs.push(input);
            const { generation } = input as { generation?: number };
            return new Promise<object>((resolve) =>
              gates.set(generation === undefined ? TASK : `${TASK}.${generation}`, () => resolve({})),
            );
          },
        },
      },
    ],
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  workflow = new StepFunctionsWorkflow(sfn, { standard: STANDARD }, { warn: () => undefined });
});

afterAll(async () => {
  sfn?.destroy();
  await server?.stop();
});

/** Lets the execution `name` end, and waits until it has. */
async function release(name: string): Promise<void> {
  await waitUntil(`${name} is held`, () => gates.has(name), Boolean);
  gates.get(name)!();
  gates.delete(name);
  await waitUntil(
    `${name} ended`,
    () => server.executions().find((e) => e.name === name)?.status,
    (s) => s !== 'RUNNING',
  );
}

const running = () =>
  server
    .executions()
    .filter((e) => e.status === 'RUNNING')
    .map((e) => e.name);

it("starts a task's generations in turn, and never a second one while one runs", async () => {
  const input = { task_id: TASK, state_timeout_seconds: 50 };
  expect(await workflow.start('standard', TASK, input)).toBe('started');
  // A re-drive with another input while the first runs: that one is running.
  expect(await workflow.start('standard', TASK, { ...input, state_timeout_seconds: 60 })).toBe('already_running');
  await release(TASK);

  // The first ended without finishing the task: a re-drive starts generation 1, carrying its number.
  expect(await workflow.start('standard', TASK, input)).toBe('already_closed');
  expect(running()).toEqual([`${TASK}.1`]);
  expect(inputs.at(-1)).toEqual({ ...input, generation: 1 });
  // Again: the same input as generation 1's, which Step Functions answers as a start of the running one (nothing new).
  await workflow.start('standard', TASK, input);
  expect(server.executions().map((e) => e.name)).toEqual([TASK, `${TASK}.1`]);

  // Generation 1 continues in generation 2 (the dispatcher's hand-over); its message, redelivered, starts nothing.
  await release(`${TASK}.1`);
  expect(await workflow.start('standard', TASK, { ...input, generation: 2 })).toBe('started');
  expect(await workflow.start('standard', TASK, { ...input, generation: 2, state_timeout_seconds: 70 })).toBe('already_running');
  await workflow.start('standard', TASK, input);
  expect(server.executions().map((e) => e.name)).toEqual([TASK, `${TASK}.1`, `${TASK}.2`]);
  expect(running()).toEqual([`${TASK}.2`]);
  await release(`${TASK}.2`);
});
