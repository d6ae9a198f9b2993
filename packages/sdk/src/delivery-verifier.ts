import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { DELIVERY_HEADERS } from '@optiinfra/contract';
import { ReplayGuard } from './replay-guard.js';

/** Standard Webhooks' tolerance: a delivery signed further than this from the agent's clock is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Accepted `webhook-id`s remembered at most (about 100 bytes each). */
export const DEFAULT_REMEMBERED_DELIVERIES = 100_000;

export interface Refusal {
  ok: false;
  /** 401: not from the orchestrator; 409: already accepted (a replay); 503: cannot remember more deliveries now. */
  status: 401 | 409 | 503;
  code: 'invalid_signature' | 'duplicate_delivery' | 'replay_memory_full';
  reason: string;
}
export type HeaderCheck = { ok: true; signed: boolean } | Refusal;
/** A verified delivery carries its signed id and timestamp: the only header values the agent may trust. */
export type VerifyOutcome = { ok: true; verified: false } | { ok: true; verified: true; id: string; timestampMs: number } | Refusal;

const ID_RE = /^[\x21-\x7e]{1,255}$/;
const TIMESTAMP_RE = /^\d{1,12}$/;
const SIGNATURE_ENTRY_RE = /^v1,[A-Za-z0-9+/]+={0,2}$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
}

const refuse = (reason: string): Refusal => ({ ok: false, status: 401, code: 'invalid_signature', reason });

/**
 * Checks the Standard Webhooks signature of a delivery against the secret the orchestrator gave at
 * registration, in two steps: `checkHeaders` on the headers alone (presence, format, timestamp
 * tolerance, replay), before a byte of the body is read, then `verify` on the body. A delivery
 * whose signature checks out is remembered by its `webhook-id` until its timestamp leaves the
 * tolerance window, so the same delivery sent again is refused (409) instead of run again. The
 * secret can change when the agent registers again, hence `setSecret`.
 */
export class DeliveryVerifier {
  private webhook: Webhook | undefined;
  private readonly replays: ReplayGuard;

  constructor(
    private readonly enabled: boolean,
    private readonly required: boolean,
    maxRemembered = DEFAULT_REMEMBERED_DELIVERIES,
  ) {
    this.replays = new ReplayGuard(maxRemembered);
  }

  /** Whether signatures are checked at all (`verifySignatures`). */
  get checking(): boolean {
    return this.enabled;
  }

  setSecret(secret: string | undefined): void {
    this.webhook = secret ? new Webhook(secret) : undefined;
  }

  /** What the headers alone say: whether the delivery is to be checked as signed, or why it is refused. */
  checkHeaders(headers: IncomingHttpHeaders, nowMs = Date.now()): HeaderCheck {
    if (!this.enabled) return { ok: true, signed: false };
    const signature = header(headers, DELIVERY_HEADERS.signature);
    if (signature === undefined) {
      return this.required
        ? refuse(`missing ${DELIVERY_HEADERS.signature} header: this agent accepts only signed deliveries`)
        : { ok: true, signed: false };
    }
    if (!this.webhook) {
      return this.required
        ? refuse('this agent has no signing secret yet (it is not registered), so it cannot check the signature')
        : { ok: true, signed: false };
    }
    const id = header(headers, DELIVERY_HEADERS.id) ?? '';
    if (!ID_RE.test(id)) return refuse(`missing or malformed ${DELIVERY_HEADERS.id} header: send 1-255 visible ASCII characters`);
    const timestamp = header(headers, DELIVERY_HEADERS.timestamp) ?? '';
    if (!TIMESTAMP_RE.test(timestamp))
      return refuse(`missing or malformed ${DELIVERY_HEADERS.timestamp} header: send the signing time in seconds since the epoch`);
    const offSeconds = Math.abs(nowMs / 1000 - Number(timestamp));
    if (offSeconds > SIGNATURE_TOLERANCE_SECONDS)
      return refuse(
        `invalid webhook signature: ${DELIVERY_HEADERS.timestamp} is ${Math.round(offSeconds)} s off this agent's clock, more than the ${SIGNATURE_TOLERANCE_SECONDS} s tolerance (a stale or replayed delivery, or a wrong clock)`,
      );
    if (!signature.split(' ').some((entry) => SIGNATURE_ENTRY_RE.test(entry)))
      return refuse(`malformed ${DELIVERY_HEADERS.signature} header: send "v1,<base64 HMAC-SHA256>" entries separated by spaces`);
    if (this.replays.has(id, nowMs)) return duplicate(id);
    return { ok: true, signed: true };
  }

  verify(rawBody: string, headers: IncomingHttpHeaders, nowMs = Date.now()): VerifyOutcome {
    const pre = this.checkHeaders(headers, nowMs);
    if (!pre.ok) return pre;
    if (!pre.signed || !this.webhook) return { ok: true, verified: false };
    const id = header(headers, DELIVERY_HEADERS.id)!;
    const timestamp = header(headers, DELIVERY_HEADERS.timestamp)!;
    try {
      this.webhook.verify(
        rawBody,
        {
          [DELIVERY_HEADERS.id]: id,
          [DELIVERY_HEADERS.timestamp]: timestamp,
          [DELIVERY_HEADERS.signature]: header(headers, DELIVERY_HEADERS.signature)!,
        },
        { jsonParse: false },
      );
    } catch (err) {
      if (err instanceof WebhookVerificationError) return refuse(`invalid webhook signature: ${err.message}`);
      throw err;
    }
    const timestampMs = Number(timestamp) * 1000;
    // Remembered only once the signature holds, so unsigned noise cannot block a real delivery.
    const remembered = this.replays.remember(id, timestampMs + SIGNATURE_TOLERANCE_SECONDS * 1000, nowMs);
    if (remembered === 'duplicate') return duplicate(id);
    if (remembered === 'full')
      return {
        ok: false,
        status: 503,
        code: 'replay_memory_full',
        reason: `this agent has accepted ${this.replays.size} deliveries in the last ${SIGNATURE_TOLERANCE_SECONDS} s, as many as it remembers to refuse replays; send this one again shortly`,
      };
    return { ok: true, verified: true, id, timestampMs };
  }
}

function duplicate(id: string): Refusal {
  return {
    ok: false,
    status: 409,
    code: 'duplicate_delivery',
    reason: `delivery ${id} was already accepted by this agent: the same delivery sent again does not run the task again`,
  };
}
