/**
 * The names of the orchestrator's metrics, with no schema: the functions import them from the main
 * entry without building the console's schemas (@optiinfra/contract/dashboard-metrics) at cold start.
 */

/** The CloudWatch namespace of the EMF metrics (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'OptiInfra/Orchestrator';
/** Powertools adds this dimension to every metric, with the service name as its value. */
export const SERVICE_DIMENSION = 'service';
/** The deployed functions' POWERTOOLS_SERVICE_NAME. */
export const SERVICE_NAME = 'optiinfra-orchestrator';
/** The task metrics' own dimension: one series per agent type (`all` where a metric has none). */
export const AGENT_TYPE_DIMENSION = 'AgentType';

/** Cache calls answered without the cache (the caller fell back to DynamoDB): service dimension only; an alarm reads it. */
export const CACHE_FALLBACK_METRIC = 'CacheFallbacks';

/** The task metrics of the dashboard and the console, by the name they have in code (one dimension: the agent type). */
export const TASK_METRIC = {
  submitted: 'TasksSubmitted',
  completed: 'TasksCompleted',
  failed: 'TasksFailed',
  timedOut: 'TasksTimedOut',
  cancelled: 'TasksCancelled',
  retried: 'TasksRetried',
  dispatchLatency: 'DispatchLatency',
  queueWait: 'QueueWait',
  /** A gauge: the tasks of the agent type parked for a free agent, as the write that parked or started one saw them. */
  waitingTasks: 'WaitingTasks',
  circuitsOpened: 'CircuitsOpened',
  circuitsClosed: 'CircuitsClosed',
  dispatchFaults: 'DispatchFaults',
} as const;
export type TaskMetricName = (typeof TASK_METRIC)[keyof typeof TASK_METRIC];
