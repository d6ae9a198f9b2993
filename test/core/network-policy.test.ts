import { describe, expect, it } from 'vitest';
import { checkAddress, parseNetworkPolicy } from '../../functions/core/network-policy';

const NONE = parseNetworkPolicy('', false);
const PUBLIC = parseNetworkPolicy('', true);
const EVERYTHING = parseNetworkPolicy('0.0.0.0/0, ::/0, 169.254.0.0/16, fd00::/8, 127.0.0.0/8, 10.0.0.0/8', true);
const LOOPBACK = parseNetworkPolicy('127.0.0.0/8', false);
const TEN = parseNetworkPolicy('10.0.0.0/16', false);

describe('checkAddress: instance metadata and non-host ranges are never reachable', () => {
  it.each([
    ['169.254.169.254', 'linkLocal'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['0xa9fea9fe', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fd00:ec2:0:0:0:0:0:254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['240.0.0.1', 'reserved'],
  ])('%s is denied even when every network is allow-listed and public agents are allowed', (address, range) => {
    for (const policy of [NONE, PUBLIC, EVERYTHING]) {
      const verdict = checkAddress(address, policy);
      expect(verdict.ok).toBe(false);
      expect(!verdict.ok && verdict.reason).toBe(
        `${address} is in the ${range} range, which agents may never use (it reaches instance metadata or no single host)`,
      );
    }
  });
});

describe('checkAddress: loopback and private ranges need the allow-list', () => {
  it.each([
    ['127.0.0.1 with no allow-list', '127.0.0.1', NONE, false],
    ['127.0.0.1 with public agents allowed', '127.0.0.1', PUBLIC, false],
    ['127.0.0.1 when 127.0.0.0/8 is listed', '127.0.0.1', LOOPBACK, true],
    ['127.5.6.7 when 127.0.0.0/8 is listed', '127.5.6.7', LOOPBACK, true],
    ['::ffff:127.0.0.1 when 127.0.0.0/8 is listed', '::ffff:127.0.0.1', LOOPBACK, true],
    ['::1 when only 127.0.0.0/8 is listed', '::1', LOOPBACK, false],
    ['::1 when ::1/128 is listed', '::1', parseNetworkPolicy('::1/128', false), true],
    ['10.0.1.12 with no allow-list', '10.0.1.12', NONE, false],
    ['10.0.1.12 with public agents allowed', '10.0.1.12', PUBLIC, false],
    ['10.0.1.12 when 10.0.0.0/16 is listed', '10.0.1.12', TEN, true],
    ['10.1.0.1 when only 10.0.0.0/16 is listed', '10.1.0.1', TEN, false],
    ['192.168.1.1 when only 10.0.0.0/16 is listed', '192.168.1.1', TEN, false],
    ['172.16.0.1 with public agents allowed', '172.16.0.1', PUBLIC, false],
    ['fd12::1 with public agents allowed', 'fd12::1', PUBLIC, false],
    ['fd12::1 when fd00::/8 is listed', 'fd12::1', parseNetworkPolicy('fd00::/8', false), true],
  ] as const)('%s: allowed %s', (_label, address, policy, ok) => {
    expect(checkAddress(address, policy).ok).toBe(ok);
  });

  it('a denied private address names the range and the allow-list', () => {
    expect(checkAddress('10.1.0.1', TEN)).toEqual({
      ok: false,
      reason: '10.1.0.1 (private) is not in ALLOWED_AGENT_NETWORKS (10.0.0.0/16)',
    });
    expect(checkAddress('127.0.0.1', NONE)).toEqual({ ok: false, reason: '127.0.0.1 (loopback) is not in ALLOWED_AGENT_NETWORKS (none)' });
  });
});

describe('checkAddress: public addresses need allowPublic', () => {
  it.each([
    ['8.8.8.8', PUBLIC, true],
    ['2001:4860:4860::8888', PUBLIC, true],
    ['8.8.8.8', NONE, false],
    ['8.8.8.8', TEN, false],
    ['8.8.8.8', parseNetworkPolicy('8.8.8.0/24', false), true],
  ] as const)('%s under the policy is allowed: %s', (address, policy, ok) => {
    expect(checkAddress(address, policy).ok).toBe(ok);
  });

  it('a denied public address says public agents are not allowed', () => {
    expect(checkAddress('8.8.8.8', TEN)).toEqual({
      ok: false,
      reason: '8.8.8.8 (unicast) is not in ALLOWED_AGENT_NETWORKS (10.0.0.0/16) and public agents are not allowed',
    });
  });

  it.each([['64:ff9b::a9fe:a9fe'], ['2002:a9fe:a9fe::1']])('a translated IPv6 form (%s) is not treated as public', (address) => {
    expect(checkAddress(address, PUBLIC).ok).toBe(false);
  });
});

describe('checkAddress: input that is not an IP address', () => {
  it.each([['localhost'], ['agent.internal'], [''], ['10.0.0.1:80'], ['http://10.0.0.1']])(
    '%j is denied as not an IP address',
    (address) => {
      expect(checkAddress(address, EVERYTHING)).toEqual({ ok: false, reason: `"${address}" is not an IP address` });
    },
  );
});

describe('parseNetworkPolicy', () => {
  it('parses a comma-separated list, trimming spaces and skipping empty entries', () => {
    const policy = parseNetworkPolicy(' 10.0.0.0/16 ,, fd00::/8 ,', true);
    expect(policy.allowPublic).toBe(true);
    expect(policy.allowed.map(([net, bits]) => `${net.toString()}/${bits}`)).toEqual(['10.0.0.0/16', 'fd00::/8']);
  });

  it('an empty setting allows no private networks', () => {
    expect(parseNetworkPolicy('', false).allowed).toEqual([]);
    expect(parseNetworkPolicy('  ', false).allowed).toEqual([]);
  });

  it.each([['banana'], ['10.0.0.0/33'], ['10.0.0.1'], ['10.0.0.0/'], ['300.0.0.0/8'], ['fd00::/129']])(
    'an invalid CIDR (%s) throws a message naming it',
    (bad) => {
      expect(() => parseNetworkPolicy(`10.0.0.0/8, ${bad}`, false)).toThrow(
        `ALLOWED_AGENT_NETWORKS has "${bad}", which is not a CIDR such as 10.0.0.0/16`,
      );
    },
  );
});
