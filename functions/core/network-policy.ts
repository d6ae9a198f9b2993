import ipaddr from 'ipaddr.js';

/**
 * Where the dispatcher may send tasks. Agents register their own host and port, so every dispatch
 * is an outbound request to an address a caller chose: link-local (instance metadata), multicast,
 * unspecified and reserved ranges are never reachable; loopback and private ranges only when
 * allow-listed; public addresses only when `allowPublic`.
 */
export interface NetworkPolicy {
  allowed: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  allowPublic: boolean;
  /** Host and port pairs never used as agents, whatever the ranges allow: the orchestrator's own services. */
  denied?: readonly DeniedTarget[];
}

/** A port on a network (or on a host name, resolved when checked) that is not an agent. */
export interface DeniedTarget {
  net?: [ipaddr.IPv4 | ipaddr.IPv6, number];
  name?: string;
  port: number;
  /** What it is, for the refusal: "listed in DENIED_AGENT_TARGETS", "the cache (CACHE_URL)". */
  what: string;
}

const ALWAYS_DENIED = new Set([
  'linkLocal',
  'multicast',
  'unspecified',
  'broadcast',
  'reserved',
  'carrierGradeNat',
  'benchmarking',
  'amt',
  'as112',
  'deprecated',
  'orchid2',
  'droneRemoteIdProtocolEntityTags',
  'discard',
]);
const AWS_METADATA_V6 = ipaddr.parse('fd00:ec2::254');

export function parseNetworkPolicy(cidrs: string, allowPublic: boolean, denied = ''): NetworkPolicy {
  const allowed = cidrs
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      const address = c.slice(0, c.indexOf('/'));
      // Only the dotted-decimal form: ipaddr.js also reads 010.0.0.0 as octal and 2130706433 as 127.0.0.1.
      try {
        if (ipaddr.IPv6.isValid(address) || ipaddr.IPv4.isValidFourPartDecimal(address)) return ipaddr.parseCIDR(c);
      } catch {
        // not a CIDR: said below
      }
      throw new Error(`ALLOWED_AGENT_NETWORKS has "${c}", which is not a CIDR such as 10.0.0.0/16`);
    });
  return { allowed, allowPublic, denied: parseDeniedTargets(denied) };
}

const PORT = /^\d{1,5}$/;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i;

/**
 * `host:port` entries, comma-separated: an IP address or CIDR (IPv6 in brackets, `[::1]:6379`,
 * `[fd00::/8]:6379`) or a host name, resolved each time an agent address is checked.
 */
export function parseDeniedTargets(text: string, what = 'listed in DENIED_AGENT_TARGETS'): DeniedTarget[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((entry) => {
      const bad = () =>
        new Error(
          `DENIED_AGENT_TARGETS has "${entry}", which is not host:port such as 127.0.0.1:6379, 127.0.0.0/8:6379, [::1]:6379 or cache.internal:6379`,
        );
      const bracketed = entry.match(/^\[([^\]]+)\]:(.*)$/);
      const colon = entry.lastIndexOf(':');
      const [host, portText] = bracketed ? [bracketed[1]!, bracketed[2]!] : [entry.slice(0, colon), entry.slice(colon + 1)];
      const port = Number(portText);
      if (colon < 1 || !PORT.test(portText) || port < 1 || port > 65_535) throw bad();
      return { ...deniedHost(host, bracketed !== null, bad), port, what };
    });
}

function deniedHost(host: string, bracketed: boolean, bad: () => Error): Pick<DeniedTarget, 'net' | 'name'> {
  const slash = host.includes('/');
  const address = slash ? host.slice(0, host.indexOf('/')) : host;
  const v6 = ipaddr.IPv6.isValid(address);
  if (v6 !== bracketed) throw bad();
  if (v6 || ipaddr.IPv4.isValidFourPartDecimal(address)) {
    try {
      return { net: slash ? ipaddr.parseCIDR(host) : [ipaddr.parse(host), v6 ? 128 : 32] };
    } catch {
      throw bad();
    }
  }
  if (slash || !HOST_NAME.test(host) || /^[\d.]+$/.test(host)) throw bad();
  return { name: host.toLowerCase() };
}

/** The host names among the denied targets: resolve them and pass the addresses to `checkTarget`. */
export function deniedNames(policy: NetworkPolicy): string[] {
  return [...new Set((policy.denied ?? []).flatMap((d) => (d.name ? [d.name] : [])))];
}

function normalized(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.parse(address);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/**
 * `checkAddress`, and the port: an address and port that is one of the orchestrator's own services
 * is refused. `resolved` has the addresses of the denied host names (see `deniedNames`).
 */
export function checkTarget(
  address: string,
  port: number,
  policy: NetworkPolicy,
  resolved: ReadonlyMap<string, readonly string[]> = new Map(),
): AddressVerdict {
  if (!ipaddr.isValid(address)) return { ok: false, reason: `"${address}" is not an IP address` };
  const ip = normalized(address);
  for (const d of policy.denied ?? []) {
    if (d.port !== port) continue;
    const hit = d.net
      ? d.net[0].kind() === ip.kind() && ip.match(d.net)
      : (resolved.get(d.name ?? '') ?? []).some((a) => ipaddr.isValid(a) && normalized(a).toNormalizedString() === ip.toNormalizedString());
    if (hit)
      return {
        ok: false,
        reason: `${address} port ${port} is a service of the orchestrator itself (${d.what}), not an agent`,
      };
  }
  return checkAddress(address, policy);
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

export function checkAddress(address: string, policy: NetworkPolicy): AddressVerdict {
  if (!ipaddr.isValid(address)) return { ok: false, reason: `"${address}" is not an IP address` };
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (ALWAYS_DENIED.has(range) || (ip.kind() === 'ipv6' && ip.toNormalizedString() === AWS_METADATA_V6.toNormalizedString())) {
    return {
      ok: false,
      reason: `${address} is in the ${range} range, which agents may never use (it reaches instance metadata or no single host)`,
    };
  }
  const listed = policy.allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
  if (listed) return { ok: true };
  if (range === 'unicast' && policy.allowPublic) return { ok: true };
  return {
    ok: false,
    reason: `${address} (${range}) is not in ALLOWED_AGENT_NETWORKS (${policy.allowed.map(([n, b]) => `${n.toString()}/${b}`).join(', ') || 'none'})${range === 'unicast' ? ' and public agents are not allowed' : ''}`,
  };
}
