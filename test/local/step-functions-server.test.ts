import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ExecutionInfo,
  type LocalStateMachine,
  startStepFunctionsServer,
  type StepFunctionsServer,
} from '../../local/stand-ins/step-functions-server';
import { waitUntil } from '../../harness/wait';

const REGION = 'us-east-1';
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow';

/** Prepare (Task) → Pause (Wait, SecondsPath) → Decide (Choice) → Done | Refuse (Fail). */
const FLOW = {
  StartAt: 'Prepare',
  TimeoutSeconds: 60,
  States: {
    Prepare: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Prepare',
      ResultPath: '$.prepared',
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Decide' },
    Decide: {
      Type: 'Choice',
      Choices: [{ Variable: '$.prepared.ok', BooleanEquals: true, Next: 'Done' }],
      Default: 'Refuse',
    },
    Done: { Type: 'Succeed' },
    Refuse: { Type: 'Fail', Error: 'Refused', Cause: 'prepare said no' },
  },
};

class Boom extends Error {
  override name = 'Boom';
}

const servers: StepFunctionsServer[] = [];
const clients: SFNClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.stop();
});

async function setUp(machine: Partial<LocalStateMachine> = {}, onExecutionEnd?: (info: ExecutionInfo) => void) {
  const calls: unknown[] = [];
  const server = await startStepFunctionsServer({
    machines: [
      {
        arn: MACHINE_ARN,
        definition: FLOW,
        handlers: {
          Prepare: (input) => {
            calls.push(input);
            const i = input as { ok?: boolean; boom?: boolean };
            if (i.boom) throw new Boom('prepare blew up');
            return Promise.resolve({ ok: i.ok === true });
          },
        },
        ...machine,
      },
    ],
    ...(onExecutionEnd ? { onExecutionEnd } : {}),
  });
  servers.push(server);
  const sfn = new SFNClient({ endpoint: server.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  clients.push(sfn);
  return { server, sfn, calls };
}

async function waitForEnd(sfn: SFNClient, executionArn: string, timeoutMs = 10_000): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING' || Date.now() > deadline) return out;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('local Step Functions server', () => {
  it('listens on 127.0.0.1 only', async () => {
    const { server } = await setUp();
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs a Task with the local handler, really waits SecondsPath, follows the Choice and reports SUCCEEDED', async () => {
    const { sfn, calls } = await setUp();
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'run-1', input: JSON.stringify({ ok: true, waitSeconds: 1 }) }),
    );
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:Flow:run-1');
    expect(started.startDate).toBeInstanceOf(Date);

    const running = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(running.status).toBe('RUNNING');
    expect(running.stopDate).toBeUndefined();

    const done = await waitForEnd(sfn, started.executionArn!);
    expect(done).toMatchObject({
      executionArn: started.executionArn,
      stateMachineArn: MACHINE_ARN,
      name: 'run-1',
      status: 'SUCCEEDED',
      input: JSON.stringify({ ok: true, waitSeconds: 1 }),
    });
    expect(JSON.parse(done.output!)).toEqual({ ok: true, waitSeconds: 1, prepared: { ok: true } });
    expect(done.stopDate!.getTime() - done.startDate!.getTime()).toBeGreaterThanOrEqual(950);
    expect(calls).toEqual([{ ok: true, waitSeconds: 1 }]);
  });

  it('reports a Fail state as FAILED with its error and cause', async () => {
    const { sfn } = await setUp();
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'refused', input: JSON.stringify({ ok: false, waitSeconds: 0 }) }),
    );
    const done = await waitForEnd(sfn, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Refused', cause: 'prepare said no' });
    expect(done.output).toBeUndefined();
  });

  it('reports an uncaught handler error by its name, and the process carries on', async () => {
    const ended: ExecutionInfo[] = [];
    const { sfn } = await setUp({}, (info) => ended.push(info));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'boom', input: JSON.stringify({ boom: true, waitSeconds: 0 }) }),
    );
    const done = await waitForEnd(sfn, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Boom', cause: 'prepare blew up' });
    expect(ended).toMatchObject([{ name: 'boom', status: 'FAILED', error: 'Boom' }]);
  });

  it('fails a Task that has no local handler instead of calling AWS Lambda', async () => {
    const { sfn } = await setUp({ handlers: {} });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, input: JSON.stringify({ waitSeconds: 0 }) }),
    );
    const done = await waitForEnd(sfn, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(done.cause).toContain('Prepare');
  });

  it('refuses a name already used with ExecutionAlreadyExists, but returns a running execution started again with the same input', async () => {
    const { sfn, calls } = await setUp();
    const input = JSON.stringify({ ok: true, waitSeconds: 30 });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);

    const other = sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input: '{"ok":false,"waitSeconds":0}' }),
    );
    await expect(other).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(other).rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });

    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    const closed = sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    await expect(closed).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(calls).toHaveLength(1);
  });

  it('on an Express machine runs every start, names repeated or not, each as its own execution (as AWS does)', async () => {
    const { sfn, calls } = await setUp({ type: 'EXPRESS' });
    const input = JSON.stringify({ ok: true, waitSeconds: 0 });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    expect(first.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:express:Flow:task-1:[0-9a-f-]{36}$/);
    expect((await waitForEnd(sfn, first.executionArn!)).status).toBe('SUCCEEDED');
    // Once finished, and while running: the same name starts again.
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    const third = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'task-1', input }));
    expect(new Set([first.executionArn, again.executionArn, third.executionArn]).size).toBe(3);
    await waitForEnd(sfn, again.executionArn!);
    await waitForEnd(sfn, third.executionArn!);
    expect(calls).toHaveLength(3);
  });

  it('stops a running execution: ABORTED with the given error and cause, and stopDate', async () => {
    const { server, sfn } = await setUp();
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'long', input: JSON.stringify({ ok: true, waitSeconds: 30 }) }),
    );
    // Stopped while it waits out its 30 s Pause.
    await waitUntil(
      'the execution waits in Pause',
      () => server.executions().find((e) => e.executionArn === executionArn)?.currentState,
      (state) => state === 'Pause',
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'the user cancelled the task' }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(out).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'the user cancelled the task', stopDate: stopped.stopDate });

    // Stopping it again changes nothing, as on AWS.
    const again = await sfn.send(new StopExecutionCommand({ executionArn }));
    expect(again.stopDate).toEqual(stopped.stopDate);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
  });

  it('reports TIMED_OUT when the execution outlives TimeoutSeconds', async () => {
    const { sfn } = await setUp({ definition: { ...FLOW, TimeoutSeconds: 1 } });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, input: JSON.stringify({ ok: true, waitSeconds: 30 }) }),
    );
    const done = await waitForEnd(sfn, executionArn!);
    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });

  it('applies wait overrides given for tests', async () => {
    const { sfn } = await setUp({ waitTimeOverrides: { Pause: 0 } });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, input: JSON.stringify({ ok: true, waitSeconds: 3600 }) }),
    );
    expect((await waitForEnd(sfn, executionArn!, 2000)).status).toBe('SUCCEEDED');
  });

  it('answers unknown machines and executions and bad names with the AWS error types', async () => {
    const { sfn } = await setUp();
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Nope', input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Flow:nope' })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new StopExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Flow:nope' })),
    ).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'has space', input: '{}' })),
    ).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, input: '{not json' }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
  });

  it('lists executions newest first, filtered by status, in pages', async () => {
    const { sfn } = await setUp();
    for (const name of ['a', 'b', 'c']) {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: MACHINE_ARN,
          name,
          input: JSON.stringify({ ok: true, waitSeconds: name === 'c' ? 30 : 0 }),
        }),
      );
    }
    await waitForEnd(sfn, `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:b`);
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, maxResults: 2 }));
    expect(all.executions?.map((e) => e.name)).toEqual(['c', 'b']);
    const rest = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, maxResults: 2, nextToken: all.nextToken }));
    expect(rest.executions?.map((e) => e.name)).toEqual(['a']);
    expect(rest.nextToken).toBeUndefined();
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, statusFilter: 'RUNNING' }));
    expect(running.executions?.map((e) => e.name)).toEqual(['c']);
  });

  it('stop() aborts the running executions and closes the endpoint', async () => {
    const ended: ExecutionInfo[] = [];
    const { server, sfn } = await setUp({}, (info) => ended.push(info));
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name: 'pending', input: JSON.stringify({ ok: true, waitSeconds: 30 }) }),
    );
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.executions()).toMatchObject([{ name: 'pending', status: 'ABORTED' }]);
    expect(ended).toMatchObject([{ name: 'pending', status: 'ABORTED' }]);
    await expect(fetch(server.endpoint, { method: 'POST' })).rejects.toThrow();
  });
});
