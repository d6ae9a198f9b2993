import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import {
  AGENT_TYPE_DIMENSION,
  CACHE_FALLBACK_METRIC,
  CONSOLE_SERIES,
  type ConsoleSeriesId,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  type SeriesStatistic,
  TASK_METRIC,
  type TaskMetricName,
  searchByAgentType,
} from '@optiinfra/contract/dashboard-metrics';
import { Construct } from 'constructs';

export { METRICS_NAMESPACE, SERVICE_NAME };

export interface AlarmThresholds {
  /** Failed or timed-out executions in 5 minutes. */
  readonly failedExecutions: number;
  /** API 5xx answers in 5 minutes. */
  readonly api5xx: number;
  /** Dispatcher errors and faults in 5 minutes. */
  readonly dispatchErrors: number;
  /** Cache calls answered without the cache (fallbacks to DynamoDB) in 5 minutes. */
  readonly cacheFallbacks: number;
}

export interface OperationsProps {
  readonly api: HttpApi;
  readonly intake: Queue;
  readonly deadLetters: Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly stateMachines: Record<'express' | 'standard', StateMachine>;
  readonly functions: Record<string, IFunction>;
  readonly dispatcher: IFunction;
  readonly thresholds: AlarmThresholds;
  /** Where the alarms made here notify (the DLQ alarm notifies through its queue's construct). */
  readonly alarmTopic: sns.ITopic;
}

/** Task metrics the handlers emit (EMF), one series per agent type. */
function byAgentType(metricName: TaskMetricName, statistic: SeriesStatistic | 'p95', label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: searchByAgentType(metricName, statistic),
    label,
    period: Duration.minutes(1),
  });
}

/** A console series as the dashboard graphs it: the same metric, statistic and label (packages/contract/src/dashboard-metrics.ts). */
function series(id: ConsoleSeriesId): cloudwatch.MathExpression {
  const s = CONSOLE_SERIES.find((c) => c.id === id)!;
  return byAgentType(s.metricName, s.statistic, s.label);
}

/** One dashboard for running the orchestrator, and the alarms that page someone. */
export class Operations extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.ITopic;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = props.alarmTopic;
    const fiveMinutes = Duration.minutes(5);
    const machines = Object.entries(props.stateMachines);

    const failedExecutions = new cloudwatch.MathExpression({
      expression: machines.map((_, i) => `f${i} + t${i}`).join(' + '),
      usingMetrics: Object.fromEntries(
        machines.flatMap(([, m], i) => [
          [`f${i}`, m.metricFailed({ period: fiveMinutes, statistic: 'Sum' })],
          [`t${i}`, m.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' })],
        ]),
      ),
      label: 'Executions failed or timed out',
      period: fiveMinutes,
    });
    const dispatchFaults = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: TASK_METRIC.dispatchFaults,
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME, [AGENT_TYPE_DIMENSION]: 'all' },
      statistic: 'Sum',
      period: fiveMinutes,
    });
    const dispatchErrors = new cloudwatch.MathExpression({
      expression: 'errors + FILL(faults, 0)',
      usingMetrics: { errors: props.dispatcher.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), faults: dispatchFaults },
      label: 'Dispatcher errors and faults',
      period: fiveMinutes,
    });
    const cacheFallbacks = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: CACHE_FALLBACK_METRIC,
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME },
      statistic: 'Sum',
      period: fiveMinutes,
    });
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) =>
      new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    const own = [
      alarm(
        'FailedExecutionsAlarm',
        failedExecutions,
        props.thresholds.failedExecutions,
        'Task executions failed or timed out: tasks may be stranded until the reconciler drives them again. Check the state machine logs.',
      ),
      alarm(
        'Api5xxAlarm',
        props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        props.thresholds.api5xx,
        "The API answered 5xx: a bug or an unavailable dependency. Check the API functions' logs by request id.",
      ),
      alarm(
        'DispatchErrorsAlarm',
        dispatchErrors,
        props.thresholds.dispatchErrors,
        'The dispatcher failed or its steps faulted: tasks are being retried by the fault path. Check the dispatcher logs.',
      ),
      alarm(
        'CacheFallbacksAlarm',
        cacheFallbacks,
        props.thresholds.cacheFallbacks,
        'Cache calls failed and fell back to DynamoDB: routing and results are slower and cost more. Each cause is logged once per function instance as "cache unavailable (<cause>)".',
      ),
    ];
    for (const a of own) a.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms = [props.deadLetterAlarm, ...own];

    const fns = Object.entries(props.functions);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          props.api.metricCount({ statistic: 'Sum' }),
          props.api.metricClientError({ statistic: 'Sum' }),
          props.api.metricServerError({ statistic: 'Sum' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [props.api.metricLatency({ statistic: 'p50' }), props.api.metricLatency({ statistic: 'p99' })],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Tasks submitted / completed',
        left: [series('submitted'), series('completed')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Tasks failed / timed out / retried / cancelled',
        left: [
          series('failed'),
          series('timed_out'),
          byAgentType(TASK_METRIC.retried, 'Sum', 'retried'),
          byAgentType(TASK_METRIC.cancelled, 'Sum', 'cancelled'),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Agent circuits opened / closed (passive health)',
        left: [byAgentType(TASK_METRIC.circuitsOpened, 'Sum', 'opened'), byAgentType(TASK_METRIC.circuitsClosed, 'Sum', 'closed')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Tasks waiting for a free agent (most in the minute)',
        left: [series('waiting_tasks')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cache fallbacks to DynamoDB',
        left: [cacheFallbacks.with({ period: Duration.minutes(1), label: 'cache calls answered without the cache' })],
        leftAnnotations: [{ value: props.thresholds.cacheFallbacks / 5, label: 'alarm threshold per minute (5-minute sum / 5)' }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Dispatch latency (agent answer, ms)',
        left: [
          series('dispatch_latency_p50'),
          byAgentType(TASK_METRIC.dispatchLatency, 'p95', 'dispatch latency p95'),
          series('dispatch_latency_p99'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queue wait for a free agent (ms)',
        left: [series('queue_wait_p50'), byAgentType(TASK_METRIC.queueWait, 'p95', 'queue wait p95'), series('queue_wait_p99')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Intake queue depth and age; DLQ depth',
        left: [
          props.intake.metricApproximateNumberOfMessagesVisible(),
          props.deadLetters.metricApproximateNumberOfMessagesVisible({ label: 'DLQ depth' }),
        ],
        right: [props.intake.metricApproximateAgeOfOldestMessage()],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Executions failed / timed out',
        left: machines.flatMap(([kind, m]) => [
          m.metricFailed({ label: `${kind} failed`, statistic: 'Sum' }),
          m.metricTimedOut({ label: `${kind} timed out`, statistic: 'Sum' }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: fns.flatMap(([name, f]) => [
          f.metricErrors({ label: `${name} errors`, statistic: 'Sum' }),
          f.metricThrottles({ label: `${name} throttles`, statistic: 'Sum' }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p95 (ms)',
        left: fns.map(([name, f]) => f.metricDuration({ label: name, statistic: 'p95' })),
        width: 8,
      }),
    );
  }
}
