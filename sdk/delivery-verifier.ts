import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { DELIVERY_HEADERS } from '../functions/core/contract';

export type VerifyOutcome = { ok: true; verified: boolean } | { ok: false; reason: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
}

/**
 * Checks the Standard Webhooks signature of a delivery against the secret the orchestrator gave at
 * registration. The secret can change when the agent registers again, hence `setSecret`.
 */
export class DeliveryVerifier {
  private webhook: Webhook | undefined;

  constructor(
    private readonly enabled: boolean,
    private readonly required: boolean,
  ) {}

  setSecret(secret: string | undefined): void {
    this.webhook = secret ? new Webhook(secret) : undefined;
  }

  verify(rawBody: string, headers: IncomingHttpHeaders): VerifyOutcome {
    if (!this.enabled) return { ok: true, verified: false };
    const signature = header(headers, DELIVERY_HEADERS.signature);
    if (signature === undefined) {
      return this.required
        ? { ok: false, reason: `missing ${DELIVERY_HEADERS.signature} header: this agent accepts only signed deliveries` }
        : { ok: true, verified: false };
    }
    if (!this.webhook) {
      return this.required
        ? { ok: false, reason: 'this agent has no signing secret yet (it is not registered), so it cannot check the signature' }
        : { ok: true, verified: false };
    }
    try {
      this.webhook.verify(
        rawBody,
        {
          [DELIVERY_HEADERS.id]: header(headers, DELIVERY_HEADERS.id) ?? '',
          [DELIVERY_HEADERS.timestamp]: header(headers, DELIVERY_HEADERS.timestamp) ?? '',
          [DELIVERY_HEADERS.signature]: signature,
        },
        { jsonParse: false },
      );
      return { ok: true, verified: true };
    } catch (err) {
      if (err instanceof WebhookVerificationError) return { ok: false, reason: `invalid webhook signature: ${err.message}` };
      throw err;
    }
  }
}
