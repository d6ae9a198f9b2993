import { describe, expect, it } from 'vitest';
import type { CircuitState } from '../../functions/core/circuit-breaker';
import type { AgentStatus } from '@optiinfra/contract';
import {
  describeDecision,
  describeTarget,
  MAX_LOAD_SEEN,
  offers,
  pickLeastLoaded,
  planRouting,
  preferable,
  type RoutingCandidate,
  type RoutingPlan,
  type RoutingRequest,
} from '../../functions/core/routing';
import { agentRecord } from '../../harness/fixtures';

const REQ: RoutingRequest = { agentType: 'cost', capability: 'analyze_cost' };
/** Keeps the order: shuffle with random() = 0.999… swaps each item with itself. */
const KEEP = () => 0.999999;

function candidate(
  id: string,
  opts: { status?: AgentStatus; inFlight?: number; max?: number; type?: string; capabilities?: string[]; circuit?: CircuitState } = {},
): RoutingCandidate {
  return {
    agent: agentRecord({
      agent_id: id,
      name: `name-${id}`,
      type: opts.type ?? 'cost',
      capabilities: opts.capabilities ?? ['analyze_cost'],
      max_concurrency: opts.max ?? 10,
    }),
    status: opts.status ?? 'healthy',
    inFlight: opts.inFlight ?? 0,
    circuit: opts.circuit ?? 'closed',
  };
}

function tryPlan(candidates: RoutingCandidate[], req: RoutingRequest = REQ, random = KEEP): Extract<RoutingPlan, { kind: 'try' }> {
  const plan = planRouting(candidates, req, random);
  expect(plan.kind).toBe('try');
  return plan as Extract<RoutingPlan, { kind: 'try' }>;
}

/** The agent the cache would pick, with each candidate's own load. */
function chosen(candidates: RoutingCandidate[], req: RoutingRequest = REQ): string | undefined {
  const plan = planRouting(candidates, req, KEEP);
  if (plan.kind !== 'try') return undefined;
  const loads = new Map(candidates.map((c) => [c.agent.agent_id, c.inFlight]));
  return pickLeastLoaded(plan.eligible, (id) => loads.get(id) ?? 0).pick?.agentId;
}

describe('planRouting: who may take the task', () => {
  it.each([
    ['an unhealthy agent is left out even when idle', [candidate('a', { status: 'unhealthy' }), candidate('b', { inFlight: 5 })], ['b']],
    ['a draining agent is left out', [candidate('a', { status: 'draining' }), candidate('b')], ['b']],
    ['an agent with an open circuit is left out', [candidate('a', { circuit: 'open' }), candidate('b')], ['b']],
    ['a half-open agent stays in', [candidate('a', { circuit: 'half_open' }), candidate('b')], ['a', 'b']],
    ['an agent of another type is ignored', [candidate('a', { type: 'security' }), candidate('b')], ['b']],
    ['an agent without the capability is ignored', [candidate('a', { capabilities: ['scan'] }), candidate('b')], ['b']],
    ['a full agent stays in (the cache decides on fresh counts)', [candidate('a', { inFlight: 10 }), candidate('b')], ['a', 'b']],
  ] as Array<[string, RoutingCandidate[], string[]]>)('%s', (_label, candidates, expected) => {
    expect(
      tryPlan(candidates)
        .eligible.map((e) => e.agentId)
        .sort(),
    ).toEqual(expected);
  });

  it('a half-open agent may hold one task (its probe); others their max_concurrency', () => {
    const plan = tryPlan([candidate('a', { circuit: 'half_open', max: 8 }), candidate('b', { max: 4 })]);
    expect(plan.eligible.map((e) => [e.agentId, e.capacity, e.tier])).toEqual([
      ['a', 1, 0],
      ['b', 4, 0],
    ]);
    expect(plan.notes).toContain('1 agent on probation after an open circuit (one task at a time)');
  });

  it('notes what was left out and why', () => {
    const plan = tryPlan(
      [
        candidate('a', { status: 'unhealthy' }),
        candidate('b', { status: 'draining' }),
        candidate('c', { circuit: 'open' }),
        candidate('d'),
        candidate('e'),
      ],
      { ...REQ, avoid: ['e'] },
    );
    expect(plan.notes).toEqual([
      '1 unhealthy agent skipped',
      '1 draining agent skipped',
      '1 agent with an open circuit skipped',
      '1 agent that failed this task before left out',
    ]);
    expect(plan.candidates).toHaveLength(5);
  });

  it('shuffles the eligible agents with the injected random source, so ties spread', () => {
    const pool = [candidate('a'), candidate('b'), candidate('c')];
    const orders = new Set(
      [0, 0.2, 0.4, 0.6, 0.8, 0.99].map((r) =>
        tryPlan(pool, REQ, () => r)
          .eligible.map((e) => e.agentId)
          .join(''),
      ),
    );
    expect(orders.size).toBeGreaterThan(1);
    for (const order of orders) expect([...order].sort().join('')).toBe('abc');
  });
});

describe('planRouting: agents that failed the task', () => {
  it.each([
    ['an avoided idle agent loses to a busier fresh one', [candidate('a', { inFlight: 0 }), candidate('b', { inFlight: 8 })], ['a'], 'b'],
    [
      'the avoided agent is left out even when the fresh one is full: the task waits for it',
      [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 10 })],
      ['a'],
      undefined,
    ],
    ['the avoided agent is used when it is the only one', [candidate('a', { inFlight: 3 })], ['a'], 'a'],
    [
      'the avoided agent is used when the fresh one is unhealthy',
      [candidate('a', { inFlight: 3 }), candidate('b', { status: 'unhealthy' })],
      ['a'],
      'a',
    ],
    [
      'the avoided agent is used when the fresh one has an open circuit',
      [candidate('a', { inFlight: 3 }), candidate('b', { circuit: 'open' })],
      ['a'],
      'a',
    ],
    [
      'when all failed it, the one that failed longest ago comes first, even if busier',
      [candidate('a', { inFlight: 1 }), candidate('b', { inFlight: 5 })],
      ['b', 'a'],
      'b',
    ],
    [
      'when all failed it and the oldest is full, the next one is used',
      [candidate('a', { inFlight: 1 }), candidate('b', { inFlight: 10 })],
      ['b', 'a'],
      'a',
    ],
    ['a repeat failure counts from its latest place', [candidate('a'), candidate('b')], ['a', 'b', 'a'], 'b'],
    ['avoiding an unknown agent changes nothing', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 })], ['zzz'], 'b'],
    ['an empty avoid list changes nothing', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 })], [], 'b'],
  ] as Array<[string, RoutingCandidate[], string[], string | undefined]>)('%s', (_label, candidates, avoid, expected) => {
    expect(chosen(candidates, { ...REQ, avoid })).toBe(expected);
  });

  it('gives tiers by failure recency when only failed agents remain', () => {
    const plan = tryPlan([candidate('a'), candidate('b'), candidate('c')], { ...REQ, avoid: ['c', 'a', 'b'] });
    expect(Object.fromEntries(plan.eligible.map((e) => [e.agentId, e.tier]))).toEqual({ c: 1, a: 2, b: 3 });
    expect(plan.notes).toContain('every usable agent failed this task before; the one that failed longest ago is preferred');
  });
});

describe('planRouting: wait or none', () => {
  it.each([
    [
      'the only offering agent is unhealthy',
      [candidate('a', { status: 'unhealthy' })],
      ['no agent of type "cost" with capability "analyze_cost" can take tasks now', '1 unhealthy agent skipped'],
    ],
    ['the only offering agent is draining', [candidate('a', { status: 'draining' })], ['1 draining agent skipped']],
    [
      'every offering agent has an open circuit',
      [candidate('a', { circuit: 'open' }), candidate('b', { circuit: 'open' })],
      ['(2 registered: 2 agents with an open circuit skipped)'],
    ],
    [
      'agents are unhealthy or draining',
      [candidate('a', { status: 'unhealthy' }), candidate('b', { status: 'draining' }), candidate('c', { status: 'unhealthy' })],
      ['2 unhealthy agents skipped, 1 draining agent skipped'],
    ],
  ] as Array<[string, RoutingCandidate[], string[]]>)('waits when %s', (_label, candidates, fragments) => {
    const plan = planRouting(candidates, REQ, KEEP);
    expect(plan.kind).toBe('wait');
    for (const fragment of fragments) expect(plan.kind === 'wait' && plan.reason).toContain(fragment);
  });

  it.each([
    ['there are no agents at all', []],
    ['agents exist only for other types', [candidate('a', { type: 'security' })]],
    ['agents of the type lack the capability', [candidate('a', { capabilities: ['scan', 'report'] })]],
    ['the capability exists only on an agent of another type', [candidate('a', { type: 'security', capabilities: ['analyze_cost'] })]],
  ] as Array<[string, RoutingCandidate[]]>)('answers none when %s', (_label, candidates) => {
    expect(planRouting(candidates, REQ, KEEP)).toEqual({
      kind: 'none',
      reason: 'no registered agent of type "cost" with capability "analyze_cost"',
    });
  });
});

describe('planRouting with a requested agent_id', () => {
  const pool = [candidate('a', { inFlight: 0 }), candidate('b', { inFlight: 5 })];

  it('offers only the requested agent even when another is less loaded', () => {
    expect(tryPlan(pool, { ...REQ, agentId: 'b' }).eligible.map((e) => e.agentId)).toEqual(['b']);
    expect(chosen(pool, { ...REQ, agentId: 'b' })).toBe('b');
  });

  it('answers none, naming the agent, when it is not registered', () => {
    expect(planRouting(pool, { ...REQ, agentId: 'zzz' }, KEEP)).toEqual({
      kind: 'none',
      reason: 'no registered agent zzz (type "cost", capability "analyze_cost")',
    });
  });

  it.each([
    ['unhealthy', candidate('b', { status: 'unhealthy' })],
    ['draining', candidate('b', { status: 'draining' })],
    ['open', candidate('b', { circuit: 'open' })],
  ])('waits for the requested agent when it is %s instead of using another', (_label, requested) => {
    const plan = planRouting([candidate('a'), requested], { ...REQ, agentId: 'b' }, KEEP);
    expect(plan.kind).toBe('wait');
    expect(plan.kind === 'wait' && plan.reason).toContain('agent b (type "cost", capability "analyze_cost")');
  });
});

describe('pickLeastLoaded (the rule the cache script applies)', () => {
  const slot = (agentId: string, capacity: number, tier = 0) => ({ agentId, capacity, tier });
  it.each([
    ['fewest in flight of equal agents', [slot('a', 10), slot('b', 10), slot('c', 10)], { a: 3, b: 1, c: 2 }, 'b'],
    ['the lower ratio wins: 1 of 10 beats 1 of 2', [slot('a', 2), slot('b', 10)], { a: 1, b: 1 }, 'b'],
    ['the lower ratio wins: 3 of 10 beats 1 of 2', [slot('a', 2), slot('b', 10)], { a: 1, b: 3 }, 'b'],
    ['the lower ratio wins: 1 of 4 beats 2 of 4', [slot('a', 4), slot('b', 4)], { a: 2, b: 1 }, 'b'],
    ['equal ratio: more spare slots wins', [slot('a', 2), slot('b', 10)], { a: 0, b: 0 }, 'b'],
    ['equal ratio and spare: the first listed wins', [slot('a', 4), slot('b', 4)], { a: 1, b: 1 }, 'a'],
    ['a full agent is skipped', [slot('a', 2), slot('b', 10)], { a: 2, b: 9 }, 'b'],
    ['an over-full agent is skipped', [slot('a', 2), slot('b', 10)], { a: 4, b: 9 }, 'b'],
    ['a lower tier wins over a lower load', [slot('a', 10, 1), slot('b', 10, 0)], { a: 0, b: 9 }, 'b'],
    ['a higher tier is used when the lower is full', [slot('a', 10, 1), slot('b', 10, 0)], { a: 0, b: 10 }, 'a'],
    ['everyone full: none', [slot('a', 1), slot('b', 2)], { a: 1, b: 2 }, undefined],
  ] as Array<[string, Array<ReturnType<typeof slot>>, Record<string, number>, string | undefined]>)(
    '%s',
    (_label, eligible, loads, expected) => {
      expect(pickLeastLoaded(eligible, (id) => loads[id] ?? 0).pick?.agentId).toBe(expected);
    },
  );

  it('counts the free slots of every agent that is not full', () => {
    const { freeSlots } = pickLeastLoaded(
      [slot('a', 5), slot('b', 4), slot('c', 10), slot('d', 1)],
      (id) => ({ a: 3, b: 0, c: 10, d: 2 })[id] ?? 0,
    );
    expect(freeSlots).toBe(6);
  });

  it('preferable compares tier, then ratio by cross-multiplying, then spare slots', () => {
    expect(preferable({ tier: 0, capacity: 3, load: 1 }, { tier: 0, capacity: 6, load: 2 })).toBe(false);
    expect(preferable({ tier: 0, capacity: 6, load: 2 }, { tier: 0, capacity: 3, load: 1 })).toBe(true);
    expect(preferable({ tier: 0, capacity: 3, load: 1 }, { tier: 0, capacity: 3, load: 1 })).toBe(false);
  });
});

describe('describeDecision', () => {
  it('states the rule, the counts and the loads seen, chosen agent first', () => {
    const candidates = [candidate('a', { inFlight: 4 }), candidate('b', { inFlight: 1 }), candidate('c', { status: 'unhealthy' })];
    const plan = tryPlan(candidates);
    const decision = describeDecision(
      plan,
      'b',
      new Map([
        ['a', 5],
        ['b', 1],
      ]),
      2,
      Date.parse('2026-01-01T00:00:00Z'),
      false,
    );
    expect(decision).toEqual({
      attempt: 2,
      agent_id: 'b',
      agent_name: 'name-b',
      decided_at: '2026-01-01T00:00:00.000Z',
      reason: 'least loaded of 2 eligible agents (1 of 10 slots in use before this task); 1 unhealthy agent skipped',
      candidates: 3,
      eligible: 2,
      load_seen: [
        { agent_id: 'b', name: 'name-b', in_flight: 1, max_concurrency: 10, status: 'healthy', circuit: 'closed' },
        { agent_id: 'c', name: 'name-c', in_flight: 0, max_concurrency: 10, status: 'unhealthy', circuit: 'closed' },
        { agent_id: 'a', name: 'name-a', in_flight: 5, max_concurrency: 10, status: 'healthy', circuit: 'closed' },
      ],
    });
  });

  it('names the requested agent as the rule', () => {
    const plan = tryPlan([candidate('a')], { ...REQ, agentId: 'a' });
    expect(describeDecision(plan, 'a', new Map([['a', 0]]), 1, 0, true).reason).toBe('the task names agent a');
  });

  it(`keeps at most ${MAX_LOAD_SEEN} agents however many were candidates`, () => {
    const many = Array.from({ length: 10_000 }, (_, i) => candidate(`agent-${i}`, { inFlight: i % 7 }));
    const plan = tryPlan(many);
    const decision = describeDecision(plan, 'agent-9999', new Map(), 1, 0, false);
    expect(decision.load_seen).toHaveLength(MAX_LOAD_SEEN);
    expect(decision.load_seen[0]!.agent_id).toBe('agent-9999');
    expect(decision.load_seen.slice(1).every((l) => l.in_flight === 0)).toBe(true);
    expect(decision).toMatchObject({ candidates: 10_000, eligible: 10_000 });
  });
});

describe('offers and describeTarget', () => {
  it.each([
    [{ agentType: 'cost', capability: 'analyze_cost' }, true],
    [{ agentType: 'cost', capability: 'scan' }, false],
    [{ agentType: 'Cost', capability: 'analyze_cost' }, false],
    [{ agentType: 'cost', capability: 'analyze_cost', agentId: 'a' }, true],
    [{ agentType: 'cost', capability: 'analyze_cost', agentId: 'b' }, false],
  ])('agent a (type cost, analyze_cost) offers %j: %s', (req, expected) => {
    expect(offers(agentRecord({ agent_id: 'a' }), req)).toBe(expected);
  });

  it('describes a targeted and an untargeted request', () => {
    expect(describeTarget(REQ)).toBe('agent of type "cost" with capability "analyze_cost"');
    expect(describeTarget({ ...REQ, agentId: 'a' })).toBe('agent a (type "cost", capability "analyze_cost")');
  });
});
