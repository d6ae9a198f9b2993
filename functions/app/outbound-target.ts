/** The outbound guard at the door: whether the orchestrator may call a host and port, checked before it is stored. */
import ipaddr from 'ipaddr.js';
import { checkTarget, deniedNames } from '../core/network-policy';
import type { Deps } from './deps';

export type OutboundVerdict = { ok: true } | { ok: false; unresolved: true } | { ok: false; unresolved: false; reason: string };

/**
 * Resolves `host` (an IP address is taken as it is) and checks every address against the network
 * policy on `port`. A send checks again, on the address its socket connects to: a name may resolve
 * elsewhere by then.
 */
export async function checkOutboundTarget(
  deps: Pick<Deps, 'settings' | 'resolveHost'>,
  host: string,
  port: number,
): Promise<OutboundVerdict> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const resolve = async (name: string) => {
    try {
      return await deps.resolveHost(name);
    } catch {
      return [];
    }
  };
  const addresses = ipaddr.isValid(bare) ? [bare] : await resolve(bare);
  if (addresses.length === 0) return { ok: false, unresolved: true };
  // The orchestrator's own services named by host (such as the cache's endpoint), resolved now.
  const policy = deps.settings.networkPolicy;
  const denied = new Map(await Promise.all(deniedNames(policy).map(async (name) => [name, await resolve(name)] as const)));
  for (const address of addresses) {
    const verdict = checkTarget(address, port, policy, denied);
    if (!verdict.ok) return { ok: false, unresolved: false, reason: verdict.reason };
  }
  return { ok: true };
}
