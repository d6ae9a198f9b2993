import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isUuid } from '@optiinfra/contract';
import {
  agentIdFor,
  agentTokenHash,
  canonicalHost,
  matchesTokenHash,
  newAgentToken,
  newTaskId,
  signingSecretFor,
} from '../../functions/core/ids';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('agentIdFor', () => {
  it('registering the same agent again yields the same id', () => {
    expect(agentIdFor('cost-agent-1', '10.0.1.12', 8080)).toBe(agentIdFor('cost-agent-1', '10.0.1.12', 8080));
  });

  it.each([
    ['another port', ['cost-agent-1', '10.0.1.12', 8081]],
    ['another host', ['cost-agent-1', '10.0.1.13', 8080]],
    ['another name', ['cost-agent-2', '10.0.1.12', 8080]],
    ['a name that differs only in case', ['Cost-Agent-1', '10.0.1.12', 8080]],
  ] as Array<[string, [string, string, number]]>)('an agent with %s gets a different id', (_label, args) => {
    expect(agentIdFor(...args)).not.toBe(agentIdFor('cost-agent-1', '10.0.1.12', 8080));
  });

  it('fields are separated, so shifting text between name and host changes the id', () => {
    expect(agentIdFor('ab', 'c', 1)).not.toBe(agentIdFor('a', 'bc', 1));
  });

  it('the host is compared without regard to case', () => {
    expect(agentIdFor('a', 'Agent.Internal', 80)).toBe(agentIdFor('a', 'agent.internal', 80));
  });

  it.each([
    ['cost-agent-1', '10.0.1.12', 8080],
    ['x', 'fd00::1', 1],
    ['security.scanner:v2', 'scanner.internal', 65535],
  ])('the id of %s at %s:%i has the UUID v5 layout', (name, host, port) => {
    const id = agentIdFor(name, host, port);
    expect(id).toMatch(UUID_V5);
    expect(isUuid(id)).toBe(true);
  });

  it('the id stays stable across releases (a golden value)', () => {
    // Changing the derivation would give every registered agent a new id on its next registration.
    expect(agentIdFor('cost-agent-1', '10.0.1.12', 8080)).toBe('860aa880-1f33-53b2-9f40-b995d7dd57dc');
  });

  it('the id is the first 16 bytes of SHA-1 over namespace, name, host and port with version and variant bits set', () => {
    const hex = createHash('sha1').update('optiinfra-agent\u0000n\u0000h.example\u00001234').digest('hex').slice(0, 32);
    const id = agentIdFor('n', 'h.example', 1234).replaceAll('-', '');
    expect(id.slice(0, 12)).toBe(hex.slice(0, 12));
    expect(id[12]).toBe('5');
    expect(id.slice(13, 16)).toBe(hex.slice(13, 16));
    expect(Number.parseInt(id.slice(16, 18), 16)).toBe((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80);
    expect(id.slice(18)).toBe(hex.slice(18));
  });
});

describe('agent tokens and the signing secret derived from them', () => {
  it('a token is "oat_" and 32 random bytes, base64url, different every time', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => newAgentToken()));
    expect(tokens.size).toBe(50);
    for (const t of tokens) {
      expect(t).toMatch(/^oat_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t.slice(4), 'base64url')).toHaveLength(32);
    }
  });

  it('only a sha256 hash is stored, and only the token matches it', () => {
    const token = newAgentToken();
    const hash = agentTokenHash(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token.slice(4));
    expect(matchesTokenHash(token, hash)).toBe(true);
    expect(matchesTokenHash(newAgentToken(), hash)).toBe(false);
    expect(matchesTokenHash(`${token}x`, hash)).toBe(false);
    expect(matchesTokenHash(token, 'not-hex')).toBe(false);
  });

  it('the signing secret is a Standard Webhooks secret, fixed per token, and tells nothing of the token', () => {
    const token = newAgentToken();
    const secret = signingSecretFor(token);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(signingSecretFor(token)).toBe(secret);
    expect(signingSecretFor(newAgentToken())).not.toBe(secret);
    expect(agentTokenHash(token)).not.toBe(Buffer.from(secret.slice(6), 'base64').toString('hex'));
  });
});

describe('newTaskId', () => {
  it('is a random UUID v4, different every time', () => {
    const ids = Array.from({ length: 20 }, () => newTaskId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(20);
  });
});

describe('canonicalHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0x7F000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['10.1', '10.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['LocalHost.', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['[::FFFF:127.0.0.1]', '127.0.0.1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['[2001:DB8:0:0:0:0:0:1]', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['Agent.Internal.', 'agent.internal'],
    ['cost-agent-1', 'cost-agent-1'],
  ])('%s is %s', (host, canonical) => {
    expect(canonicalHost(host)).toBe(canonical);
  });

  it('derives one id for every spelling of one endpoint (an attacker held seven)', () => {
    const spellings = ['127.0.0.1', '2130706433', '0177.0.0.1', '0x7f.0.0.1', '127.1', 'localhost', '::ffff:7f00:1'];
    expect(new Set(spellings.map((h) => agentIdFor('a', h, 80))).size).toBe(1);
  });
});
