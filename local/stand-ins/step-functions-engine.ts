/**
 * The executions behind the local Step Functions endpoint: each run by aws-local-stepfunctions, kept
 * by ARN with AWS's naming rules (unique names on Standard, a new execution per start on Express).
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from './node22/step-functions';
import { ApiError, failureOf, stringField, toEpochSeconds } from './step-functions-wire';
import { validatedEngine } from './validated-engine';

/** The engine itself, for tests that run a definition directly: only local/stand-ins/node22/ has the package installed. */
export { StateMachine };

export type TaskStateHandler = (input: unknown) => unknown;

export interface LocalStateMachine {
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>` */
  arn: string;
  /** The ASL definition (JSONPath only: the engine silently ignores JSONata). */
  definition: object;
  /** Task state name → local function that stands in for the state's Resource. */
  handlers: Record<string, TaskStateHandler>;
  /** Milliseconds per Wait state name, to shorten waits in tests. */
  waitTimeOverrides?: Record<string, number>;
  /** Milliseconds per retrying state name, to shorten retry back-offs in tests. */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** STANDARD (the default): names are unique. EXPRESS: every start runs a new execution, whatever its name. */
  type?: 'STANDARD' | 'EXPRESS';
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionInfo {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** The state the execution last entered (not part of the AWS API; for logs and tests). */
  currentState?: string;
}

export interface StepFunctionsOptions {
  machines: LocalStateMachine[];
  onExecutionEnd?: (info: ExecutionInfo) => void;
  /** Every event of every execution's history, as the engine reports it (bench/cost.ts counts transitions and log records). */
  onEvent?: (executionArn: string, event: { type: string; state?: { name: string; type: string } }) => void;
  logger?: (line: string) => void;
}

interface Execution {
  info: ExecutionInfo;
  abort?: () => void;
  settled: Promise<void>;
}

interface Machine {
  arn: string;
  name: string;
  express: boolean;
  engine: StateMachine;
  handlers: Record<string, TaskStateHandler>;
  waitTimeOverrides: Record<string, number>;
  retryIntervalOverrides: Record<string, number | number[]>;
}

const MAX_INPUT_BYTES = 256 * 1024;
// AWS: 1–80 characters, none of whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` or control characters.
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS refuses in names
const VALID_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const STATE_MACHINE_ARN = /^arn:[^:]+:states:[^:]+:[^:]+:stateMachine:([^:]+)$/;

function taskStateNames(states: unknown): string[] {
  if (!states || typeof states !== 'object') return [];
  const names: string[] = [];
  for (const [name, raw] of Object.entries(states as Record<string, unknown>)) {
    const state = raw as {
      Type?: string;
      Branches?: Array<{ States?: unknown }>;
      ItemProcessor?: { States?: unknown };
      Iterator?: { States?: unknown };
    };
    if (state.Type === 'Task') names.push(name);
    for (const branch of state.Branches ?? []) names.push(...taskStateNames(branch.States));
    names.push(...taskStateNames(state.ItemProcessor?.States ?? state.Iterator?.States));
  }
  return names;
}

/** The engine and the executions it runs, with the API actions on them: one instance per local endpoint. */
export function localExecutions(options: StepFunctionsOptions) {
  const log = options.logger ?? (() => undefined);
  const machines = new Map<string, Machine>();
  for (const m of options.machines) {
    const match = STATE_MACHINE_ARN.exec(m.arn);
    if (!match) throw new Error(`not a state machine ARN: ${m.arn}`);
    const definition = m.definition as StateMachineDefinition;
    const handlers: Record<string, TaskStateHandler> = {};
    // A Task without a local handler would make the engine call the real AWS Lambda.
    for (const stateName of taskStateNames((definition as { States?: unknown }).States)) {
      const handler = m.handlers[stateName];
      // Wrapped so that a handler that throws synchronously still fails the state, not the engine.
      handlers[stateName] = handler
        ? (input: unknown) => Promise.resolve().then(() => handler(input))
        : () => Promise.reject(Object.assign(new Error(`no local handler for Task state ${stateName}`), { name: 'States.TaskFailed' }));
    }
    machines.set(m.arn, {
      arn: m.arn,
      name: match[1]!,
      express: m.type === 'EXPRESS',
      engine: validatedEngine(definition),
      handlers,
      waitTimeOverrides: m.waitTimeOverrides ?? {},
      retryIntervalOverrides: m.retryIntervalOverrides ?? {},
    });
  }

  const executions = new Map<string, Execution>();

  const finish = (execution: Execution, patch: Partial<ExecutionInfo>) => {
    if (execution.info.status !== 'RUNNING') return;
    Object.assign(execution.info, patch, { stopDate: new Date() });
    execution.abort = undefined;
    if (patch.status !== 'SUCCEEDED')
      log(
        `execution ${execution.info.name} ${execution.info.status}: ${execution.info.error ?? ''} ${execution.info.cause ?? ''}`.trimEnd(),
      );
    try {
      options.onExecutionEnd?.({ ...execution.info });
    } catch (err) {
      log(`onExecutionEnd threw: ${String(err)}`);
    }
  };

  const startExecution = (body: Record<string, unknown>) => {
    const stateMachineArn = stringField(body, 'stateMachineArn', true);
    const machine = machines.get(stateMachineArn);
    if (!machine) {
      if (!STATE_MACHINE_ARN.test(stateMachineArn)) throw new ApiError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    const name = stringField(body, 'name') ?? randomUUID();
    if (!VALID_NAME.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = stringField(body, 'input') ?? '{}';
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) throw new ApiError('InvalidExecutionInput', 'input exceeds 262144 bytes');
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: input is not valid JSON');
    }
    // Express names need not be unique (AWS: arn:...:express:<machine>:<name>:<id>), so a start never meets an earlier one.
    const executionArn = machine.express
      ? `${stateMachineArn.replace(':stateMachine:', ':express:')}:${name}:${randomUUID()}`
      : `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = executions.get(executionArn);
    if (existing) {
      if (existing.info.status === 'RUNNING' && existing.info.input === input) {
        log(`execution ${name} is running already (in ${existing.info.currentState ?? 'its first state'}): not started again`);
        return { executionArn, startDate: toEpochSeconds(existing.info.startDate) };
      }
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const info: ExecutionInfo = { executionArn, stateMachineArn, name, status: 'RUNNING', startDate: new Date(), input };
    const run = machine.engine.run(parsed as never, {
      overrides: {
        taskResourceLocalHandlers: machine.handlers as never,
        waitTimeOverrides: machine.waitTimeOverrides,
        retryIntervalOverrides: machine.retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::000000000000:role/${machine.name}-role` },
        StateMachine: { Id: stateMachineArn, Name: machine.name },
      },
    });
    const execution: Execution = { info, abort: run.abort, settled: Promise.resolve() };
    execution.settled = run.result.then(
      (output) => finish(execution, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (err: unknown) => {
        const timedOut = (err as { name?: string })?.name === 'ExecutionTimeoutError';
        finish(execution, { status: timedOut ? 'TIMED_OUT' : 'FAILED', ...failureOf(err) });
      },
    );
    // Draining the event log keeps its queue from growing for as long as the execution runs.
    void (async () => {
      for await (const event of run.eventLogs) {
        options.onEvent?.(executionArn, event);
        if (event.type === 'StateEntered' && event.index === undefined) info.currentState = event.state.name;
      }
    })().catch(() => undefined);
    executions.set(executionArn, execution);
    log(`execution ${name} started on ${machine.name}`);
    return { executionArn, startDate: toEpochSeconds(info.startDate) };
  };

  const lookup = (body: Record<string, unknown>): Execution => {
    const executionArn = stringField(body, 'executionArn', true);
    const execution = executions.get(executionArn);
    if (!execution) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  };

  const stopExecution = (execution: Execution, error?: string, cause?: string) => {
    if (execution.info.status !== 'RUNNING') return;
    const abort = execution.abort;
    finish(execution, { status: 'ABORTED', error, cause });
    abort?.();
  };

  const describe = (info: ExecutionInfo) => ({
    executionArn: info.executionArn,
    stateMachineArn: info.stateMachineArn,
    name: info.name,
    status: info.status,
    startDate: toEpochSeconds(info.startDate),
    stopDate: toEpochSeconds(info.stopDate),
    input: info.input,
    inputDetails: { included: true },
    ...(info.output === undefined ? {} : { output: info.output, outputDetails: { included: true } }),
    error: info.error,
    cause: info.cause,
  });

  const actions: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution: startExecution,
    DescribeExecution: (body) => describe(lookup(body).info),
    StopExecution: (body) => {
      const execution = lookup(body);
      // AWS accepts a stop of an execution that has already ended, and changes nothing.
      stopExecution(execution, stringField(body, 'error'), stringField(body, 'cause'));
      return { stopDate: toEpochSeconds(execution.info.stopDate) };
    },
    ListExecutions: (body) => {
      const stateMachineArn = stringField(body, 'stateMachineArn', true);
      if (!machines.has(stateMachineArn))
        throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
      const statusFilter = stringField(body, 'statusFilter');
      const maxResults = typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
      const offset = Number(stringField(body, 'nextToken') ?? '0');
      if (!Number.isInteger(offset) || offset < 0) throw new ApiError('InvalidToken', 'Invalid Token');
      const matching = [...executions.values()]
        .map((e) => e.info)
        .filter((i) => i.stateMachineArn === stateMachineArn && (!statusFilter || i.status === statusFilter))
        .reverse();
      const page = matching.slice(offset, offset + maxResults);
      return {
        executions: page.map((i) => ({
          executionArn: i.executionArn,
          stateMachineArn: i.stateMachineArn,
          name: i.name,
          status: i.status,
          startDate: toEpochSeconds(i.startDate),
          stopDate: toEpochSeconds(i.stopDate),
        })),
        ...(offset + maxResults < matching.length ? { nextToken: String(offset + maxResults) } : {}),
      };
    },
  };

  return {
    actions,
    executions: () => [...executions.values()].map((e) => ({ ...e.info })),
    /** Aborts every running execution and waits until each has settled. */
    stopAll: async (): Promise<void> => {
      for (const execution of executions.values()) stopExecution(execution, 'States.Aborted', 'the local Step Functions server stopped');
      await Promise.all([...executions.values()].map((e) => e.settled));
    },
  };
}
