import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../functions/core/contract';
import { describeTarget, offers, type RoutingCandidate, type RoutingRequest, selectAgent } from '../../functions/core/routing';
import { agentRecord } from './fixtures';

const REQ: RoutingRequest = { agentType: 'cost', capability: 'analyze_cost' };

function candidate(id: string, opts: { status?: AgentStatus; inFlight?: number; max?: number; type?: string; capabilities?: string[] } = {}): RoutingCandidate {
  return {
    agent: agentRecord({ agent_id: id, name: id, type: opts.type ?? 'cost', capabilities: opts.capabilities ?? ['analyze_cost'], max_concurrency: opts.max ?? 10 }),
    status: opts.status ?? 'healthy',
    inFlight: opts.inFlight ?? 0,
  };
}

/** Random sources at both ends of [0, 1): when there is no tie the choice must not depend on them. */
const LOW = () => 0;
const HIGH = () => 0.999;

/** Selects with both extreme random sources (or the given one) and returns the chosen id, checking both agree. */
function selectedId(candidates: RoutingCandidate[], req: RoutingRequest = REQ, random?: () => number): string | undefined {
  const pick = (r: () => number) => {
    const sel = selectAgent(candidates, req, r);
    return sel.kind === 'selected' ? sel.agent.agent_id : undefined;
  };
  if (random) return pick(random);
  const low = pick(LOW);
  expect(pick(HIGH), 'the choice must not depend on random() without a tie').toBe(low);
  return low;
}

describe('selectAgent picks the least-loaded healthy agent', () => {
  it.each([
    ['the agent with fewest tasks in flight wins', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 }), candidate('c', { inFlight: 2 })], 'b'],
    ['an idle agent beats a busy one', [candidate('a', { inFlight: 9 }), candidate('b', { inFlight: 0 })], 'b'],
    ['an unhealthy agent is skipped even when idle', [candidate('a', { status: 'unhealthy' }), candidate('b', { inFlight: 5 })], 'b'],
    ['a draining agent is skipped even when idle', [candidate('a', { status: 'draining' }), candidate('b', { inFlight: 5 })], 'b'],
    ['a full agent is skipped even when otherwise least loaded', [candidate('a', { inFlight: 2, max: 2 }), candidate('b', { inFlight: 5, max: 10 })], 'b'],
    ['an over-full agent is skipped', [candidate('a', { inFlight: 4, max: 2 }), candidate('b', { inFlight: 3 })], 'b'],
    ['an agent of another type is ignored', [candidate('a', { type: 'security' }), candidate('b', { inFlight: 4 })], 'b'],
    ['an agent without the capability is ignored', [candidate('a', { capabilities: ['scan'] }), candidate('b', { inFlight: 4 })], 'b'],
    ['with equal load, the agent with more spare capacity wins', [candidate('a', { inFlight: 1, max: 2 }), candidate('b', { inFlight: 1, max: 8 })], 'b'],
  ] as Array<[string, RoutingCandidate[], string]>)('%s', (_label, candidates, expected) => {
    expect(selectedId(candidates)).toBe(expected);
  });

  it('freeSlots is the sum of spare slots over every agent that can take the task now', () => {
    const sel = selectAgent(
      [
        candidate('a', { inFlight: 3, max: 5 }), // 2 free
        candidate('b', { inFlight: 0, max: 4 }), // 4 free
        candidate('c', { inFlight: 10, max: 10 }), // full: not counted
        candidate('d', { status: 'unhealthy', max: 50 }), // not counted
        candidate('e', { status: 'draining', max: 50 }), // not counted
        candidate('f', { type: 'security', max: 50 }), // other type: not counted
      ],
      REQ,
      LOW,
    );
    expect(sel).toMatchObject({ kind: 'selected', freeSlots: 6 });
    expect(sel.kind === 'selected' && sel.agent.agent_id).toBe('b');
  });

  it('freeSlots still counts the avoided agents\' spare slots', () => {
    const sel = selectAgent([candidate('a', { inFlight: 0, max: 3 }), candidate('b', { inFlight: 1, max: 3 })], { ...REQ, avoid: ['a'] }, LOW);
    expect(sel).toMatchObject({ kind: 'selected', freeSlots: 5 });
  });
});

describe('selectAgent breaks exact ties with the injected random source', () => {
  const tied = [candidate('a', { inFlight: 1 }), candidate('b', { inFlight: 1 }), candidate('c', { inFlight: 1 }), candidate('d', { inFlight: 7 })];
  it.each([
    [0, 'a'],
    [0.34, 'b'],
    [0.5, 'b'],
    [0.67, 'c'],
    [0.999, 'c'],
  ])('random() = %f picks %s among three equally loaded agents', (r, expected) => {
    expect(selectedId(tied, REQ, () => r)).toBe(expected);
  });

  it('a random source returning 1 (out of contract) still picks a tied agent', () => {
    expect(selectedId(tied, REQ, () => 1)).toBe('a');
  });

  it('only the tied least-loaded agents take part in the draw', () => {
    const pool = [candidate('x', { inFlight: 5 }), candidate('y', { inFlight: 0 }), candidate('z', { inFlight: 0 })];
    expect(selectedId(pool, REQ, () => 0)).toBe('y');
    expect(selectedId(pool, REQ, () => 0.9)).toBe('z');
  });

  it('agents tied on load but not on spare capacity are not drawn at random', () => {
    const pool = [candidate('a', { inFlight: 1, max: 4 }), candidate('b', { inFlight: 1, max: 6 }), candidate('c', { inFlight: 1, max: 6 })];
    expect(selectedId(pool, REQ, () => 0)).toBe('b');
    expect(selectedId(pool, REQ, () => 0.9)).toBe('c');
  });
});

describe('selectAgent waits when an agent offers the work but none can take it now', () => {
  it.each([
    ['every offering agent is full', [candidate('a', { inFlight: 2, max: 2 }), candidate('b', { inFlight: 1, max: 1 })], ['every healthy agent of type "cost" with capability "analyze_cost" is at its max_concurrency']],
    ['the only offering agent is unhealthy', [candidate('a', { status: 'unhealthy' })], ['no healthy agent of type "cost" with capability "analyze_cost"', 'registered ones are unhealthy']],
    ['the only offering agent is draining', [candidate('a', { status: 'draining' })], ['no healthy agent', 'registered ones are draining']],
    ['offering agents are unhealthy or draining', [candidate('a', { status: 'unhealthy' }), candidate('b', { status: 'draining' }), candidate('c', { status: 'unhealthy' })], ['registered ones are unhealthy or draining']],
    ['one agent is full and the other unhealthy', [candidate('a', { inFlight: 10 }), candidate('b', { status: 'unhealthy' })], ['is at its max_concurrency']],
  ] as Array<[string, RoutingCandidate[], string[]]>)('%s', (_label, candidates, fragments) => {
    const sel = selectAgent(candidates, REQ, LOW);
    expect(sel.kind).toBe('wait');
    for (const fragment of fragments) expect(sel.kind === 'wait' && sel.reason).toContain(fragment);
  });
});

describe('selectAgent answers none when no registered agent offers the work', () => {
  it.each([
    ['there are no agents at all', []],
    ['agents exist only for other types', [candidate('a', { type: 'security' })]],
    ['agents of the type lack the capability', [candidate('a', { capabilities: ['scan', 'report'] })]],
    ['the capability exists only on an agent of another type', [candidate('a', { type: 'security', capabilities: ['analyze_cost'] })]],
  ] as Array<[string, RoutingCandidate[]]>)('%s', (_label, candidates) => {
    expect(selectAgent(candidates, REQ, LOW)).toEqual({ kind: 'none', reason: 'no registered agent of type "cost" with capability "analyze_cost"' });
  });
});

describe('selectAgent with a requested agent_id', () => {
  const pool = [candidate('a', { inFlight: 0 }), candidate('b', { inFlight: 5 })];

  it('routes only to the requested agent even when another is less loaded', () => {
    expect(selectedId(pool, { ...REQ, agentId: 'b' })).toBe('b');
  });

  it('answers none, naming the agent, when the requested agent is not registered', () => {
    expect(selectAgent(pool, { ...REQ, agentId: 'zzz' }, LOW)).toEqual({
      kind: 'none',
      reason: 'no registered agent zzz (type "cost", capability "analyze_cost")',
    });
  });

  it('answers none when the requested agent lacks the capability', () => {
    expect(selectAgent([candidate('a', { capabilities: ['scan'] })], { ...REQ, agentId: 'a' }, LOW).kind).toBe('none');
  });

  it.each([
    ['full', candidate('b', { inFlight: 10 })],
    ['unhealthy', candidate('b', { status: 'unhealthy' })],
    ['draining', candidate('b', { status: 'draining' })],
  ])('waits for the requested agent when it is %s instead of using another', (_label, requested) => {
    const sel = selectAgent([candidate('a'), requested], { ...REQ, agentId: 'b' }, LOW);
    expect(sel.kind).toBe('wait');
    expect(sel.kind === 'wait' && sel.reason).toContain('agent b (type "cost", capability "analyze_cost")');
  });
});

describe('selectAgent avoids agents that already failed the task only when alternatives exist', () => {
  it.each([
    ['an avoided idle agent loses to a busier fresh one', [candidate('a', { inFlight: 0 }), candidate('b', { inFlight: 8 })], ['a'], 'b'],
    ['the avoided agent is used when it is the only one', [candidate('a', { inFlight: 3 })], ['a'], 'a'],
    ['the avoided agent is used when the fresh one is full', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 10 })], ['a'], 'a'],
    ['the avoided agent is used when the fresh one is unhealthy', [candidate('a', { inFlight: 3 }), candidate('b', { status: 'unhealthy' })], ['a'], 'a'],
    ['when all are avoided the least loaded is used', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 })], ['a', 'b'], 'b'],
    ['avoiding an unknown agent changes nothing', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 })], ['zzz'], 'b'],
    ['an empty avoid list changes nothing', [candidate('a', { inFlight: 3 }), candidate('b', { inFlight: 1 })], [], 'b'],
  ] as Array<[string, RoutingCandidate[], string[], string]>)('%s', (_label, candidates, avoid, expected) => {
    expect(selectedId(candidates, { ...REQ, avoid })).toBe(expected);
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
