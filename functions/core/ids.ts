import { createHash, randomBytes, randomUUID } from 'node:crypto';

const AGENT_NAMESPACE = 'optiinfra-agent';

/**
 * The agent id is derived from name, host and port (a name-based UUID, RFC 9562 v5 layout), so
 * registering the same agent again keeps its id without a lookup.
 */
export function agentIdFor(name: string, host: string, port: number): string {
  const hash = createHash('sha1').update(`${AGENT_NAMESPACE}\u0000${name}\u0000${host.toLowerCase()}\u0000${port}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function newTaskId(): string {
  return randomUUID();
}

/** A Standard Webhooks secret: "whsec_" + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
