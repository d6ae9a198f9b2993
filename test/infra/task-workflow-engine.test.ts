/**
 * The deployed state machine definition, run by the local engine with scripted steps: every path
 * (done, retry after a delay, wait for an agent, a failing step) ends where the design says. The
 * definition is the synthesized template's, which test/integration/task-routing.test.ts holds equal
 * to what `cdk synth` (bin/app.ts) deploys.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StateMachine } from '../../local/stand-ins/step-functions-engine';
import { type AslDefinition, stateMachinesFromTemplate } from '../../local/template/state-machines';
import { synthesizedTemplate } from '../../local/template/synthesize';

let definition: AslDefinition;

beforeAll(async () => {
  const machine = stateMachinesFromTemplate(await synthesizedTemplate()).find((m) => m.stateMachineType === 'STANDARD');
  definition = machine!.definition;
});

type Step = Record<string, unknown>;

async function run(dispatch: Array<Step | Error>, fault: Array<Step | Error> = []) {
  const calls: Array<{ state: string; input: Record<string, unknown> }> = [];
  const script = (state: string, steps: Array<Step | Error>) => async (input: unknown) => {
    calls.push({ state, input: input as Record<string, unknown> });
    const next = steps.shift();
    if (next === undefined) throw new Error(`${state} called more often than scripted`);
    if (next instanceof Error) throw next;
    return next;
  };
  const machine = new StateMachine(definition as never);
  const execution = machine.run(
    { task_id: 't-1', state_timeout_seconds: 5 },
    {
      overrides: {
        taskResourceLocalHandlers: { Dispatch: script('Dispatch', dispatch), RecordFault: script('RecordFault', fault) } as never,
        retryIntervalOverrides: { Dispatch: 0, RecordFault: 0 },
      },
    },
  );
  const result = await execution.result.then(
    (output) => ({ ok: true as const, output: output as Record<string, unknown> }),
    (error: Error) => ({ ok: false as const, error }),
  );
  return { result, calls };
}

describe('the task state machine, run locally', () => {
  it('ends after one dispatch that finishes the task', async () => {
    const { result, calls } = await run([{ outcome: 'done', status: 'completed' }]);
    expect(result).toEqual({
      ok: true,
      output: { task_id: 't-1', state_timeout_seconds: 5, step: { outcome: 'done', status: 'completed' } },
    });
    expect(calls.map((c) => c.state)).toEqual(['Dispatch']);
  });

  it('passes the whole state and the per-task limit to the dispatcher', async () => {
    const { calls } = await run([{ outcome: 'done' }]);
    expect(calls[0]!.input).toEqual({ action: 'dispatch', state: { task_id: 't-1', state_timeout_seconds: 5 }, state_timeout_seconds: 5 });
  });

  it('waits the delay the step asks for, then dispatches again', async () => {
    const started = Date.now();
    const { result, calls } = await run([
      { outcome: 'retry', delay_seconds: 1 },
      { outcome: 'wait', delay_seconds: 1 },
      { outcome: 'done' },
    ]);
    expect(result.ok).toBe(true);
    expect(calls.map((c) => c.state)).toEqual(['Dispatch', 'Dispatch', 'Dispatch']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect((calls[1]!.input.state as Step).step).toEqual({ outcome: 'retry', delay_seconds: 1 });
  });

  it('sends a failing dispatch step to RecordFault with the error, and routes on its answer', async () => {
    const failure = Object.assign(new Error('boom'), { name: 'DispatcherCrashed' });
    const { result, calls } = await run([failure, { outcome: 'done' }], [{ outcome: 'retry', delay_seconds: 0 }]);
    expect(result.ok).toBe(true);
    expect(calls.map((c) => c.state)).toEqual(['Dispatch', 'RecordFault', 'Dispatch']);
    expect((calls[1]!.input.state as Step).fault).toMatchObject({ Error: 'DispatcherCrashed' });
  });

  it('times out a dispatch step that outlives state_timeout_seconds and records it as a fault', async () => {
    const machine = new StateMachine(definition as never);
    const faults: unknown[] = [];
    const execution = machine.run(
      { task_id: 't-2', state_timeout_seconds: 1 },
      {
        overrides: {
          taskResourceLocalHandlers: {
            Dispatch: () => new Promise((resolve) => setTimeout(() => resolve({ outcome: 'done' }), 1500)),
            RecordFault: (input: unknown) => {
              faults.push(input);
              return { outcome: 'done', status: 'timeout' };
            },
          } as never,
        },
      },
    );
    const output = (await execution.result) as Record<string, unknown>;
    expect(output.step).toEqual({ outcome: 'done', status: 'timeout' });
    expect(((faults[0] as Step).state as Step).fault).toMatchObject({ Error: 'States.Timeout' });
  });

  it('invokes a throttled dispatch step again, without counting a fault (Lambda did not run it)', async () => {
    const throttled = () => Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
    const { result, calls } = await run([throttled(), throttled(), { outcome: 'done', status: 'completed' }]);
    expect(result).toMatchObject({ ok: true, output: { step: { outcome: 'done', status: 'completed' } } });
    expect(calls.map((c) => c.state)).toEqual(['Dispatch', 'Dispatch', 'Dispatch']);
  });

  it('ends in Stranded when recording the fault keeps failing too', async () => {
    const failure = () => Object.assign(new Error('down'), { name: 'TableUnavailable' });
    const { result, calls } = await run([failure()], [failure(), failure(), failure(), failure(), failure()]);
    expect(result.ok).toBe(false);
    expect(calls.filter((c) => c.state === 'RecordFault')).toHaveLength(5);
  });
});
