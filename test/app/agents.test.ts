/**
 * The /agents use cases (functions/app/agents.ts) on the in-memory registry, cache and a fake clock:
 * register, heartbeat (written to the table at most once per HEARTBEAT_PERSIST_SECONDS), the
 * agent-token checks, drain, unregister, and health judged from missed heartbeats.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { drainAgent, getAgent, heartbeat, listAgents, registerAgent, unregisterAgent } from '../../functions/app/agents';
import { type RegisterAgentRequest, registerAgentRequestSchema } from '@optiinfra/contract';
import { ValidationError } from '@optiinfra/contract';
import { agentIdFor, agentTokenHash, normalHost, signingSecretFor } from '../../functions/core/ids';
import { parseNetworkPolicy } from '../../functions/core/network-policy';
import { type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world();
});

function request(fields: Record<string, unknown> = {}): RegisterAgentRequest {
  return registerAgentRequestSchema.parse({
    name: 'cost-agent-1',
    type: 'cost',
    host: '10.0.1.12',
    port: 8080,
    capabilities: ['analyze_cost'],
    ...fields,
  });
}

const UNKNOWN = '00000000-0000-5000-8000-0000000000ff';
const seconds = (n: number) => n * 1000;

describe('registerAgent', () => {
  it('registers the agent healthy, under an id derived from name, host and port, with a token shown once and only its hash kept', async () => {
    const answer = await registerAgent(w.deps, request({ metadata: { zone: 'a' }, max_concurrency: 4 }));
    const id = agentIdFor('cost-agent-1', '10.0.1.12', 8080);
    expect(answer).toEqual({
      id,
      name: 'cost-agent-1',
      type: 'cost',
      host: '10.0.1.12',
      port: 8080,
      scheme: 'http',
      capabilities: ['analyze_cost'],
      status: 'healthy',
      version: '1.0.0',
      registered_at: w.clock.iso(),
      last_heartbeat: w.clock.iso(),
      in_flight: 0,
      max_concurrency: 4,
      metadata: { zone: 'a' },
      circuit: { state: 'closed', recent_dispatches: 0, recent_failures: 0, window_seconds: w.settings.breaker.windowSeconds },
      heartbeat_interval_seconds: w.settings.heartbeatIntervalSeconds,
      agent_token: expect.stringMatching(/^oat_[A-Za-z0-9_-]{43}$/),
      signing_secret: expect.stringMatching(/^whsec_/),
    });
    expect(answer.signing_secret).toBe(signingSecretFor(answer.agent_token));
    const stored = await w.agents.get(id);
    expect(stored).toMatchObject({
      token_hash: agentTokenHash(answer.agent_token),
      signing_secret: answer.signing_secret,
      status: 'healthy',
    });
    expect(JSON.stringify(stored)).not.toContain(answer.agent_token);
  });

  it('registering again keeps the id and first registration time, issues a new token (the old one is refused), and brings back an unregistered agent', async () => {
    const first = await registerAgent(w.deps, request());
    w.clock.advance(seconds(30));
    await unregisterAgent(w.deps, first.id, first.agent_token);
    w.clock.advance(seconds(30));
    const again = await registerAgent(w.deps, request({ version: '1.1.0' }));
    expect(again).toMatchObject({ id: first.id, registered_at: first.registered_at, status: 'healthy', version: '1.1.0' });
    expect(again.agent_token).not.toBe(first.agent_token);
    expect('expires_at' in (await w.agents.get(first.id))!).toBe(false);
    await expect(heartbeat(w.deps, first.id, {}, first.agent_token)).rejects.toMatchObject({ status: 403, code: 'agent_token_mismatch' });
    await expect(heartbeat(w.deps, first.id, {}, again.agent_token)).resolves.toMatchObject({ status: 'healthy' });
  });

  it('refuses (400 on host) a host that does not resolve, or an address agents may not use, and stores nothing', async () => {
    w.hosts.set('agent.internal', ['10.0.0.9', '169.254.169.254']);
    for (const [host, problem] of [
      ['nowhere.internal', 'does not resolve'],
      ['169.254.169.254', 'linkLocal range'],
      ['192.168.1.5', 'private'],
      ['agent.internal', 'linkLocal range'],
    ] as const) {
      const refusal = registerAgent(w.deps, request({ host }));
      await expect(refusal).rejects.toBeInstanceOf(ValidationError);
      await expect(refusal).rejects.toMatchObject({ status: 400, issues: [{ field: 'host', message: expect.stringContaining(problem) }] });
    }
    expect(await w.agents.list()).toEqual([]);
    w.hosts.set('agent.internal', ['10.0.0.9']);
    await expect(registerAgent(w.deps, request({ host: 'agent.internal' }))).resolves.toMatchObject({ host: 'agent.internal' });
  });
});

describe('the agent token', () => {
  it('with REQUIRE_AGENT_TOKENS, is required (401) before anything is read, even for an unknown agent', async () => {
    w = world({ requireAgentTokens: true });
    const agent = await registerAgent(w.deps, request());
    for (const id of [agent.id, UNKNOWN]) {
      for (const call of [
        () => heartbeat(w.deps, id, {}, undefined),
        () => drainAgent(w.deps, id, undefined),
        () => unregisterAgent(w.deps, id, undefined),
      ])
        await expect(call()).rejects.toMatchObject({ status: 401, code: 'agent_token_required' });
    }
  });

  it('of another agent is a 403, and an unknown agent is a 404, for heartbeat, drain and unregister', async () => {
    const mine = await registerAgent(w.deps, request());
    const other = await registerAgent(w.deps, request({ name: 'cost-agent-2' }));
    const calls = [
      (id: string, token: string) => heartbeat(w.deps, id, {}, token),
      (id: string, token: string) => drainAgent(w.deps, id, token),
      (id: string, token: string) => unregisterAgent(w.deps, id, token),
    ];
    for (const act of calls) {
      await expect(act(mine.id, other.agent_token)).rejects.toMatchObject({ status: 403, code: 'agent_token_mismatch' });
      await expect(act(UNKNOWN, mine.agent_token)).rejects.toMatchObject({ status: 404, code: 'agent_not_found' });
    }
    expect(await w.agents.get(mine.id)).toMatchObject({ status: 'healthy', last_heartbeat: mine.registered_at });
  });
});

describe('heartbeat', () => {
  it('answers healthy at once, and writes the table at most once per HEARTBEAT_PERSIST_SECONDS (always when metadata changes)', async () => {
    const { id, agent_token: token, registered_at } = await registerAgent(w.deps, request());
    const persist = w.settings.heartbeatPersistSeconds;
    const stored = async () => (await w.agents.get(id))!;

    w.clock.advance(seconds(10));
    expect(await heartbeat(w.deps, id, { in_flight: 2 }, token)).toEqual({
      id,
      status: 'healthy',
      last_heartbeat: w.clock.iso(),
      heartbeat_interval_seconds: w.settings.heartbeatIntervalSeconds,
    });
    const firstWrite = w.clock.iso();
    expect(await stored()).toMatchObject({ last_heartbeat: firstWrite, in_flight: 2 });

    w.clock.advance(seconds(persist - 1));
    await heartbeat(w.deps, id, { in_flight: 3 }, token);
    // Not written, but the cache has it: the agent is shown as of this heartbeat.
    expect(await stored()).toMatchObject({ last_heartbeat: firstWrite, in_flight: 2 });
    expect(await getAgent(w.deps, id)).toMatchObject({ last_heartbeat: w.clock.iso(), in_flight: 3, registered_at });

    w.clock.advance(seconds(1));
    await heartbeat(w.deps, id, { in_flight: 1 }, token);
    const secondWrite = w.clock.iso();
    expect(await stored()).toMatchObject({ last_heartbeat: secondWrite, in_flight: 1 });

    w.clock.advance(seconds(5));
    await heartbeat(w.deps, id, { metadata: { load: 'high' } }, token);
    expect(await stored()).toMatchObject({ last_heartbeat: w.clock.iso(), metadata: { load: 'high' }, in_flight: 1 });
  });

  it('an agent that misses three intervals is unhealthy; its next heartbeat makes it healthy again', async () => {
    const { id, agent_token: token } = await registerAgent(w.deps, request());
    const interval = w.settings.heartbeatIntervalSeconds;
    w.clock.advance(seconds(3 * interval));
    expect(await getAgent(w.deps, id)).toMatchObject({ status: 'healthy' });
    w.clock.advance(1);
    expect(await getAgent(w.deps, id)).toMatchObject({ status: 'unhealthy' });
    expect((await listAgents(w.deps, { status: 'unhealthy' })).agents.map((a) => a.id)).toEqual([id]);
    expect(await heartbeat(w.deps, id, {}, token)).toMatchObject({ status: 'healthy' });
    expect(await getAgent(w.deps, id)).toMatchObject({ status: 'healthy', last_heartbeat: w.clock.iso() });
    expect((await listAgents(w.deps, { status: 'unhealthy' })).agents).toEqual([]);
  });

  it('a draining agent stays draining whatever its heartbeats', async () => {
    const { id, agent_token: token } = await registerAgent(w.deps, request());
    await drainAgent(w.deps, id, token);
    expect(await heartbeat(w.deps, id, {}, token)).toMatchObject({ status: 'draining' });
  });
});

describe('drainAgent', () => {
  it('takes the agent out of rotation but keeps it registered; draining again changes nothing', async () => {
    const { id, agent_token: token } = await registerAgent(w.deps, request());
    const drained = await drainAgent(w.deps, id, token);
    expect(drained.message).toContain('is draining');
    expect(drained.agent).toMatchObject({ id, status: 'draining' });
    const stored = await w.agents.get(id);
    expect(stored).toMatchObject({ status: 'draining' });
    expect('expires_at' in stored!).toBe(false);
    expect((await drainAgent(w.deps, id, token)).agent).toMatchObject({ status: 'draining' });
    w.clock.advance(seconds(w.settings.drainSeconds * 10));
    expect(await getAgent(w.deps, id)).toMatchObject({ status: 'draining' });
  });
});

describe('unregisterAgent', () => {
  it('drains the agent for DRAIN_SECONDS, then it is forgotten: 404 to get, heartbeat and unregister, and gone from the list', async () => {
    const { id, agent_token: token } = await registerAgent(w.deps, request());
    const out = await unregisterAgent(w.deps, id, token);
    expect(out.message).toContain('unregistered');
    expect(out.agent).toMatchObject({ id, status: 'draining' });
    expect(await w.agents.get(id)).toMatchObject({
      status: 'draining',
      expires_at: Math.floor(w.clock.now() / 1000) + w.settings.drainSeconds,
    });

    w.clock.advance(seconds(w.settings.drainSeconds) - 1);
    expect(await getAgent(w.deps, id)).toMatchObject({ status: 'draining' });
    expect((await listAgents(w.deps, {})).count).toBe(1);

    w.clock.advance(1);
    await expect(getAgent(w.deps, id)).rejects.toMatchObject({ status: 404, code: 'agent_not_found' });
    expect(await listAgents(w.deps, {})).toEqual({ agents: [], count: 0 });
    await expect(heartbeat(w.deps, id, {}, token)).rejects.toMatchObject({ status: 404 });
    await expect(unregisterAgent(w.deps, id, token)).rejects.toMatchObject({ status: 404 });
    await expect(drainAgent(w.deps, id, token)).rejects.toMatchObject({ status: 404 });
  });
});

describe('listAgents', () => {
  it('lists agents by name, filtered by type and by status', async () => {
    const b = await registerAgent(w.deps, request({ name: 'b-cost' }));
    const a = await registerAgent(w.deps, request({ name: 'a-cost', port: 8081 }));
    const s = await registerAgent(w.deps, request({ name: 'c-sec', type: 'security', capabilities: ['scan'] }));
    await drainAgent(w.deps, b.id, b.agent_token);
    const names = async (query: Parameters<typeof listAgents>[1]) => (await listAgents(w.deps, query)).agents.map((v) => v.name);
    expect(await names({})).toEqual(['a-cost', 'b-cost', 'c-sec']);
    expect(await names({ type: 'cost' })).toEqual(['a-cost', 'b-cost']);
    expect(await names({ status: 'healthy' })).toEqual(['a-cost', 'c-sec']);
    expect(await names({ type: 'cost', status: 'draining' })).toEqual(['b-cost']);
    expect((await listAgents(w.deps, { type: 'security' })).agents[0]).toMatchObject({ id: s.id, capabilities: ['scan'] });
    expect(a.id).not.toBe(b.id);
  });
});

describe('taking over a registered id (found by an attacker holding the fleet token)', () => {
  const interval = () => w.settings.heartbeatIntervalSeconds;

  it('re-registering a LIVE agent without its token is a 409 that says how to proceed, and changes nothing', async () => {
    const real = await registerAgent(w.deps, request({ metadata: { owner: 'real' } }));
    w.clock.advance(seconds(5));
    await heartbeat(w.deps, real.id, {}, real.agent_token);
    const before = await w.agents.get(real.id);
    for (const token of [undefined, 'oat_not-its-token']) {
      const takeover = registerAgent(
        w.deps,
        request({ capabilities: ['steal'], max_concurrency: 1000, metadata: { owner: 'attacker' } }),
        token,
      );
      await expect(takeover).rejects.toMatchObject({ status: 409, code: 'agent_id_in_use' });
      await expect(takeover).rejects.toThrow(/send the agent_token of its latest registration in the X-Agent-Token header/);
      await expect(takeover).rejects.toThrow(`after ${3 * interval()} s without heartbeats`);
    }
    expect(await w.agents.get(real.id)).toStrictEqual(before);
    // The real agent is unharmed: its token still works for heartbeat and unregister.
    await expect(heartbeat(w.deps, real.id, {}, real.agent_token)).resolves.toMatchObject({ status: 'healthy' });
    await expect(unregisterAgent(w.deps, real.id, real.agent_token)).resolves.toMatchObject({ agent: { status: 'draining' } });
  });

  it('with its current token, a live agent registers again (a new token; the old one is refused)', async () => {
    const first = await registerAgent(w.deps, request());
    const again = await registerAgent(w.deps, request({ version: '2.0.0' }), first.agent_token);
    expect(again).toMatchObject({ id: first.id, version: '2.0.0' });
    await expect(heartbeat(w.deps, first.id, {}, first.agent_token)).rejects.toMatchObject({ status: 403 });
    await expect(heartbeat(w.deps, first.id, {}, again.agent_token)).resolves.toMatchObject({ status: 'healthy' });
  });

  it('an agent that lost its token takes its id over once the old registration is no longer live, or at once after unregistering', async () => {
    const old = await registerAgent(w.deps, request());
    w.clock.advance(seconds(3 * interval()));
    await expect(registerAgent(w.deps, request())).rejects.toMatchObject({ code: 'agent_id_in_use' });
    w.clock.advance(1);
    const restarted = await registerAgent(w.deps, request());
    expect(restarted.id).toBe(old.id);
    await expect(heartbeat(w.deps, old.id, {}, old.agent_token)).rejects.toMatchObject({ status: 403 });

    await unregisterAgent(w.deps, restarted.id, restarted.agent_token);
    await expect(registerAgent(w.deps, request())).resolves.toMatchObject({ id: old.id, status: 'healthy' });
  });

  it('a drained agent that still heartbeats is live: registering it again needs its token', async () => {
    const agent = await registerAgent(w.deps, request());
    await drainAgent(w.deps, agent.id, agent.agent_token);
    await expect(registerAgent(w.deps, request())).rejects.toMatchObject({ code: 'agent_id_in_use' });
    await expect(registerAgent(w.deps, request(), agent.agent_token)).resolves.toMatchObject({ status: 'healthy' });
  });

  it('of two registrations racing for one new id, exactly one wins; the other is a 409', async () => {
    const outcomes = await Promise.allSettled([
      registerAgent(w.deps, request()),
      registerAgent(w.deps, request({ capabilities: ['steal'] })),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ status: 409, code: 'agent_id_in_use' });
    const stored = await w.agents.get(agentIdFor('cost-agent-1', '10.0.1.12', 8080));
    expect(stored?.token_hash).toBe(agentTokenHash((won[0] as PromiseFulfilledResult<{ agent_token: string }>).value.agent_token));
  });
});

describe('host spellings (found by an attacker: one endpoint held seven ids)', () => {
  it('every spelling of one address is one agent, stored under the canonical address (or the name, for localhost)', async () => {
    w = world({ networkPolicy: parseNetworkPolicy('127.0.0.0/8,::1/128', false) });
    w.hosts.set('localhost', ['127.0.0.1']);
    const first = await registerAgent(w.deps, request({ host: '127.0.0.1' }));
    let token = first.agent_token;
    for (const host of [
      '2130706433',
      '0177.0.0.1',
      '0x7f.0.0.1',
      '127.1',
      'localhost',
      'LOCALHOST.',
      '::ffff:7f00:1',
      '[::ffff:127.0.0.1]',
    ]) {
      await expect(registerAgent(w.deps, request({ host }))).rejects.toMatchObject({ status: 409, code: 'agent_id_in_use' });
      const again = await registerAgent(w.deps, request({ host }), token);
      // localhost is the loopback address for the id, but stays a name where it is called (an https agent's certificate names it).
      expect(again).toMatchObject({ id: first.id, host: host.toLowerCase().startsWith('localhost') ? 'localhost' : '127.0.0.1' });
      token = again.agent_token;
    }
    const ipv6 = await registerAgent(w.deps, request({ host: '0:0:0:0:0:0:0:1' }));
    expect(ipv6).toMatchObject({ id: agentIdFor('cost-agent-1', '::1', 8080), host: '::1' });
    expect((await listAgents(w.deps, {})).agents.map((a) => a.host).sort()).toEqual(['127.0.0.1', '::1']);
    expect(normalHost('LOCALHOST.')).toBe('localhost');
  });

  it('names are lower-cased without a trailing dot', async () => {
    w.hosts.set('agent.internal', ['10.0.0.9']);
    const agent = await registerAgent(w.deps, request({ host: 'Agent.Internal.' }));
    expect(agent).toMatchObject({ host: 'agent.internal', id: agentIdFor('cost-agent-1', 'agent.internal', 8080) });
  });
});

describe('an agent that speaks only the seed protocol (no tokens)', () => {
  it('stays healthy on tokenless heartbeats, and may unregister without a token, with the default settings', async () => {
    expect(w.settings.requireAgentTokens).toBe(false);
    const seed = await registerAgent(w.deps, request());
    for (let i = 0; i < 5; i++) {
      w.clock.advance(seconds(w.settings.heartbeatIntervalSeconds));
      await expect(heartbeat(w.deps, seed.id, { in_flight: 1 }, undefined)).resolves.toMatchObject({ status: 'healthy' });
    }
    expect(await getAgent(w.deps, seed.id)).toMatchObject({ status: 'healthy', last_heartbeat: w.clock.iso() });
    await expect(unregisterAgent(w.deps, seed.id, undefined)).resolves.toMatchObject({ agent: { status: 'draining' } });
    // Unregistered cleanly, it registers again at once (still without a token).
    await expect(registerAgent(w.deps, request())).resolves.toMatchObject({ id: seed.id, status: 'healthy' });
  });

  it('a token that is sent must be the right one (403); an unknown agent is a 404', async () => {
    const seed = await registerAgent(w.deps, request());
    await expect(heartbeat(w.deps, seed.id, {}, 'oat_wrong')).rejects.toMatchObject({ status: 403, code: 'agent_token_mismatch' });
    await expect(heartbeat(w.deps, UNKNOWN, {}, undefined)).rejects.toMatchObject({ status: 404, code: 'agent_not_found' });
  });

  it('once an agent has shown its token, tokenless heartbeat, drain and unregister are refused (401)', async () => {
    const sdk = await registerAgent(w.deps, request());
    await heartbeat(w.deps, sdk.id, {}, sdk.agent_token);
    expect(await w.agents.get(sdk.id)).toMatchObject({ token_proven: true });
    for (const call of [
      () => heartbeat(w.deps, sdk.id, {}, undefined),
      () => drainAgent(w.deps, sdk.id, undefined),
      () => unregisterAgent(w.deps, sdk.id, undefined),
    ])
      await expect(call()).rejects.toMatchObject({ status: 401, code: 'agent_token_required' });
    expect(await getAgent(w.deps, sdk.id)).toMatchObject({ status: 'healthy' });
  });

  it('a seed agent that crashed and restarts while its registration is live gets a 409 until it is not', async () => {
    await registerAgent(w.deps, request());
    w.clock.advance(seconds(10));
    await expect(registerAgent(w.deps, request())).rejects.toMatchObject({ status: 409, code: 'agent_id_in_use' });
    w.clock.advance(seconds(3 * w.settings.heartbeatIntervalSeconds - 10) + 1);
    await expect(registerAgent(w.deps, request())).resolves.toMatchObject({ status: 'healthy' });
  });
});

describe('registry limits (found by an attacker: 1 000 agents of 100 capabilities in 2.7 s)', () => {
  it('refuses more capabilities than MAX_AGENT_CAPABILITIES and metadata over MAX_AGENT_METADATA_BYTES (400 naming the field)', async () => {
    w = world({ agentLimits: { maxPerType: 1000, maxCapabilities: 3, maxMetadataBytes: 300 } });
    await expect(registerAgent(w.deps, request({ capabilities: ['a', 'b', 'c', 'd'] }))).rejects.toMatchObject({
      status: 400,
      issues: [{ field: 'capabilities', message: 'must list at most 3 task types (got 4)' }],
    });
    const big = { blob: 'x'.repeat(300) };
    await expect(registerAgent(w.deps, request({ metadata: big }))).rejects.toMatchObject({
      status: 400,
      issues: [{ field: 'metadata', message: expect.stringContaining('at most 300 bytes') }],
    });
    expect(await w.agents.list()).toEqual([]);
    const agent = await registerAgent(w.deps, request({ capabilities: ['a', 'b', 'c'] }));
    await expect(heartbeat(w.deps, agent.id, { metadata: big }, agent.agent_token)).rejects.toMatchObject({
      status: 400,
      issues: [{ field: 'metadata' }],
    });
  });

  it('refuses a new agent of a type with MAX_AGENTS_PER_TYPE live agents (409); unhealthy ones do not count', async () => {
    w = world({ agentLimits: { maxPerType: 2, maxCapabilities: 50, maxMetadataBytes: 4096 } });
    const a = await registerAgent(w.deps, request({ name: 'a' }));
    await registerAgent(w.deps, request({ name: 'b' }));
    const third = registerAgent(w.deps, request({ name: 'c' }));
    await expect(third).rejects.toMatchObject({ status: 409, code: 'too_many_agents' });
    await expect(third).rejects.toThrow(/MAX_AGENTS_PER_TYPE=2/);
    await expect(registerAgent(w.deps, request({ name: 'c', type: 'other' }))).resolves.toMatchObject({ type: 'other' });
    // Registering an agent again takes no new room.
    await expect(registerAgent(w.deps, request({ name: 'a' }), a.agent_token)).resolves.toMatchObject({ id: a.id });
    w.clock.advance(seconds(3 * w.settings.heartbeatIntervalSeconds) + 1);
    await expect(registerAgent(w.deps, request({ name: 'c' }))).resolves.toMatchObject({ name: 'c', status: 'healthy' });
  });

  it('GET /agents is paged by limit and next_token, by name then id; a foreign next_token is a 400', async () => {
    for (const n of ['e', 'c', 'a', 'd', 'b']) await registerAgent(w.deps, request({ name: `agent-${n}` }));
    const first = await listAgents(w.deps, { limit: 2 });
    expect(first.agents.map((a) => a.name)).toEqual(['agent-a', 'agent-b']);
    expect(first).toMatchObject({ count: 2, next_token: expect.any(String) });
    const second = await listAgents(w.deps, { limit: 2, next_token: first.next_token });
    expect(second.agents.map((a) => a.name)).toEqual(['agent-c', 'agent-d']);
    const last = await listAgents(w.deps, { limit: 2, next_token: second.next_token });
    expect(last).toEqual({ agents: [expect.objectContaining({ name: 'agent-e' })], count: 1 });
    expect((await listAgents(w.deps, {})).count).toBe(5);
    await expect(listAgents(w.deps, { next_token: 'bm90LWEtdG9rZW4' })).rejects.toMatchObject({
      status: 400,
      issues: [{ field: 'next_token' }],
    });
  });
});
