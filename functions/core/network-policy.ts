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

export function parseNetworkPolicy(cidrs: string, allowPublic: boolean): NetworkPolicy {
  const allowed = cidrs
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      try {
        return ipaddr.parseCIDR(c);
      } catch {
        throw new Error(`ALLOWED_AGENT_NETWORKS has "${c}", which is not a CIDR such as 10.0.0.0/16`);
      }
    });
  return { allowed, allowPublic };
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
