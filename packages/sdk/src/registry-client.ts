import * as z from 'zod';
import { AGENT_AUTH_HEADERS, type HeartbeatRequest, type RegisterAgentRequest, type RegisterAgentResponse } from '@optiinfra/contract';
import { OrchestratorUnreachableError, RegistrationError } from './errors.js';

/** The fields of RegisterAgentResponse the agent relies on; lenient so a seed-style orchestrator (no secret, no interval) still works. */
const registrationAnswerSchema = z.object({
  id: z.string().min(1),
  heartbeat_interval_seconds: z.number().positive().optional(),
  signing_secret: z.string().startsWith('whsec_').optional(),
  agent_token: z.string().min(1).optional(),
});
export type Registration = Pick<RegisterAgentResponse, 'id'> &
  Partial<Pick<RegisterAgentResponse, 'heartbeat_interval_seconds' | 'signing_secret'>>;

const heartbeatAnswerSchema = z.object({ heartbeat_interval_seconds: z.number().positive().optional() });
/**
 * `forgotten`: the orchestrator no longer knows the agent (404). `refused`: it no longer takes the
 * agent's token (401, 403: another registration replaced it, or it was never accepted). Either way
 * the agent registers again.
 */
export type HeartbeatOutcome =
  | { kind: 'ok'; intervalSeconds: number | undefined }
  | { kind: 'forgotten' }
  | { kind: 'refused'; reason: string };

const errorBodySchema = z.object({ error: z.string(), code: z.string().optional() });

export interface Answer {
  status: number;
  body: unknown;
}

/**
 * Calls the orchestrator's /agents routes. Transport failures and 5xx become `OrchestratorUnreachableError`
 * (worth retrying); a refused registration becomes `RegistrationError`.
 */
export class RegistryClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchFn: typeof globalThis.fetch,
    private readonly timeoutMs: number,
    private readonly apiToken?: string,
    private readonly fleetToken?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** The agent's own credential from its last registration: proves on later calls that it is this agent. */
  private agentToken: string | undefined;

  /** Registers, with the token of its last registration if it has one: a live registration is replaced only by its holder. */
  async register(request: RegisterAgentRequest, signal: AbortSignal): Promise<Registration> {
    const answer = await this.call('POST', '/agents/register', request, signal, {
      ...(this.fleetToken ? { [AGENT_AUTH_HEADERS.fleetToken]: this.fleetToken } : {}),
      ...this.asAgent(),
    });
    if (answer.status === 200 || answer.status === 201) {
      const parsed = registrationAnswerSchema.safeParse(answer.body);
      if (!parsed.success)
        throw new OrchestratorUnreachableError(
          `the orchestrator at ${this.baseUrl} answered the registration without an agent id; is it an OptiInfra orchestrator?`,
        );
      this.agentToken = parsed.data.agent_token;
      return parsed.data;
    }
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
      const { error, code } = describeError(answer.body);
      throw new RegistrationError(
        `the orchestrator refused the registration (HTTP ${answer.status}${code ? ` ${code}` : ''}): ${error}`,
        answer.status,
        code,
      );
    }
    throw new OrchestratorUnreachableError(
      `the orchestrator answered the registration with HTTP ${answer.status}: ${describeError(answer.body).error}`,
    );
  }

  async heartbeat(agentId: string, request: HeartbeatRequest, signal: AbortSignal): Promise<HeartbeatOutcome> {
    const answer = await this.call('POST', `/agents/${encodeURIComponent(agentId)}/heartbeat`, request, signal, this.asAgent());
    if (answer.status === 404) return { kind: 'forgotten' };
    if (answer.status === 401 || answer.status === 403) {
      const { error, code } = describeError(answer.body);
      return { kind: 'refused', reason: `HTTP ${answer.status}${code ? ` ${code}` : ''}: ${error}` };
    }
    if (answer.status !== 200)
      throw new OrchestratorUnreachableError(
        `the orchestrator answered the heartbeat with HTTP ${answer.status}: ${describeError(answer.body).error}`,
      );
    const parsed = heartbeatAnswerSchema.safeParse(answer.body);
    return { kind: 'ok', intervalSeconds: parsed.success ? parsed.data.heartbeat_interval_seconds : undefined };
  }

  /** Resolves once the orchestrator has let the agent go; an agent it no longer knows counts as gone. */
  async unregister(agentId: string, signal: AbortSignal): Promise<void> {
    const answer = await this.call('DELETE', `/agents/${encodeURIComponent(agentId)}`, undefined, signal, this.asAgent());
    if (answer.status !== 200 && answer.status !== 204 && answer.status !== 404) {
      throw new OrchestratorUnreachableError(
        `the orchestrator answered the unregistration with HTTP ${answer.status}: ${describeError(answer.body).error}`,
      );
    }
  }

  /** Asks the orchestrator to send this agent no new tasks (until it registers again). */
  async drain(agentId: string, signal: AbortSignal): Promise<void> {
    const answer = await this.call('POST', `/agents/${encodeURIComponent(agentId)}/drain`, {}, signal, this.asAgent());
    if (answer.status !== 200)
      throw new OrchestratorUnreachableError(
        `the orchestrator answered the drain with HTTP ${answer.status}: ${describeError(answer.body).error}`,
      );
  }

  /** The API base every call goes to, such as http://127.0.0.1:8080. */
  get apiBase(): string {
    return this.baseUrl;
  }

  /**
   * POSTs `body` to `url` (a report or progress URL of the orchestrator's API) as this agent: with its
   * token, the API token and through the same `fetch` (so SigV4-signed on AWS). Transport failures
   * become `OrchestratorUnreachableError`; every HTTP answer is returned.
   */
  postAsAgent(url: string, body: unknown, signal: AbortSignal): Promise<Answer> {
    return this.call('POST', url, body, signal, this.asAgent());
  }

  private asAgent(): Record<string, string> {
    return this.agentToken ? { [AGENT_AUTH_HEADERS.agentToken]: this.agentToken } : {};
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Answer> {
    const url = /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.apiToken ? { authorization: `Bearer ${this.apiToken}` } : {}),
          ...extraHeaders,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
        redirect: 'error',
      });
    } catch (err) {
      const reason = signal.aborted ? 'aborted' : describeFetchFailure(err);
      throw new OrchestratorUnreachableError(`could not reach the orchestrator at ${url} (${reason})`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Proxies answer HTML or plain text; keep it as text for the message.
    }
    return { status: res.status, body: parsed };
  }
}

export function describeError(body: unknown): { error: string; code: string | undefined } {
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) return { error: parsed.data.error, code: parsed.data.code };
  if (typeof body === 'string' && body) return { error: body.slice(0, 300), code: undefined };
  return { error: 'no error message given', code: undefined };
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeFetchFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
  return err instanceof Error ? err.message : String(err);
}
