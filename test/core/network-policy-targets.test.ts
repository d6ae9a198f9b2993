import { describe, expect, it } from 'vitest';
import { checkTarget, deniedNames, parseDeniedTargets, parseNetworkPolicy } from '../../functions/core/network-policy';

/** Loopback agents allowed, as `npm start` has it, with the runtime's own API on port 8080 and a cache by name. */
const LOCAL = parseNetworkPolicy('127.0.0.0/8,::1/128', false, '127.0.0.0/8:8080,[::1]:8080,cache.internal:6379');

describe('parseDeniedTargets', () => {
  it('reads addresses, networks and host names with their ports', () => {
    const targets = parseDeniedTargets(' 127.0.0.1:4566 ,, 127.0.0.0/8:8080, [::1]:6379, [fd00::/8]:6380, Cache.Internal:6379 ');
    expect(targets.map((t) => [t.net ? `${t.net[0].toString()}/${t.net[1]}` : t.name, t.port])).toEqual([
      ['127.0.0.1/32', 4566],
      ['127.0.0.0/8', 8080],
      ['::1/128', 6379],
      ['fd00::/8', 6380],
      ['cache.internal', 6379],
    ]);
  });

  it.each([
    ['127.0.0.1'],
    ['127.0.0.1:'],
    ['127.0.0.1:0'],
    ['127.0.0.1:65536'],
    ['127.0.0.1:80x'],
    ['::1:6379'],
    ['[127.0.0.1]:80'],
    ['127.0.0.0/33:80'],
    ['010.0.0.1:80'],
    ['2130706433:80'],
    ['not a host:80'],
    [':80'],
  ])('refuses "%s" with a message that says what to write', (bad) => {
    expect(() => parseDeniedTargets(`127.0.0.1:1, ${bad}`)).toThrow(
      `DENIED_AGENT_TARGETS has "${bad}", which is not host:port such as 127.0.0.1:6379, 127.0.0.0/8:6379, [::1]:6379 or cache.internal:6379`,
    );
  });

  it('lists the host names to resolve', () => {
    expect(deniedNames(LOCAL)).toEqual(['cache.internal']);
  });
});

describe('checkTarget: the orchestrator never delivers to its own services', () => {
  it.each([['127.0.0.1'], ['127.0.0.3'], ['127.255.255.254'], ['::1'], ['::ffff:127.0.0.1'], ['::ffff:7f00:1'], ['0:0:0:0:0:0:0:1']])(
    '%s port 8080 is refused, whatever the spelling',
    (address) => {
      const verdict = checkTarget(address, 8080, LOCAL);
      expect(verdict).toEqual({
        ok: false,
        reason: `${address} port 8080 is a service of the orchestrator itself (listed in DENIED_AGENT_TARGETS), not an agent`,
      });
    },
  );

  it('another port on the same address is an agent like any other', () => {
    expect(checkTarget('127.0.0.1', 8081, LOCAL)).toEqual({ ok: true });
    expect(checkTarget('::1', 9000, LOCAL)).toEqual({ ok: true });
  });

  it('a denied host name is compared on its resolved addresses', () => {
    const resolved = new Map([['cache.internal', ['10.0.5.7', 'fd00::7']]]);
    const policy = parseNetworkPolicy('10.0.0.0/16,fd00::/8', false, 'cache.internal:6379');
    expect(checkTarget('10.0.5.7', 6379, policy, resolved)).toMatchObject({ ok: false });
    expect(checkTarget('::ffff:10.0.5.7', 6379, policy, resolved)).toMatchObject({ ok: false });
    expect(checkTarget('fd00:0::7', 6379, policy, resolved)).toMatchObject({ ok: false });
    expect(checkTarget('10.0.5.8', 6379, policy, resolved)).toEqual({ ok: true });
    expect(checkTarget('10.0.5.7', 6380, policy, resolved)).toEqual({ ok: true });
  });

  it('the network policy still applies to every other target', () => {
    expect(checkTarget('169.254.169.254', 80, LOCAL)).toMatchObject({ ok: false });
    expect(checkTarget('8.8.8.8', 80, LOCAL)).toMatchObject({ ok: false });
  });
});

describe('parseNetworkPolicy reads CIDRs in their usual form only', () => {
  it.each([['010.0.0.0/8'], ['2130706433/32'], ['0x7f.0.0.1/32'], ['127.1/16']])(
    '"%s" (which ipaddr.js would read as another network) is refused',
    (bad) => {
      expect(() => parseNetworkPolicy(bad, false)).toThrow(`ALLOWED_AGENT_NETWORKS has "${bad}", which is not a CIDR such as 10.0.0.0/16`);
    },
  );
});
