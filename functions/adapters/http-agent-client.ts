import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import { type AgentTaskRequest, DELIVERY_HEADERS } from '@optiinfra/contract';
import { checkTarget, deniedNames, type NetworkPolicy } from '../core/network-policy';
import type { AgentClient, DeliveryResult, DeliveryTarget } from '../core/ports';
import { answerDetail, readAnswer } from './agent-answer';
import { signedHeaders } from './signed-headers';

export { answerDetail, MAX_AGENT_ERROR_CHARS, MAX_REFUSAL_CHARS } from './agent-answer';
import { type AttemptResult, classifyHttpStatus, parseRetryAfter } from '../core/retry-policy';

// The module objects, not ESM imports: importing node:http as ESM builds its namespace from every
// export, and its lazy WebSocket export loads Node's bundled undici, ~15 ms of a cold start
// (npm run bench:cold) for nothing this client uses.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

class BlockedAddressError extends Error {}

/** True for the error of a POST the network policy refused. */
export function isBlockedAddress(err: unknown): err is Error {
  return err instanceof BlockedAddressError;
}
class AnswerTooLargeError extends Error {}

/** An attempt that never reached the agent (refused by the policy, no connection, a bad certificate): tried again, counted against its circuit. */
function unreachable(error: string): AttemptResult {
  return { kind: 'failed', error, retryable: true, health: 'failure', outcome: 'unreachable' };
}

/** `webhook-id` of a delivery: the task and the attempt, so a redelivered attempt is recognisable and a retry is not. */
export function deliveryId(taskId: string, attempt: number): string {
  return `${taskId}:${attempt}`;
}

/** The SDK's answer to a delivery id it has already accepted (409 `duplicate_delivery`). */
function isDuplicateDelivery(text: string): boolean {
  try {
    return (JSON.parse(text) as { code?: unknown } | null)?.code === 'duplicate_delivery';
  } catch {
    return false;
  }
}

const CERTIFICATE_ERRORS =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_[A-Z_]+)$/;

function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && CERTIFICATE_ERRORS.test(code);
}

const DENIED_NAMES_TTL_MS = 60_000;

/**
 * POSTs the seed's TaskRequest to http(s)://host:port/task (https verifies the agent's certificate
 * for its registered host). The address is checked against the network
 * policy after DNS resolution, on the very address the socket connects to (no rebinding window);
 * redirects are never followed; the answer is size-limited and read within the attempt deadline.
 */
export class HttpAgentClient implements AgentClient {
  constructor(
    private readonly policy: NetworkPolicy,
    private readonly maxAnswerBytes: number,
  ) {}

  /** The addresses of the denied host names (such as the cache's endpoint), looked up at most once a minute. */
  private denied: { at: number; addresses: Promise<Map<string, string[]>> } | undefined;

  private deniedAddresses(): Promise<Map<string, string[]>> {
    const names = deniedNames(this.policy);
    if (names.length === 0) return Promise.resolve(new Map<string, string[]>());
    if (!this.denied || Date.now() - this.denied.at > DENIED_NAMES_TTL_MS) {
      const lookups = names.map(async (name): Promise<[string, string[]]> => {
        // A name that does not resolve now reaches nothing now.
        const found = await dnsLookupAll(name, { all: true }).catch(() => []);
        return [name, found.map((a) => a.address)];
      });
      this.denied = { at: Date.now(), addresses: Promise.all(lookups).then((pairs) => new Map(pairs)) };
    }
    return this.denied.addresses;
  }

  /** DNS lookup for the socket, refusing every address the policy does not allow on this port. */
  private guardedLookup =
    (port: number, denied: ReadonlyMap<string, readonly string[]>) =>
    (hostname: string, options: object, callback: LookupCallback): void => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const list = addresses;
        for (const a of list) {
          const verdict = checkTarget(a.address, port, this.policy, denied);
          if (!verdict.ok) return callback(new BlockedAddressError(verdict.reason), []);
        }
        const all = (options as { all?: boolean }).all;
        if (all) return callback(null, list);
        const first = list[0];
        return first ? callback(null, first.address, first.family) : callback(new Error(`${hostname} has no address`), []);
      });
    };

  async deliver(target: DeliveryTarget, request: AgentTaskRequest, attempt: number, deadlineMs: number): Promise<DeliveryResult> {
    const host = target.host.startsWith('[') ? target.host.slice(1, -1) : target.host;
    const denied = await this.deniedAddresses();
    const refused = this.refusedLiteral(host, target.port, denied);
    if (refused) return unreachable(`agent address blocked: ${refused}`);
    const body = JSON.stringify(request);
    const headers = signedHeaders(deliveryId(request.task_id, attempt), body, target.signingSecret, {
      [DELIVERY_HEADERS.attempt]: String(attempt),
      [DELIVERY_HEADERS.deadline]: new Date(deadlineMs).toISOString(),
      [DELIVERY_HEADERS.traceparent]: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    });

    const remaining = deadlineMs - Date.now();
    if (remaining <= 0) return { kind: 'timed_out', error: `no answer within ${request.timeout_seconds} s` };
    const signal = AbortSignal.timeout(remaining);
    try {
      const { status, text, retryAfter, contentType } = await this.post(
        host,
        target.port,
        target.scheme ?? 'http',
        { path: '/task', headers, body },
        signal,
        denied,
      );
      if (status === 409 && isDuplicateDelivery(text))
        // The agent already took a delivery with this id: someone replayed it ahead of this one, so
        // this attempt's own answer never comes. Another attempt (a new id) can still succeed.
        return {
          kind: 'failed',
          error: `the agent had already received delivery ${deliveryId(request.task_id, attempt)} (a replayed copy reached it first); the next attempt is sent under a new id`,
          retryable: true,
          health: 'neutral',
          outcome: 'http_error',
          httpStatus: status,
        };
      // Accepted: the agent works on and reports to POST /tasks/{id}/result (any body, or none).
      if (status === 202) return { kind: 'accepted' };
      if (status !== 200) {
        const retryAfterSeconds = parseRetryAfter(retryAfter, Date.now());
        const { retryable, health } = classifyHttpStatus(status, retryAfterSeconds);
        const detail = answerDetail(text, contentType);
        const why = retryable
          ? retryAfterSeconds !== undefined
            ? ` (asked to wait ${retryAfterSeconds} s)`
            : ''
          : ' (a 4xx refusal is not retried)';
        const error = `agent answered HTTP ${status}${why}${detail}`;
        const failed: AttemptResult = { kind: 'failed', error, retryable, health, outcome: 'http_error', httpStatus: status };
        if (retryAfterSeconds !== undefined) failed.retryAfterSeconds = retryAfterSeconds;
        return failed;
      }
      return readAnswer(text, request.task_id);
    } catch (err) {
      if (signal.aborted) return { kind: 'timed_out', error: `no answer within ${request.timeout_seconds} s` };
      if (err instanceof AnswerTooLargeError) {
        // The same result would be too large on every attempt.
        return {
          kind: 'failed',
          error: `the agent's answer is larger than the ${this.maxAnswerBytes}-byte limit (MAX_AGENT_ANSWER_BYTES); return a reference to large results instead (not retried)`,
          retryable: false,
          health: 'neutral',
        };
      }
      if (err instanceof BlockedAddressError) return unreachable(`agent address blocked: ${err.message}`);
      const code = (err as NodeJS.ErrnoException).code;
      if (target.scheme === 'https' && isCertificateError(code))
        return unreachable(
          `the TLS certificate of agent ${target.host}:${target.port} was not accepted (${code}: ${err instanceof Error ? err.message : String(err)}); it must be valid for "${target.host}" and issued by a CA the orchestrator trusts`,
        );
      return unreachable(
        `could not reach agent at ${target.host}:${target.port} (${code ?? (err instanceof Error ? err.message : String(err))})`,
      );
    }
  }

  /**
   * The cancel notice: POST /task/{id}/cancel, signed as a delivery (webhook-id `<task>:<attempt>:cancel`),
   * to the same checked address. Best effort within `timeoutMs`: its outcome is only logged.
   */
  async notifyCancel(target: DeliveryTarget, taskId: string, attempt: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const host = target.host.startsWith('[') ? target.host.slice(1, -1) : target.host;
    try {
      const denied = await this.deniedAddresses();
      const refused = this.refusedLiteral(host, target.port, denied);
      if (refused) return { ok: false, detail: `agent address blocked: ${refused}` };
      const body = JSON.stringify({ task_id: taskId, attempt, reason: 'cancelled' });
      const headers = signedHeaders(`${deliveryId(taskId, attempt)}:cancel`, body, target.signingSecret, {
        [DELIVERY_HEADERS.attempt]: String(attempt),
      });
      const path = `/task/${encodeURIComponent(taskId)}/cancel`;
      const answer = await this.post(
        host,
        target.port,
        target.scheme ?? 'http',
        { path, headers, body },
        AbortSignal.timeout(timeoutMs),
        denied,
      );
      return { ok: answer.status < 300 || answer.status === 404, detail: `agent answered HTTP ${answer.status}` };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  /** A POST to any path of a checked address, as deliveries go: the submitters' callbacks take this way out. */
  async postChecked(
    target: { scheme: 'http' | 'https'; host: string; port: number; path: string },
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<{ status: number }> {
    const denied = await this.deniedAddresses();
    const refused = this.refusedLiteral(target.host, target.port, denied);
    if (refused) throw new BlockedAddressError(refused);
    return this.post(target.host, target.port, target.scheme, { path: target.path, headers, body }, signal, denied);
  }

  /** Why the policy refuses an address written as an IP literal (names are checked as they resolve, in guardedLookup). */
  private refusedLiteral(host: string, port: number, denied: ReadonlyMap<string, readonly string[]>): string | undefined {
    if (!ipaddr.isValid(host)) return undefined;
    const verdict = checkTarget(host, port, this.policy, denied);
    return verdict.ok ? undefined : verdict.reason;
  }

  private post(
    host: string,
    port: number,
    scheme: 'http' | 'https',
    { path, headers, body }: { path: string; headers: Record<string, string>; body: string },
    signal: AbortSignal,
    denied: ReadonlyMap<string, readonly string[]>,
  ): Promise<{ status: number; text: string; retryAfter?: string; contentType?: string }> {
    return new Promise((resolve, reject) => {
      const options = {
        host,
        port,
        path,
        method: 'POST',
        headers,
        signal,
        lookup: this.guardedLookup(port, denied),
        agent: false,
      } as const;
      // The socket goes to the address the guarded lookup allowed; the certificate is checked
      // against the registered host name (SNI carries it; an IP address is checked as one).
      const request =
        scheme === 'https'
          ? (callback: (res: IncomingMessage) => void) =>
              https.request({ ...options, ...(ipaddr.isValid(host) ? {} : { servername: host }), rejectUnauthorized: true }, callback)
          : (callback: (res: IncomingMessage) => void) => http.request(options, callback);
      const req = request((res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxAnswerBytes) {
            // Settle first: destroying the socket may still end the response with the part read so far.
            reject(new AnswerTooLargeError(`answer larger than ${this.maxAnswerBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfter: res.headers['retry-after'],
            contentType: res.headers['content-type'],
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
