import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';

const AGENT_NAMESPACE = 'optiinfra-agent';

/** What `localhost` stands for: one loopback address, so `localhost` and `127.0.0.1` are one endpoint. */
export const LOCALHOST_ADDRESS = '127.0.0.1';

/**
 * One spelling per address: IPv4 in any inet_aton form (2130706433, 0177.0.0.1, 0x7f.0.0.1, 127.1)
 * as a dotted quad, IPv6 in its compressed form (RFC 5952) without brackets, an IPv4-mapped IPv6
 * address as the IPv4 one, and names lower-cased without a trailing dot. This is the host an agent
 * is stored and called under: a name stays a name, which an https agent's certificate is issued for.
 */
export function normalHost(host: string): string {
  const bare = (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
  if (ipaddr.isValid(bare)) {
    const ip = ipaddr.parse(bare);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address().toString();
    return ip.toString();
  }
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

/**
 * The host an agent id is derived from: `normalHost`, with `localhost` taken as the loopback
 * address it always is (RFC 6761), so `localhost` and `127.0.0.1` are one endpoint.
 */
export function canonicalHost(host: string): string {
  const normal = normalHost(host);
  return normal === 'localhost' ? LOCALHOST_ADDRESS : normal;
}

/**
 * The agent id is derived from name, canonical host and port (a name-based UUID, RFC 9562 v5
 * layout), so registering the same agent again keeps its id without a lookup, however its host is spelled.
 */
export function agentIdFor(name: string, host: string, port: number): string {
  const hash = createHash('sha1')
    .update(`${AGENT_NAMESPACE}\u0000${name}\u0000${canonicalHost(host)}\u0000${port}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function newTaskId(): string {
  return randomUUID();
}

/** An agent's credential: 32 random bytes, base64url. Given to the agent once; only its hash is kept. */
export function newAgentToken(): string {
  return `oat_${randomBytes(32).toString('base64url')}`;
}

/** What is stored of an agent token, and compared (in constant time) with the one presented. */
export function agentTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** True when `token` is the one whose hash is `hash`, compared in constant time. */
export function matchesTokenHash(token: string, hash: string): boolean {
  const given = Buffer.from(agentTokenHash(token), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/**
 * The Standard Webhooks secret that signs deliveries to an agent, derived from its token: the
 * orchestrator must keep it to sign, but it does not let anyone act as the agent.
 */
export function signingSecretFor(token: string): string {
  return `whsec_${createHmac('sha256', 'optiinfra-delivery-signing').update(token).digest('base64')}`;
}
