import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** State names: the local runtime and the tests address states by these. */
export const WORKFLOW_STATES = {
  dispatch: 'Dispatch',
  recordFault: 'RecordFault',
  route: 'Route',
  retryDelay: 'RetryDelay',
  waitForAgent: 'WaitForAgent',
  done: 'Done',
  stranded: 'Stranded',
} as const;

/**
 * The Lambda service's transient errors, retried by every Task state that invokes a function, first
 * in its Retry list. A throttle (TooManyRequests) means the function did not run. The other three
 * may come after it ran; running the same step again is safe: every write of a step is conditional
 * on the status and attempt it read, and an attempt another invocation leased is only waited for
 * (dispatch.ts). CDK's own default retry lacks TooManyRequests and jitter, so it is turned off.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * Full jitter spreads a throttled burst over the wait instead of retrying it in step. The waits add
 * up to at most 1 + 2 + 4 + 8 + 8 = 23 s, inside the 30 s an Express execution keeps clear of its
 * 5 minutes (EXPRESS_SAFETY_SECONDS), so retries never push a step past its hand-over point.
 */
const LAMBDA_SERVICE_RETRY: sfn.RetryProps = {
  errors: [...LAMBDA_TRANSIENT_ERRORS],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 5,
  maxDelay: Duration.seconds(8),
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * The task's life as a state machine, JSONPath only (the local engine runs no JSONata, Assign or
 * task tokens). Per-task values come from the execution input and from each step's result, never
 * from constants: the Dispatch step's time limit is `$.state_timeout_seconds`, and both waits take
 * `$.step.delay_seconds`, which the dispatcher computes from the task's retry and queue settings.
 *
 *   Dispatch ──▶ Route ──retry──▶ RetryDelay ──▶ Dispatch
 *      │ catch     ├──wait───▶ WaitForAgent ──▶ Dispatch
 *      ▼           └──done───▶ Done
 *   RecordFault ──▶ Route            (RecordFault failing too ──▶ Stranded: the reconciler restarts it)
 */
export function taskWorkflowDefinition(scope: Construct, dispatcher: IFunction): sfn.IChainable {
  const dispatch = new tasks.LambdaInvoke(scope, WORKFLOW_STATES.dispatch, {
    lambdaFunction: dispatcher,
    retryOnServiceExceptions: false,
    // The limit is repeated at the top of the parameters: AWS reads TimeoutSecondsPath from the state
    // input, aws-local-stepfunctions from the input after Parameters; this path resolves in both.
    payload: sfn.TaskInput.fromObject({
      action: 'dispatch',
      state: sfn.JsonPath.entirePayload,
      state_timeout_seconds: sfn.JsonPath.numberAt('$.state_timeout_seconds'),
    }),
    payloadResponseOnly: true,
    resultPath: '$.step',
    taskTimeout: sfn.Timeout.at('$.state_timeout_seconds'),
    comment: 'Select an agent, POST the task, record the outcome',
  });
  dispatch.addRetry(LAMBDA_SERVICE_RETRY);
  const recordFault = new tasks.LambdaInvoke(scope, WORKFLOW_STATES.recordFault, {
    lambdaFunction: dispatcher,
    retryOnServiceExceptions: false,
    payload: sfn.TaskInput.fromObject({ action: 'fault', state: sfn.JsonPath.entirePayload }),
    payloadResponseOnly: true,
    resultPath: '$.step',
    taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
    comment: 'The dispatch step failed or timed out: count the attempt and decide',
  });
  recordFault.addRetry(LAMBDA_SERVICE_RETRY);
  recordFault.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  recordFault.addCatch(
    new sfn.Fail(scope, WORKFLOW_STATES.stranded, {
      error: 'Stranded',
      cause: 'the fault step kept failing; the reconciler will drive the task again',
    }),
    {
      errors: ['States.ALL'],
      resultPath: '$.fault',
    },
  );
  dispatch.addCatch(recordFault, { errors: ['States.ALL'], resultPath: '$.fault' });

  const retryDelay = new sfn.Wait(scope, WORKFLOW_STATES.retryDelay, { time: sfn.WaitTime.secondsPath('$.step.delay_seconds') });
  const waitForAgent = new sfn.Wait(scope, WORKFLOW_STATES.waitForAgent, { time: sfn.WaitTime.secondsPath('$.step.delay_seconds') });
  retryDelay.next(dispatch);
  waitForAgent.next(dispatch);

  const route = new sfn.Choice(scope, WORKFLOW_STATES.route)
    .when(sfn.Condition.stringEquals('$.step.outcome', 'retry'), retryDelay)
    .when(sfn.Condition.stringEquals('$.step.outcome', 'wait'), waitForAgent)
    .otherwise(new sfn.Succeed(scope, WORKFLOW_STATES.done));
  dispatch.next(route);
  recordFault.next(route);
  return dispatch;
}

export interface TaskWorkflowProps {
  readonly dispatcher: IFunction;
  readonly stateMachineType: sfn.StateMachineType;
  /** Upper bound for one execution (Express cannot exceed 5 minutes). */
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: WorkflowLogLevel;
}

/** ERROR logs failed executions only; ALL logs every state transition (~4 KB per task at the dispatcher's states). */
export const WORKFLOW_LOG_LEVELS = ['ERROR', 'ALL'] as const;
export type WorkflowLogLevel = (typeof WORKFLOW_LOG_LEVELS)[number];

/** One deployment of the task state machine, with logging (at `logLevel`) and tracing on. */
export class TaskWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TaskWorkflowProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(taskWorkflowDefinition(this, props.dispatcher)),
      stateMachineType: props.stateMachineType,
      timeout: props.timeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel[props.logLevel], includeExecutionData: false },
    });
  }
}
