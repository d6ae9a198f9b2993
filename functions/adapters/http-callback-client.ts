import type { CallbackClient, CallbackTarget } from '../core/callback-port';
import { type CallbackAnswer, callbackTargetOf, readCallbackStatus } from '../core/task-callback';
import { type HttpAgentClient, isBlockedAddress } from './http-agent-client';
import { signedHeaders } from './signed-headers';

/**
 * POSTs a finished task to its submitter's callback URL, signed as deliveries to agents are
 * (Standard Webhooks, with the task's own secret), through the agent client's outbound guard: the
 * same network policy, checked on the address the socket connects to, and no redirect followed.
 */
export class HttpCallbackClient implements CallbackClient {
  constructor(private readonly http: HttpAgentClient) {}

  async send(target: CallbackTarget, webhookId: string, body: string, timeoutMs: number): Promise<CallbackAnswer> {
    const to = callbackTargetOf(target.url);
    const headers = signedHeaders(webhookId, body, target.secret);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const { status } = await this.http.postChecked(to, headers, body, signal);
      return readCallbackStatus(status);
    } catch (err) {
      // The address was allowed at submit: a name that now resolves elsewhere is refused for good.
      if (isBlockedAddress(err)) return { kind: 'failed', error: `callback URL blocked: ${err.message} (not retried)`, retryable: false };
      if (signal.aborted) return { kind: 'failed', error: `the callback URL gave no answer within ${timeoutMs / 1000} s`, retryable: true };
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      return { kind: 'failed', error: `could not reach the callback URL at ${to.host}:${to.port} (${code})`, retryable: true };
    }
  }
}
