import type http from 'node:http';
import type { AgentTaskRequest } from '@optiinfra/contract';
import type { AgentLogger } from './agent-logger.js';
import type { AttemptChannel, ChannelDeps, ReportOutcome, TaskReport } from './attempt-channel.js';
import { errorMessage, sendJson } from './http-answers.js';
import type { TaskContext, TaskHandler } from './task-context.js';

/** A handler running (or, when long-running, reporting) on this agent. */
export interface Running {
  controller: AbortController;
  done: Promise<void>;
  /** Set when the orchestrator said the attempt is over (a cancel notice): nothing more is sent for it. */
  over: boolean;
}

/** What a handler's run came to: the answer's body, and the HTTP status a synchronous answer carries. */
interface Outcome {
  httpStatus: number;
  body: {
    task_id: string;
    status: 'completed' | 'failed';
    result: unknown;
    error: string | null;
    execution_time_ms: number;
    retryable?: boolean;
  };
}

/** The synchronous answer's fields the report carries: no task_id (it is in the URL), no nulls. */
function reportOf(body: Outcome['body'], attempt: number): TaskReport {
  const { execution_time_ms } = body;
  if (body.status === 'completed') return { status: 'completed', result: body.result, execution_time_ms, attempt };
  return {
    status: 'failed',
    error: body.error ?? 'failed',
    ...(body.retryable === false ? { retryable: false } : {}),
    execution_time_ms,
    attempt,
  };
}

/** Runs the handler and turns what it returned or threw into the seed's TaskResponse. */
async function outcomeOf(handler: TaskHandler, task: AgentTaskRequest, ctx: TaskContext, logger: AgentLogger): Promise<Outcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const result: unknown = await handler(task.parameters, ctx);
    try {
      JSON.stringify(result ?? null);
    } catch (err) {
      throw new Error(`the handler's result is not JSON-serializable (${errorMessage(err)})`, { cause: err });
    }
    logger.info(`task ${task.task_id} (${task.task_type}) completed in ${elapsed()} ms`);
    return {
      httpStatus: 200,
      body: { task_id: task.task_id, status: 'completed', result: result ?? null, error: null, execution_time_ms: elapsed() },
    };
  } catch (err) {
    logger.error(`task ${task.task_id} (${task.task_type}) failed: ${errorMessage(err)}`, { task_id: task.task_id, attempt: ctx.attempt });
    const base = { task_id: task.task_id, status: 'failed', result: null, error: errorMessage(err), execution_time_ms: elapsed() } as const;
    // The task cannot succeed anywhere: say so in a proper answer, so it is not retried.
    if (typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false)
      return { httpStatus: 200, body: { ...base, retryable: false } };
    return { httpStatus: 500, body: base };
  }
}

/** A synchronous delivery: the handler's outcome is the HTTP answer; the orchestrator hanging up aborts the handler. */
export async function runSync(
  handler: TaskHandler,
  task: AgentTaskRequest,
  ctx: TaskContext,
  entry: Running,
  res: http.ServerResponse,
  logger: AgentLogger,
): Promise<void> {
  res.on('close', () => {
    if (!res.writableFinished) entry.controller.abort(new DOMException('the orchestrator closed the connection', 'AbortError'));
  });
  const { httpStatus, body } = await outcomeOf(handler, task, ctx, logger);
  const text = JSON.stringify(body);
  if (!res.destroyed && !res.headersSent) {
    res.writeHead(httpStatus, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }
}

/**
 * A long-running delivery: answers 202 at once, runs the handler with progress and keep-alive, then
 * reports its outcome (retried until acknowledged), unless the orchestrator already ended the attempt.
 */
export async function runLongRunning(
  handler: TaskHandler,
  task: AgentTaskRequest,
  ctx: TaskContext,
  entry: Running,
  channel: AttemptChannel,
  res: http.ServerResponse,
  deps: ChannelDeps & { reportSignal: AbortSignal },
): Promise<void> {
  // Not accepted when the orchestrator hung up before the 202 went out: it counts the attempt failed.
  res.on('close', () => {
    if (!res.writableFinished)
      entry.controller.abort(new DOMException('the orchestrator closed the connection before the 202', 'AbortError'));
  });
  sendJson(res, 202, { task_id: task.task_id, status: 'running' });
  channel.start();
  let outcome: Outcome;
  try {
    outcome = await outcomeOf(handler, task, ctx, deps.logger);
  } finally {
    channel.finish();
  }
  let reported: ReportOutcome = 'not_sent';
  if (entry.over || channel.over)
    deps.logger.info(`task ${task.task_id} attempt ${ctx.attempt} is over on the orchestrator's side; its outcome is not reported`);
  else reported = await channel.report(reportOf(outcome.body, ctx.attempt), deps.reportSignal);
  try {
    deps.onReport?.({ taskId: task.task_id, attempt: ctx.attempt, status: outcome.body.status, outcome: reported });
  } catch (err) {
    deps.logger.error(`onReport threw: ${errorMessage(err)}`);
  }
}
