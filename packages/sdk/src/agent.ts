import type { RegisterAgentRequest } from '@optiinfra/contract';
import { type AgentLogger, silentLogger } from './agent-logger.js';
import { AGENT_DEFAULTS, type AgentOptions, registrationRequest } from './agent-options.js';
import { backoffDelay, sleep } from './backoff.js';
import { DeliveryVerifier } from './delivery-verifier.js';
import { AgentAbortedError, AgentConfigError, AgentError, OrchestratorUnreachableError, RegistrationError } from './errors.js';
import { RegistryClient } from './registry-client.js';
import { ASYNC_DEFAULTS } from './attempt-channel.js';
import type { HandlerOptions, RegisteredHandler, TaskHandler } from './task-context.js';
import { TaskServer } from './task-server.js';

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const UNSPECIFIED_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);
const MIN_HEARTBEAT_MS = 100;

/**
 * An agent process's side of the orchestrator: serves POST /task and GET /health, registers, heartbeats
 * with its load, registers again when the orchestrator forgot it, and unregisters on `stop()`.
 *
 * ```ts
 * const agent = new Agent({ name: 'cost-agent-1', type: 'cost' })
 *   .handle('analyze_cost', async (params, ctx) => analyze(params, ctx.signal));
 * await agent.start();
 * process.once('SIGTERM', () => void agent.stop());
 * ```
 */
export class Agent {
  readonly name: string;
  readonly type: string;
  private readonly options: AgentOptions;
  private readonly logger: AgentLogger;
  private readonly handlers = new Map<string, RegisteredHandler>();
  private readonly registry: RegistryClient;
  private readonly verifier: DeliveryVerifier;
  /** Aborted by `stop()`: ends registration retries and cuts heartbeats short. */
  private readonly lifecycle = new AbortController();
  private state: State = 'idle';
  private server: TaskServer | undefined;
  private request: RegisterAgentRequest | undefined;
  private agentId: string | undefined;
  private listenPort: number | undefined;
  private heartbeatMs: number = AGENT_DEFAULTS.heartbeatIntervalSeconds * 1000;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: AgentOptions) {
    this.options = options;
    this.name = options.name;
    this.type = options.type;
    this.logger = options.logger ?? silentLogger;
    this.registry = new RegistryClient(
      options.orchestratorUrl ?? AGENT_DEFAULTS.orchestratorUrl,
      options.fetch ?? globalThis.fetch,
      options.requestTimeoutMs ?? AGENT_DEFAULTS.requestTimeoutMs,
      options.apiToken,
      options.fleetToken,
    );
    this.verifier = new DeliveryVerifier(
      options.verifySignatures ?? AGENT_DEFAULTS.verifySignatures,
      options.requireSignatures ?? AGENT_DEFAULTS.requireSignatures,
    );
  }

  /**
   * Registers the handler for one task type. Call before `start()`; returns the agent so calls chain. With `{ longRunning: true }`
   * deliveries are answered 202 at once and the outcome reported with POST /tasks/{id}/result (progress meanwhile).
   */
  handle(taskType: string, handler: TaskHandler, options: HandlerOptions = {}): this {
    if (this.state !== 'idle') throw new AgentConfigError(`handle("${taskType}") must be called before start()`);
    if (this.handlers.has(taskType)) throw new AgentConfigError(`task type "${taskType}" already has a handler`);
    this.handlers.set(taskType, { handler, longRunning: options.longRunning === true, keepAlive: options.keepAlive !== false });
    return this;
  }

  /** The id the orchestrator gave; undefined until `start()` has registered. */
  get id(): string | undefined {
    return this.agentId;
  }

  /** The port POST /task is served on; undefined until `start()` is listening. */
  get port(): number | undefined {
    return this.listenPort;
  }

  /** The address the orchestrator calls, such as http://127.0.0.1:8001 (https:// with `tls`); undefined before `start()`. */
  get url(): string | undefined {
    if (this.listenPort === undefined || !this.request) return undefined;
    const host = this.request.host.includes(':') && !this.request.host.startsWith('[') ? `[${this.request.host}]` : this.request.host;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.listenPort}`;
  }

  /** Handlers running now, long-running ones until their report is sent (what heartbeats report as `in_flight`). */
  get inFlight(): number {
    return this.server?.inFlight ?? 0;
  }

  /** Task types registered with `handle()`. */
  get taskTypes(): string[] {
    return [...this.handlers.keys()];
  }

  /**
   * Listens, then registers, retrying with backoff while the orchestrator is unreachable or answers 5xx.
   * Resolves once registered. Rejects with `RegistrationError` when the orchestrator refuses (4xx),
   * `AgentConfigError` for options that cannot work, `AgentAbortedError` when `signal` aborts or `stop()`
   * is called first, and `OrchestratorUnreachableError` after `registrationRetry.maxAttempts`.
   * Aborting `signal` after the start has completed stops the agent.
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.state !== 'idle')
      throw new AgentError(
        `agent ${this.name} was already started; an Agent starts once, so create a new one to start again`,
        'already_started',
      );
    this.state = 'starting';
    const userSignal = options.signal;
    try {
      userSignal?.throwIfAborted();
    } catch {
      this.state = 'stopped';
      throw new AgentAbortedError();
    }
    const signal = userSignal ? AbortSignal.any([userSignal, this.lifecycle.signal]) : this.lifecycle.signal;
    try {
      const host = this.options.host ?? AGENT_DEFAULTS.host;
      const advertiseHost = this.options.advertiseHost ?? host;
      if (UNSPECIFIED_HOSTS.has(advertiseHost)) {
        throw new AgentConfigError(
          `the agent listens on "${host}", which the orchestrator cannot call; set advertiseHost to an address it can reach`,
        );
      }
      if (this.handlers.size === 0)
        throw new AgentConfigError('the agent has no task handlers; call agent.handle(taskType, handler) before start()');
      const capabilities = this.options.capabilities ?? this.taskTypes;
      for (const c of capabilities)
        if (!this.handlers.has(c)) this.logger.warn(`capability "${c}" has no handler: tasks of that type will be answered 400`);
      // Validated before binding, so a bad option fails at once rather than after a listen.
      this.request = registrationRequest(this.options, advertiseHost, this.options.port || 1, capabilities);

      const maxConcurrency = this.options.refuseAbove ?? this.request.max_concurrency;
      this.server = new TaskServer({
        host,
        port: this.options.port ?? AGENT_DEFAULTS.port,
        maxConcurrency,
        handlers: this.handlers,
        client: this.registry,
        reportRetry: { ...ASYNC_DEFAULTS.reportRetry, ...this.options.reportRetry },
        onReport: this.options.onReport,
        verifier: this.verifier,
        logger: this.logger,
        maxBodyBytes: this.options.maxBodyBytes ?? AGENT_DEFAULTS.maxBodyBytes,
        timeouts: { ...AGENT_DEFAULTS.serverTimeouts, ...this.options.serverTimeouts },
        tls: this.options.tls,
      });
      this.listenPort = await this.server.listen();
      this.request = { ...this.request, port: this.listenPort };
      await this.registerWithRetry(signal);
    } catch (err) {
      await this.server?.drain(0);
      this.state = 'stopped';
      if (err instanceof AgentError) throw err;
      if (signal.aborted) throw new AgentAbortedError();
      const code = (err as NodeJS.ErrnoException).code;
      throw new AgentError(
        `agent ${this.name} could not start: ${err instanceof Error ? err.message : String(err)}`,
        code === 'EADDRINUSE' ? 'port_in_use' : 'start_failed',
        { cause: err },
      );
    }
    if (signal.aborted) {
      // Registered just as the abort came: leave the orchestrator a clean state rather than a half-started agent.
      await this.stop();
      throw new AgentAbortedError();
    }
    this.state = 'running';
    this.logger.info(`agent ${this.name} registered as ${this.agentId} and serving on ${this.url}`);
    this.scheduleHeartbeat();
    userSignal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /**
   * Asks the orchestrator to send this agent no new tasks; tasks already sent still finish. It stays
   * registered (listed as draining) until it stops or registers again (a restart).
   */
  async drain(): Promise<void> {
    if (!this.agentId) throw new AgentConfigError('the agent is not registered yet; call start() first');
    await this.registry.drain(this.agentId, AbortSignal.timeout(this.options.requestTimeoutMs ?? AGENT_DEFAULTS.requestTimeoutMs));
  }

  /**
   * Stops heartbeats, unregisters (best effort), refuses new tasks, waits up to `stopGraceMs` for running
   * handlers (then aborts their signals) and closes the server. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.state === 'running' || this.state === 'starting';
    this.state = 'stopping';
    this.lifecycle.abort();
    clearTimeout(this.heartbeatTimer);
    await this.beating;
    if (wasRunning && this.agentId) {
      try {
        await this.registry.unregister(this.agentId, AbortSignal.timeout(this.options.requestTimeoutMs ?? AGENT_DEFAULTS.requestTimeoutMs));
        this.logger.info(`agent ${this.name} unregistered`);
      } catch (err) {
        this.logger.warn(
          `could not unregister agent ${this.agentId}; the orchestrator will mark it unhealthy once heartbeats stop (${err instanceof Error ? err.message : String(err)})`,
        );
      }
    }
    await this.server?.drain(this.options.stopGraceMs ?? AGENT_DEFAULTS.stopGraceMs);
    this.state = 'stopped';
  }

  private async registerWithRetry(signal: AbortSignal): Promise<void> {
    const retry = { ...AGENT_DEFAULTS.registrationRetry, ...this.options.registrationRetry };
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new AgentAbortedError();
      try {
        const registration = await this.registry.register(this.request!, signal);
        this.agentId = registration.id;
        this.verifier.setSecret(registration.signing_secret);
        if (registration.heartbeat_interval_seconds !== undefined)
          this.heartbeatMs = Math.max(MIN_HEARTBEAT_MS, registration.heartbeat_interval_seconds * 1000);
        await this.showToken(signal);
        return;
      } catch (err) {
        // 409 agent_id_in_use: a live registration holds the id (this agent's own, before a crash); it is
        // free once that one misses its heartbeats, so keep trying, with backoff, like an unreachable orchestrator.
        if (err instanceof RegistrationError && err.orchestratorCode !== 'agent_id_in_use') throw err;
        if (signal.aborted) throw new AgentAbortedError();
        if (attempt >= retry.maxAttempts) {
          if (err instanceof RegistrationError) throw err;
          throw new OrchestratorUnreachableError(
            `agent ${this.name} could not register after ${attempt} attempt(s): ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          );
        }
        const delay = backoffDelay(attempt, retry.initialDelayMs, retry.maxDelayMs);
        this.logger.warn(`${err instanceof Error ? err.message : String(err)}; registering again in ${delay} ms`);
        await sleep(delay, signal);
      }
    }
  }

  /**
   * One heartbeat right after registering, before the agent counts as registered: it shows the
   * orchestrator that this agent holds its token, so from then on nobody may heartbeat, drain or
   * unregister it without that token (an agent that speaks only the seed protocol never shows one).
   */
  private async showToken(signal: AbortSignal): Promise<void> {
    try {
      await this.registry.heartbeat(this.agentId!, { in_flight: this.inFlight }, signal);
    } catch (err) {
      if (signal.aborted) throw new AgentAbortedError();
      this.logger.warn(`first heartbeat failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private scheduleHeartbeat(): void {
    if (this.state !== 'running') return;
    this.heartbeatTimer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.scheduleHeartbeat();
      });
    }, this.heartbeatMs);
    // The server keeps the process alive while the agent runs; the timer alone should not.
    this.heartbeatTimer.unref();
  }

  private async beat(): Promise<void> {
    const signal = this.lifecycle.signal;
    try {
      const outcome = await this.registry.heartbeat(this.agentId!, { in_flight: this.inFlight }, signal);
      if (outcome.kind === 'ok') {
        if (outcome.intervalSeconds !== undefined) this.heartbeatMs = Math.max(MIN_HEARTBEAT_MS, outcome.intervalSeconds * 1000);
        return;
      }
      this.logger.warn(
        outcome.kind === 'forgotten'
          ? `the orchestrator no longer knows agent ${this.agentId}; registering again`
          : `the orchestrator refused agent ${this.agentId}'s heartbeat (${outcome.reason}); registering again`,
      );
      await this.registerWithRetry(signal);
      this.logger.info(`agent ${this.name} registered again as ${this.agentId}`);
    } catch (err) {
      if (signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof RegistrationError) this.logger.error(`${message}; trying again at the next heartbeat`);
      else this.logger.warn(`heartbeat failed: ${message}`);
    }
  }
}
