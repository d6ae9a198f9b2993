import { describe, expect, it } from 'vitest';
import { logged } from '../../bench/cost/meter';

/** npm run cost counts a state machine's log records at the level the template gives it. */
describe('logged: which history events Step Functions writes to CloudWatch Logs at a level', () => {
  const happy = [
    'ExecutionStarted',
    'TaskStateEntered',
    'LambdaFunctionScheduled',
    'LambdaFunctionSucceeded',
    'ChoiceStateExited',
    'ExecutionSucceeded',
  ];
  const failures = [
    'LambdaFunctionFailed',
    'LambdaFunctionTimedOut',
    'TaskFailed',
    'FailStateEntered',
    'ExecutionFailed',
    'ExecutionTimedOut',
    'ExecutionAborted',
  ];

  it('ALL: every event', () => {
    for (const type of [...happy, ...failures]) expect(logged(type, 'ALL'), type).toBe(true);
  });

  it('ERROR: failures only, so a task that succeeds writes nothing', () => {
    for (const type of happy) expect(logged(type, 'ERROR'), type).toBe(false);
    for (const type of failures) expect(logged(type, 'ERROR'), type).toBe(true);
  });

  it("FATAL: the execution's own failure only; OFF: nothing", () => {
    expect(failures.filter((t) => logged(t, 'FATAL'))).toEqual(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);
    expect([...happy, ...failures].some((t) => logged(t, 'OFF'))).toBe(false);
  });
});
