import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import getRawBody from 'raw-body';
import { agentTaskRequestSchema, DELIVERY_HEADERS } from '@optiinfra/contract';
import type { AgentLogger } from './agent-logger.js';
import type { ServerTimeouts, TlsOptions } from './agent-options.js';
import { AttemptChannel, attemptUrls, type ReportEvent, type ReportRetryOptions } from './attempt-channel.js';
import { attemptKey, CANCEL_NOTICE_MAX_BYTES, CANCEL_PATH, parseCancelNotice } from './cancel-notice.js';
import type { DeliveryVerifier, Refusal } from './delivery-verifier.js';
import { errorMessage, sendJson } from './http-answers.js';
import type { RegistryClient } from './registry-client.js';
import { deliveryAttempt, firstHeader, type RegisteredHandler, taskContextOf } from './task-context.js';
import { type Running, runLongRunning, runSync } from './task-run.js';

/** setTimeout overflows above this; a deadline that far away is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TaskServerOptions {
  host: string;
  port: number;
  maxConcurrency: number;
  handlers: ReadonlyMap<string, RegisteredHandler>;
  /** Sends long-running handlers' progress and reports, as the agent (its token, its `fetch`). */
  client: RegistryClient;
  reportRetry: Required<ReportRetryOptions>;
  onReport?: (event: ReportEvent) => void;
  verifier: DeliveryVerifier;
  logger: AgentLogger;
  /** Bodies are cut off at this size while they are read. */
  maxBodyBytes: number;
  timeouts: ServerTimeouts;
  /** Serve HTTPS with this key and certificate instead of plain HTTP. */
  tls?: TlsOptions;
}

/** After the grace, aborted handlers still get this long to send their (failed) reports. */
const REPORT_GRACE_MS = 2_000;

/**
 * The agent's side of the wire protocol: POST /task runs a handler and answers the seed's TaskResponse
 * (or, for a long-running handler, 202 and a report later), POST /task/{id}/cancel aborts a running
 * attempt, GET /health reports what it serves. Tracks running handlers so `drain()` can wait for them.
 */
export class TaskServer {
  private readonly server: http.Server | https.Server;
  private readonly running = new Set<Running>();
  /** Running attempts by `<task_id>:<attempt>`, for cancel notices. */
  private readonly byAttempt = new Map<string, Running>();
  /** Ends the retries of reports still being sent once the agent has stopped. */
  private readonly reports = new AbortController();
  private draining = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: TaskServerOptions) {
    const { timeouts } = options;
    // Timeouts are enforced on this beat (Node's default is 30 s), so a slow sender goes soon after its time.
    const serverOptions = { connectionsCheckingInterval: Math.max(100, Math.min(1_000, timeouts.headersMs / 4)) };
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => this.route(req, res);
    this.server = options.tls
      ? https.createServer({ ...serverOptions, key: options.tls.key, cert: options.tls.cert }, listener)
      : http.createServer(serverOptions, listener);
    // Headers, then the whole request body, must arrive in time; the request timeout ends once the
    // body is in, so a handler may still run up to the orchestrator's 300 s attempt limit.
    this.server.headersTimeout = timeouts.headersMs;
    this.server.requestTimeout = timeouts.requestMs;
    this.server.keepAliveTimeout = timeouts.keepAliveMs;
  }

  /** "https" when serving TLS, else "http". */
  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  get inFlight(): number {
    return this.running.size;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Refuses new tasks (503), waits up to `graceMs` for running ones, then aborts them and closes every connection. */
  drain(graceMs: number): Promise<void> {
    this.closed ??= this.doDrain(graceMs);
    return this.closed;
  }

  private async doDrain(graceMs: number): Promise<void> {
    this.draining = true;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace_over'>((resolve) => (timer = setTimeout(() => resolve('grace_over'), graceMs)));
      const outcome = await Promise.race([Promise.all([...this.running].map((r) => r.done)).then(() => 'done' as const), graceOver]);
      clearTimeout(timer);
      if (outcome === 'grace_over') {
        this.options.logger.warn(`stopping with ${this.running.size} task(s) still running after ${graceMs} ms; aborting them`);
        for (const r of this.running) r.controller.abort(new DOMException('the agent is stopping', 'AbortError'));
        // Aborted long-running handlers report themselves failed, so the task is retried elsewhere at once.
        await Promise.race([
          Promise.all([...this.running].map((r) => r.done)),
          new Promise((r) => setTimeout(r, Math.min(graceMs, REPORT_GRACE_MS))),
        ]);
      }
    }
    this.reports.abort();
    this.server.closeAllConnections();
    await closing;
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { error: 'use GET /health', code: 'method_not_allowed' }, { allow: 'GET, HEAD' });
      return sendJson(res, 200, {
        status: this.draining ? 'draining' : 'healthy',
        registered_tasks: [...this.options.handlers.keys()],
        in_flight: this.running.size,
        max_concurrency: this.options.maxConcurrency,
      });
    }
    if (path === '/task') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST /task', code: 'method_not_allowed' }, { allow: 'POST' });
      // Credentials before bodies: the signature headers are checked before a byte of the body is read.
      const pre = this.options.verifier.checkHeaders(req.headers);
      if (!pre.ok) return this.refuse(req, res, pre);
      const { maxBodyBytes } = this.options;
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) return this.tooLarge(req, res);
      this.readBody(req, res, maxBodyBytes, (raw) => this.onTask(req, res, raw));
      return;
    }
    const cancel = CANCEL_PATH.exec(path);
    if (cancel) {
      if (req.method !== 'POST')
        return sendJson(res, 405, { error: 'use POST /task/{id}/cancel', code: 'method_not_allowed' }, { allow: 'POST' });
      let taskId: string;
      try {
        taskId = decodeURIComponent(cancel[1]!);
      } catch {
        return sendJson(res, 400, { error: `the task id in ${path} is not valid percent-encoding`, code: 'invalid_request' });
      }
      const pre = this.options.verifier.checkHeaders(req.headers);
      if (!pre.ok) return this.refuse(req, res, pre);
      this.readBody(req, res, CANCEL_NOTICE_MAX_BYTES, (raw) => this.onCancel(req, res, raw, taskId));
      return;
    }
    sendJson(res, 404, {
      error: `no route ${req.method ?? ''} ${path}; this agent serves POST /task, POST /task/{id}/cancel and GET /health`,
      code: 'not_found',
    });
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number, then: (raw: string) => void): void {
    getRawBody(req, { limit, encoding: 'utf8' }).then(then, (err: { type?: string; message: string }) => {
      if (err.type !== 'entity.too.large') return this.options.logger.warn(`could not read a request: ${err.message}`);
      this.tooLarge(req, res, limit);
    });
  }

  /** A cancel notice: aborts the named attempt's signal if it runs here (200), else 404. */
  private onCancel(req: http.IncomingMessage, res: http.ServerResponse, raw: string, taskId: string): void {
    const check = this.options.verifier.verify(raw, req.headers);
    if (!check.ok) return this.refuse(req, res, check);
    const parsed = parseCancelNotice(raw, taskId, check, this.options.verifier.checking);
    if (!parsed.ok) return sendJson(res, parsed.status, parsed.body);
    const { notice } = parsed;
    const entry = this.byAttempt.get(notice.key);
    if (!entry)
      return sendJson(res, 404, {
        error: `task ${notice.task_id} attempt ${notice.attempt} is not running on this agent`,
        code: 'not_running',
      });
    this.options.logger.info(`task ${notice.task_id} attempt ${notice.attempt} cancelled by the orchestrator`);
    entry.over = true;
    entry.controller.abort(
      new DOMException(`the orchestrator cancelled task ${notice.task_id} (${notice.reason ?? 'cancelled'})`, 'AbortError'),
    );
    sendJson(res, 200, { task_id: notice.task_id, attempt: notice.attempt, status: 'cancelled' });
  }

  /** Answers at once; whatever body follows is read and dropped (bounded by the request timeout), never kept. */
  private refuse(req: http.IncomingMessage, res: http.ServerResponse, refusal: Refusal): void {
    this.options.logger.warn(`refused a delivery: ${refusal.reason}`, { webhook_id: firstHeader(req.headers, DELIVERY_HEADERS.id) });
    const extra: Record<string, string> = refusal.status === 503 ? { 'retry-after': '1' } : {};
    sendJson(res, refusal.status, { status: 'failed', error: refusal.reason, code: refusal.code }, extra);
    req.resume();
  }

  private tooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit = this.options.maxBodyBytes): void {
    const error = `request body is larger than ${limit} bytes, the most this agent accepts${limit === this.options.maxBodyBytes ? ' (maxBodyBytes)' : ''}`;
    sendJson(res, 413, { status: 'failed', error, code: 'payload_too_large' });
    req.resume();
  }

  private onTask(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const { logger, handlers, maxConcurrency } = this.options;
    const check = this.options.verifier.verify(raw, req.headers);
    if (!check.ok) return this.refuse(req, res, check);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      return sendJson(res, 400, { status: 'failed', error: `task body is not valid JSON (${errorMessage(err)})`, code: 'invalid_json' });
    }
    const parsed = agentTaskRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      const taskId =
        typeof json === 'object' && json !== null && 'task_id' in json && typeof json.task_id === 'string' ? json.task_id : null;
      return sendJson(res, 400, { task_id: taskId, status: 'failed', error: `invalid task request: ${issues}`, code: 'invalid_request' });
    }
    const task = parsed.data;
    const registered = handlers.get(task.task_type);
    if (!registered) {
      return sendJson(res, 400, {
        task_id: task.task_id,
        status: 'failed',
        error: `No handler registered for task type: ${task.task_type}`,
        code: 'unknown_task_type',
      });
    }
    if (this.draining) {
      return sendJson(res, 503, {
        task_id: task.task_id,
        status: 'failed',
        error: 'the agent is shutting down and takes no new tasks',
        code: 'agent_stopping',
      });
    }
    if (this.running.size >= maxConcurrency) {
      return sendJson(
        res,
        503,
        {
          task_id: task.task_id,
          status: 'failed',
          error: `the agent is already running ${this.running.size} tasks, its limit (max_concurrency ${maxConcurrency}); send this task to another agent or later`,
          code: 'agent_busy',
        },
        { 'retry-after': '1' },
      );
    }

    const { options } = this;
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve(), over: false };
    const attempt = deliveryAttempt(task.task_id, check);
    const deps = { client: options.client, logger, retry: options.reportRetry, onReport: options.onReport };
    const urls = attemptUrls(json, task.task_id, options.client.apiBase, check.verified);
    const channel = registered.longRunning
      ? new AttemptChannel(deps, task.task_id, attempt, urls, controller, registered.keepAlive)
      : undefined;
    const ctx = taskContextOf(task, check, req.headers, controller.signal, channel && ((pct, message) => channel.progress(pct, message)));
    const deadlineTimer = setTimeout(
      () => controller.abort(new DOMException(`the deadline of task ${task.task_id} passed`, 'TimeoutError')),
      Math.min(MAX_TIMER_MS, Math.max(0, ctx.deadline.getTime() - Date.now())),
    );
    const key = attemptKey(task.task_id, ctx.attempt);
    this.running.add(entry);
    this.byAttempt.set(key, entry);
    const run = channel
      ? runLongRunning(registered.handler, task, ctx, entry, channel, res, { ...deps, reportSignal: this.reports.signal })
      : runSync(registered.handler, task, ctx, entry, res, logger);
    entry.done = run
      .catch((err: unknown) => logger.error(`task ${task.task_id}: ${errorMessage(err)}`))
      .finally(() => {
        clearTimeout(deadlineTimer);
        this.running.delete(entry);
        if (this.byAttempt.get(key) === entry) this.byAttempt.delete(key);
      });
  }
}
