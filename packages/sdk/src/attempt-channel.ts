import * as z from 'zod';
import type { AgentLogger } from './agent-logger.js';
import { backoffDelay, sleep } from './backoff.js';
import { OrchestratorUnreachableError } from './errors.js';
import { type Answer, describeError, type RegistryClient } from './registry-client.js';

/** How a long-running handler's report is retried while the orchestrator cannot be reached or answers 5xx, 408 or 429. */
export interface ReportRetryOptions {
  /** Wait before the second try; doubles each time, with jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** Longest wait between tries. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Tries before the report is given up (and logged). Default 20: about 8 minutes with the default delays. */
  maxAttempts?: number;
}

export const ASYNC_DEFAULTS = {
  reportRetry: { initialDelayMs: 500, maxDelayMs: 30_000, maxAttempts: 20 },
  /** The orchestrator's default when a delivery does not say (protocol: submit field, default 60). */
  heartbeatTimeoutSeconds: 60,
  maxProgressMessageChars: 500,
} as const;

/** What asynchronous delivery adds to a delivery's body; lenient, so an orchestrator that predates it (or sends a bad value) still works. */
const asyncFieldsSchema = z.object({
  heartbeat_timeout_seconds: z.number().positive().max(86_400).optional().catch(undefined),
  report_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .catch(undefined),
  progress_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .catch(undefined),
});

export interface AttemptUrls {
  report: string;
  progress: string;
  heartbeatTimeoutSeconds: number;
}

/**
 * Where to report an attempt. The delivery's `report_url` and `progress_url` are used only when the
 * delivery was signed: the agent's token goes there, so an unsigned sender must not choose it. Else
 * they are the orchestrator's own `/tasks/<id>/result` and `/tasks/<id>/progress`.
 */
export function attemptUrls(body: unknown, taskId: string, apiBase: string, verified: boolean): AttemptUrls {
  const parsed = asyncFieldsSchema.safeParse(body);
  const fields = parsed.success ? parsed.data : {};
  const own = `${apiBase}/tasks/${encodeURIComponent(taskId)}`;
  return {
    report: (verified && fields.report_url) || `${own}/result`,
    progress: (verified && fields.progress_url) || `${own}/progress`,
    heartbeatTimeoutSeconds: fields.heartbeat_timeout_seconds ?? ASYNC_DEFAULTS.heartbeatTimeoutSeconds,
  };
}

/**
 * The report of an attempt, as the protocol lists it: `result` when completed, `error` (and
 * `retryable: false` when no attempt can succeed) when failed, and the attempt it is for.
 */
export type TaskReport = { execution_time_ms: number; attempt: number } & (
  | { status: 'completed'; result: unknown }
  | { status: 'failed'; error: string; retryable?: false }
);

/**
 * How a long-running attempt's report ended: `acknowledged` (2xx), `attempt_ended` (409/403: the
 * attempt was over), `refused` (another 4xx), `gave_up` (retries exhausted), `aborted` (the agent
 * stopped first), `not_sent` (a cancel notice or a 409 had ended the attempt before the handler did).
 */
export type ReportOutcome = 'acknowledged' | 'attempt_ended' | 'refused' | 'gave_up' | 'aborted' | 'not_sent';

/** What `onReport` is told once per long-running attempt. */
export interface ReportEvent {
  taskId: string;
  attempt: number;
  status: 'completed' | 'failed';
  outcome: ReportOutcome;
}

export interface ChannelDeps {
  client: RegistryClient;
  logger: AgentLogger;
  retry: Required<ReportRetryOptions>;
  onReport?: (event: ReportEvent) => void;
}

/**
 * The orchestrator's word that the attempt is over: 409, or 403 `not_your_attempt`. Another 403 (API
 * Gateway refusing expired SigV4 credentials, say) is not about the attempt: it is retried.
 */
const ended = (answer: Answer) =>
  answer.status === 409 || (answer.status === 403 && describeError(answer.body).code === 'not_your_attempt');
const isRetryable = (status: number) => status >= 500 || status === 408 || status === 429 || status === 403;

/**
 * One accepted (202) attempt's line back to the orchestrator: progress, keep-alive progress every
 * half heartbeat timeout while the handler runs, and the report at the end. A 409 (or 403
 * `not_your_attempt`) on either means the attempt is over: the handler's signal is aborted and nothing more is sent.
 */
export class AttemptChannel {
  private keepAlive: NodeJS.Timeout | undefined;
  private finished = false;
  private ended = false;

  constructor(
    private readonly deps: ChannelDeps,
    private readonly taskId: string,
    private readonly attempt: number,
    private readonly urls: AttemptUrls,
    private readonly controller: AbortController,
    private readonly keepAliveOn = true,
  ) {}

  /** True once the orchestrator answered 409 or 403 `not_your_attempt`: the attempt is over. */
  get over(): boolean {
    return this.ended;
  }

  /** Starts the keep-alive; the accept (202) itself starts the orchestrator's heartbeat deadline. */
  start(): void {
    this.arm();
  }

  /** Stops the keep-alive and ignores later progress: called when the handler has settled. */
  finish(): void {
    this.finished = true;
    clearTimeout(this.keepAlive);
  }

  /** Posts progress (`pct` clamped to 0-100, `message` cut at 500 characters). Never rejects: a failure is logged. */
  async progress(pct?: number, message?: string): Promise<void> {
    if (this.finished || this.controller.signal.aborted) return;
    this.arm();
    const body: Record<string, unknown> = { attempt: this.attempt };
    if (pct !== undefined) {
      if (typeof pct === 'number' && Number.isFinite(pct)) body.progress = Math.min(100, Math.max(0, pct));
      else this.deps.logger.warn(`task ${this.taskId}: ctx.progress(${String(pct)}) is not a number from 0 to 100; sent without it`);
    }
    if (message !== undefined) body.message = String(message).slice(0, ASYNC_DEFAULTS.maxProgressMessageChars);
    let answer: Answer;
    try {
      answer = await this.deps.client.postAsAgent(this.urls.progress, body, this.controller.signal);
    } catch (err) {
      if (!this.controller.signal.aborted)
        this.deps.logger.warn(`task ${this.taskId}: progress not delivered (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    if (answer.status >= 200 && answer.status < 300) return;
    if (ended(answer)) return this.attemptEnded(answer);
    this.deps.logger.warn(
      `task ${this.taskId}: the orchestrator answered progress with HTTP ${answer.status}: ${describeError(answer.body).error}`,
    );
  }

  /**
   * Sends the report until the orchestrator acknowledges it (2xx) or says the attempt is over (409,
   * 403 `not_your_attempt`), retrying transport failures, 5xx, 408, 429 and other 403s with backoff and jitter, up to
   * `maxAttempts`. A completed report it refuses (400, 413: a result it cannot take) becomes a failed,
   * not retryable one, as a synchronous answer it cannot take does. `signal` ends the retries.
   */
  async report(report: TaskReport, signal: AbortSignal): Promise<ReportOutcome> {
    const { client, logger, retry } = this.deps;
    for (let attempt = 1; ; attempt++) {
      let answer: Answer | undefined;
      let failure: string;
      try {
        answer = await client.postAsAgent(this.urls.report, report, signal);
        failure = `HTTP ${answer.status}: ${describeError(answer.body).error}`;
      } catch (err) {
        if (!(err instanceof OrchestratorUnreachableError) || signal.aborted) return 'aborted';
        failure = err.message;
      }
      if (answer && answer.status >= 200 && answer.status < 300) {
        logger.info(`task ${this.taskId} attempt ${this.attempt}: report (${report.status}) acknowledged`);
        return 'acknowledged';
      }
      if (answer && ended(answer)) {
        this.attemptEnded(answer);
        return 'attempt_ended';
      }
      if (answer && !isRetryable(answer.status)) {
        if (report.status === 'completed' && (answer.status === 400 || answer.status === 413)) {
          logger.error(`task ${this.taskId}: the orchestrator refused the result (${failure}); reporting the task failed`);
          const error = `the orchestrator refused the agent's result: ${describeError(answer.body).error}`;
          const { execution_time_ms, attempt } = report;
          return this.report({ status: 'failed', error, retryable: false, execution_time_ms, attempt }, signal);
        }
        logger.error(`task ${this.taskId} attempt ${this.attempt}: the orchestrator refused the report (${failure}); not sent again`);
        return 'refused';
      }
      if (attempt >= retry.maxAttempts) {
        logger.error(`task ${this.taskId} attempt ${this.attempt}: gave up the report after ${attempt} tries (${failure})`);
        return 'gave_up';
      }
      const delay = backoffDelay(attempt, retry.initialDelayMs, retry.maxDelayMs);
      logger.warn(`task ${this.taskId} attempt ${this.attempt}: report not acknowledged (${failure}); again in ${delay} ms`);
      try {
        await sleep(delay, signal);
      } catch {
        return 'aborted';
      }
    }
  }

  private attemptEnded(answer: Answer): void {
    const { error, code } = describeError(answer.body);
    const reason = `the orchestrator ended attempt ${this.attempt} of task ${this.taskId} (HTTP ${answer.status}${code ? ` ${code}` : ''}: ${error})`;
    this.deps.logger.warn(reason);
    this.ended = true;
    this.finish();
    this.controller.abort(new DOMException(reason, 'AbortError'));
  }

  /** (Re)starts the keep-alive clock: a progress goes out half a heartbeat timeout after the last one. */
  private arm(): void {
    if (this.finished || !this.keepAliveOn) return;
    clearTimeout(this.keepAlive);
    this.keepAlive = setTimeout(() => void this.progress(), (this.urls.heartbeatTimeoutSeconds * 1000) / 2);
    this.keepAlive.unref();
  }
}
