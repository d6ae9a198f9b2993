import { Webhook } from 'standardwebhooks';
import { DELIVERY_HEADERS } from '@optiinfra/contract';

/**
 * The headers of every POST the orchestrator sends out (deliveries, cancel notices, callbacks): JSON,
 * its length, the Standard Webhooks id and timestamp, and the signature when there is a secret.
 */
export function signedHeaders(
  id: string,
  body: string,
  secret: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  const now = new Date();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'optiinfra-orchestrator',
    [DELIVERY_HEADERS.id]: id,
    [DELIVERY_HEADERS.timestamp]: String(Math.floor(now.getTime() / 1000)),
    ...extra,
  };
  if (secret) headers[DELIVERY_HEADERS.signature] = new Webhook(secret).sign(id, now, body);
  return headers;
}
