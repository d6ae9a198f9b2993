/**
 * The AgentStore contract (functions/core/ports.ts), one suite for every implementation: run on
 * MemoryAgentStore by memory-stores.test.ts and on DynamoAgentStore over dynalite by
 * dynamo-stores.test.ts. DynamoAgentStore is the reference. Each test gets an empty store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../functions/core/agent-model';
import type { AgentStore } from '../../functions/core/ports';
import { agentRecord } from '../../harness/fixtures';

export interface AgentStoreSubject {
  name: string;
  /** An empty store. */
  make(): Promise<AgentStore>;
}

const T0 = '2026-06-15T12:00:00.000Z';
const T1 = '2026-06-15T12:05:00.000Z';
const T2 = '2026-06-15T12:10:00.000Z';

/** What register takes: a record without registered_at. */
function registration(overrides: Partial<AgentRecord> = {}): Omit<AgentRecord, 'registered_at'> {
  const { registered_at: _registered, ...rest } = agentRecord(overrides);
  return rest;
}

export function describeAgentStoreContract(subject: AgentStoreSubject): void {
  describe(`AgentStore contract: ${subject.name}`, () => {
    let store: AgentStore;

    beforeEach(async () => {
      store = await subject.make();
    });

    describe('register and get', () => {
      it('creates the agent, registered now, and answers it as stored', async () => {
        const input = registration({ agent_id: 'a-1', metadata: { zone: 'eu-west-1a', gpu: { count: 2 } } });
        const agent = await store.register(input, T0, null);
        expect(agent).toStrictEqual({ ...input, registered_at: T0 });
        expect(await store.get('a-1')).toStrictEqual(agent);
        expect(await store.get('unknown')).toBeUndefined();
      });

      it('registering again keeps the first registered_at, replaces everything else, and clears expires_at', async () => {
        await store.register(
          registration({ agent_id: 'a-1', name: 'old', token_hash: '1'.repeat(64), metadata: { gone: true }, in_flight: 4 }),
          T0,
          null,
        );
        await store.markDraining('a-1', 1_900_000_000);
        const again = registration({
          agent_id: 'a-1',
          name: 'new',
          token_hash: '2'.repeat(64),
          signing_secret: 'whsec_new',
          metadata: { fresh: 1 },
          capabilities: ['other'],
          last_heartbeat: T1,
        });
        const agent = await store.register(again, T1, '1'.repeat(64));
        expect(agent).toStrictEqual({ ...again, registered_at: T0 });
        expect(await store.get('a-1')).toStrictEqual(agent);
      });

      it('is conditional on the token hash read before: of two registrations decided on one read, only the first is written', async () => {
        const first = registration({ agent_id: 'a-1', name: 'first', token_hash: '1'.repeat(64) });
        expect(await store.register(first, T0, null)).toMatchObject({ name: 'first' });
        // Another registration that also read "no agent yet" lost the race.
        expect(await store.register(registration({ agent_id: 'a-1', name: 'late', token_hash: '9'.repeat(64) }), T0, null)).toBeUndefined();
        const a = registration({ agent_id: 'a-1', name: 'a', token_hash: '2'.repeat(64) });
        const b = registration({ agent_id: 'a-1', name: 'b', token_hash: '3'.repeat(64) });
        const [wa, wb] = await Promise.all([store.register(a, T1, '1'.repeat(64)), store.register(b, T1, '1'.repeat(64))]);
        expect([wa, wb].filter(Boolean)).toHaveLength(1);
        const stored = (await store.get('a-1'))!;
        expect(stored).toStrictEqual(wa ?? wb);
        expect(['2'.repeat(64), '3'.repeat(64)]).toContain(stored.token_hash);
        expect(await store.register(registration({ agent_id: 'ghost' }), T0, '1'.repeat(64))).toBeUndefined();
        expect(await store.get('ghost')).toBeUndefined();
      });

      it('throws on a registration DynamoDB cannot express (registered_at or expires_at given, a field undefined), storing nothing', async () => {
        const bad = [
          { ...registration({ agent_id: 'a-1' }), registered_at: T0 },
          { ...registration({ agent_id: 'a-1' }), expires_at: 1_900_000_000 },
          { ...registration({ agent_id: 'a-1' }), version: undefined as unknown as string },
        ];
        for (const agent of bad) await expect(store.register(agent, T0, null)).rejects.toMatchObject({ name: 'ValidationException' });
        expect(await store.get('a-1')).toBeUndefined();
      });

      it('hands out copies: changing a record given or read changes nothing stored', async () => {
        const input = registration({ agent_id: 'a-1', capabilities: ['x'], metadata: { deep: { n: 1 } } });
        const returned = (await store.register(input, T0, null))!;
        input.capabilities.push('y');
        (input.metadata.deep as { n: number }).n = 2;
        returned.name = 'changed';
        const read = (await store.get('a-1'))!;
        read.capabilities.push('z');
        read.status = 'draining';
        const listed = (await store.list('cost'))[0]!;
        listed.metadata.added = true;
        const sentMetadata = { deep: { n: 1 } };
        const beat = (await store.heartbeat('a-1', T1, { inFlight: 1, metadata: sentMetadata }))!;
        sentMetadata.deep.n = 3;
        beat.capabilities.length = 0;
        expect(await store.get('a-1')).toMatchObject({
          name: 'cost-agent-1',
          capabilities: ['x'],
          status: 'healthy',
          metadata: { deep: { n: 1 } },
        });
        expect('added' in (await store.get('a-1'))!.metadata).toBe(false);
      });
    });

    describe('list', () => {
      it('answers every agent, or those of one type in agent_id order, draining and expired ones included', async () => {
        for (const [id, type] of [
          ['c', 'cost'],
          ['a', 'cost'],
          ['s', 'security'],
          ['b', 'cost'],
        ] as const)
          await store.register(registration({ agent_id: id, type, name: `agent-${id}` }), T0, null);
        await store.markDraining('b', 1);
        expect((await store.list()).map((a) => a.agent_id).sort()).toEqual(['a', 'b', 'c', 's']);
        const costs = await store.list('cost');
        expect(costs.map((a) => a.agent_id)).toEqual(['a', 'b', 'c']);
        expect(costs[1]).toStrictEqual(await store.get('b'));
        expect(costs[1]).toMatchObject({ status: 'draining', expires_at: 1 });
        expect(await store.list('none')).toEqual([]);
      });
    });

    describe('heartbeat', () => {
      it('records the time, and in_flight and metadata only when given (metadata replaced whole)', async () => {
        await store.register(registration({ agent_id: 'a-1', in_flight: 2, metadata: { v: 1, keep: 'no' } }), T0, null);
        expect(await store.heartbeat('a-1', T1, {})).toMatchObject({
          last_heartbeat: T1,
          in_flight: 2,
          metadata: { v: 1, keep: 'no' },
        });
        const agent = await store.heartbeat('a-1', T2, { inFlight: 0, metadata: { v: 2 } });
        expect(agent).toMatchObject({ last_heartbeat: T2, in_flight: 0, metadata: { v: 2 }, registered_at: T0 });
        expect(await store.get('a-1')).toStrictEqual(agent);
      });

      it('with `proves` sets token_proven, only while the agent still has that token hash', async () => {
        const before = await store.register(registration({ agent_id: 'a-1', token_hash: '1'.repeat(64), token_proven: false }), T0, null);
        expect(await store.heartbeat('a-1', T1, { proves: '2'.repeat(64) })).toBeUndefined();
        expect(await store.get('a-1')).toStrictEqual(before);
        expect(await store.heartbeat('a-1', T1, { inFlight: 1, proves: '1'.repeat(64) })).toMatchObject({
          token_proven: true,
          last_heartbeat: T1,
          in_flight: 1,
        });
        expect(await store.heartbeat('ghost', T1, { proves: '1'.repeat(64) })).toBeUndefined();
        expect(await store.get('ghost')).toBeUndefined();
      });

      it('answers undefined for an unknown agent and creates nothing', async () => {
        expect(await store.heartbeat('ghost', T1, { inFlight: 1, metadata: { v: 1 } })).toBeUndefined();
        expect(await store.get('ghost')).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });
    });

    describe("offeredBy and refreshOffers: the type's capability summary", () => {
      const AFTER = Date.parse(T2) + 3_600_000;

      it('lists what the agents of a type offer as soon as a registration is answered; undefined for a type nobody registered', async () => {
        expect(await store.offeredBy('cost')).toBeUndefined();
        await store.register(registration({ agent_id: 'a', capabilities: ['forecast', 'budget'] }), T0, null);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['budget', 'forecast'] });
        await store.register(registration({ agent_id: 'b', capabilities: ['anomalies', 'budget'] }), T0, null);
        await store.register(registration({ agent_id: 's', type: 'security', capabilities: ['scan'] }), T0, null);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['anomalies', 'budget', 'forecast'] });
        expect(await store.offeredBy('security')).toEqual({ capabilities: ['scan'] });
        expect(await store.offeredBy('none')).toBeUndefined();
      });

      it('is not an agent: listings and reads show agents only', async () => {
        await store.register(registration({ agent_id: 'a' }), T0, null);
        expect((await store.list()).map((a) => a.agent_id)).toEqual(['a']);
        expect((await store.list('cost')).map((a) => a.agent_id)).toEqual(['a']);
        expect(await store.get('offers#cost')).toBeUndefined();
      });

      it('keeps listing a capability whose agent left until refreshOffers, which drops it, and the type once nobody is left', async () => {
        await store.register(registration({ agent_id: 'a', capabilities: ['forecast'] }), T0, null);
        await store.register(registration({ agent_id: 'b', capabilities: ['forecast', 'budget'] }), T0, null);
        await store.register(registration({ agent_id: 'c', capabilities: ['anomalies'] }), T0, null);
        await store.markDraining('b', Math.floor(AFTER / 1000) + 60);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['anomalies', 'budget', 'forecast'] });
        await store.refreshOffers('cost', AFTER);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['anomalies', 'forecast'] });
        // Draining (kept registered) and past expiry (TTL deletes late) both count as gone.
        await store.markDraining('a', undefined);
        await store.markDraining('c', Math.floor(AFTER / 1000) - 1);
        await store.refreshOffers('cost', AFTER);
        expect(await store.offeredBy('cost')).toBeUndefined();
        // Registering again brings the capabilities back at once.
        await store.register(registration({ agent_id: 'a', capabilities: ['forecast'] }), T2, (await store.get('a'))!.token_hash);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['forecast'] });
        await store.refreshOffers('none', AFTER);
        expect(await store.offeredBy('none')).toBeUndefined();
      });

      it('never counts the leaving agent, however the listing still shows it', async () => {
        const a = (await store.register(registration({ agent_id: 'a', capabilities: ['forecast', 'budget'] }), T0, null))!;
        await store.register(registration({ agent_id: 'b', capabilities: ['budget'] }), T0, null);
        // As an index that has not caught up with the drain yet: `a` is still listed healthy.
        await store.refreshOffers('cost', AFTER, a);
        expect(await store.offeredBy('cost')).toEqual({ capabilities: ['budget'] });
      });

      it('says overflow when the capabilities do not fit in one item (400 KB), and lists them again once they do', async () => {
        // 8 agents of 900 distinct 60-character names: 432 KB of names.
        const names = (a: number) => Array.from({ length: 900 }, (_, c) => `${String(a)}-${String(c).padStart(4, '0')}`.padEnd(60, 'x'));
        for (let a = 0; a < 8; a++) await store.register(registration({ agent_id: `a${a}`, capabilities: names(a) }), T0, null);
        expect(await store.offeredBy('cost')).toEqual({ overflow: true });
        await store.register(registration({ agent_id: 'late', capabilities: ['one-more'] }), T0, null);
        expect(await store.offeredBy('cost')).toEqual({ overflow: true });
        for (let a = 0; a < 4; a++) await store.markDraining(`a${a}`, undefined);
        await store.refreshOffers('cost', Date.parse(T2) + 3_600_000);
        const offered = await store.offeredBy('cost');
        expect(offered && 'capabilities' in offered && offered.capabilities).toHaveLength(4 * 900 + 1);
      });
    });

    describe('markDraining', () => {
      it('without expiresAt sets draining and leaves expires_at as it was; with it, sets both', async () => {
        await store.register(registration({ agent_id: 'a-1' }), T0, null);
        const drained = await store.markDraining('a-1', undefined);
        expect(drained).toMatchObject({ status: 'draining' });
        expect('expires_at' in drained!).toBe(false);
        expect(await store.markDraining('a-1', 1_900_000_000)).toMatchObject({ status: 'draining', expires_at: 1_900_000_000 });
        expect(await store.markDraining('a-1', undefined)).toMatchObject({ status: 'draining', expires_at: 1_900_000_000 });
        expect(await store.get('a-1')).toMatchObject({ status: 'draining', expires_at: 1_900_000_000, registered_at: T0 });
      });

      it('answers undefined for an unknown agent and creates nothing', async () => {
        expect(await store.markDraining('ghost', undefined)).toBeUndefined();
        expect(await store.markDraining('ghost', 1_900_000_000)).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });
    });
  });
}
