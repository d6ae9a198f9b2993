/**
 * The TaskStore contract (functions/core/ports.ts), one suite for every implementation: run on
 * MemoryTaskStore by memory-stores.test.ts and on DynamoTaskStore over dynalite by
 * dynamo-stores.test.ts. DynamoTaskStore is the reference: where the two could differ, this says
 * what DynamoDB does. Each test gets an empty store and a clock of its own.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '@optiinfra/contract';
import type { Clock, TaskChange, TaskStore } from '../../functions/core/ports';
import { TASK_STATUSES, type Task, type TaskState, type TaskStatus, TERMINAL_STATUSES } from '../../functions/core/task-model';
import { task as fixtureTask } from '../../harness/fixtures';
import { FakeClock } from '../support/fake-clock';

export interface TaskStoreSubject {
  name: string;
  /** An empty store that reads the time from `clock`. */
  make(clock: Clock): Promise<TaskStore>;
}

/** Mid-month, so "this month" and "a month ago" are unambiguous. */
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const nowSeconds = () => Math.floor(NOW / 1000);

type StoredTask = TaskState & { expires_at?: number };

/** A task without its payload: what get, transition and listByStatus answer. */
function stateOf(task: Task): TaskState {
  const { parameters: _parameters, metadata: _metadata, ...state } = task;
  return state;
}

export function describeTaskStoreContract(subject: TaskStoreSubject): void {
  describe(`TaskStore contract: ${subject.name}`, () => {
    let store: TaskStore;
    let clock: FakeClock;

    beforeEach(async () => {
      clock = new FakeClock(NOW);
      store = await subject.make(clock);
    });

    /** A task created `minutesAgo` before NOW (and last updated then). */
    function task(id: string, minutesAgo: number, overrides: Partial<Task> = {}): Task {
      const at = iso(NOW - minutesAgo * MINUTE);
      return fixtureTask({ task_id: id, created_at: at, updated_at: at, ...overrides });
    }

    async function created(id: string, minutesAgo: number, overrides: Partial<Task> = {}): Promise<Task> {
      const t = task(id, minutesAgo, overrides);
      await store.create(t);
      return t;
    }

    /** Every page of a listing, following next_token until the last page (which has none). */
    async function allPages(filter: { status?: TaskStatus; agentType?: string; limit: number }): Promise<string[][]> {
      const pages: string[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await store.list({ ...filter, nextToken });
        expect(page.tasks.length).toBeLessThanOrEqual(filter.limit);
        pages.push(page.tasks.map((t) => t.task_id));
        nextToken = page.nextToken;
        expect(pages.length).toBeLessThan(100);
      } while (nextToken);
      return pages;
    }

    const ids = (tasks: TaskState[]) => tasks.map((t) => t.task_id);

    /** The task as listings answer it: its state and its payload. */
    async function full(id: string): Promise<Task> {
      return { ...(await store.get(id))!, ...(await store.payload(id))! };
    }

    describe('create and get', () => {
      it('get answers the task exactly as created but its payload, payload answers that, and both undefined for an unknown id', async () => {
        const t = await created('a', 5, {
          parameters: { region: 'eu-west-1', nested: { list: [1, 'two', { three: 3 }], flag: true, none: null } },
          metadata: { team: 'finops' },
          requested_agent_id: 'agent-1',
          agent_id: 'agent-1',
        });
        expect(await store.get('a')).toStrictEqual(stateOf(t));
        expect(await store.payload('a')).toStrictEqual({ parameters: t.parameters, metadata: t.metadata });
        expect(await store.get('unknown')).toBeUndefined();
        expect(await store.payload('unknown')).toBeUndefined();
      });

      it('answers no task for the key of a payload', async () => {
        await created('a', 5);
        expect(await store.get('a#payload')).toBeUndefined();
        expect(await store.transition('a#payload', 'cancelled', {})).toBeUndefined();
        expect(ids((await store.list({ limit: 10 })).tasks)).toEqual(['a']);
      });

      it('keeps the payload through every status change, to the end', async () => {
        const t = await created('a', 5, { parameters: { n: 1 }, metadata: { m: 2 } });
        await store.transition('a', 'sent', { set: { attempts: 1 } });
        await store.transition('a', 'retrying', { set: { error: 'x' } });
        await store.transition('a', 'sent', { set: { attempts: 2 } });
        await store.transition('a', 'completed', { set: { result: { ok: true } }, expiresAt: nowSeconds() + 60 });
        expect(await store.payload('a')).toStrictEqual({ parameters: t.parameters, metadata: t.metadata });
        expect((await store.list({ status: 'completed', limit: 10 })).tasks).toMatchObject([{ parameters: { n: 1 }, metadata: { m: 2 } }]);
      });

      it('refuses to create a task whose id is taken, and keeps the first', async () => {
        const first = await created('a', 5, { parameters: { n: 1 } });
        await expect(store.create(task('a', 1, { parameters: { n: 2 } }))).rejects.toMatchObject({
          name: 'ConditionalCheckFailedException',
        });
        expect(await full('a')).toStrictEqual(first);
      });

      it('does not store fields left undefined, at any depth (the document client drops them)', async () => {
        await store.create(
          task('a', 5, {
            requested_agent_id: undefined,
            parameters: { keep: 1, drop: undefined, list: [1, undefined, 2], inner: { drop: undefined } },
          }),
        );
        const got = await full('a');
        expect('requested_agent_id' in got).toBe(false);
        expect(got.parameters).toStrictEqual({ keep: 1, list: [1, 2], inner: {} });
      });

      it('hands out copies: changing a task given, read or returned changes nothing stored', async () => {
        const input = task('a', 5, { parameters: { deep: { n: 1 } }, metadata: { tags: ['x'] } });
        await store.create(input);
        (input.parameters.deep as { n: number }).n = 2;
        input.status = 'failed';

        const read = (await store.get('a'))!;
        read.status = 'completed';
        const payload = (await store.payload('a'))!;
        (payload.metadata.tags as string[]).push('y');

        const result = { rows: [1, 2] };
        const moved = (await store.transition('a', 'queued', { set: { result } }))!;
        result.rows.push(3);
        (moved.result as { rows: number[] }).rows.push(4);

        const listed = (await store.list({ limit: 10 })).tasks[0]!;
        listed.metadata.tags = [];
        listed.parameters.added = true;
        const byStatus = (await store.listByStatus(['queued'], { limit: 10 }))[0]!;
        (byStatus.result as { rows: number[] }).rows.push(5);

        expect(await full('a')).toMatchObject({
          status: 'queued',
          parameters: { deep: { n: 1 } },
          metadata: { tags: ['x'] },
          result: { rows: [1, 2] },
        });
        expect('added' in (await full('a')).parameters).toBe(false);
      });
    });

    describe('transition', () => {
      it('moves the task on an allowed path, sets and removes fields, stamps updated_at from the clock, and answers the task stored', async () => {
        await created('a', 5, { error: 'earlier', lease_until: 1 });
        clock.advance(7_000);
        const moved = await store.transition('a', 'sent', {
          set: { attempts: 1, agent_id: 'agent-1', lease_until: NOW + 60_000, started_at: iso(NOW) },
          remove: ['error'],
        });
        expect(moved).toMatchObject({
          status: 'sent',
          attempts: 1,
          agent_id: 'agent-1',
          lease_until: NOW + 60_000,
          started_at: iso(NOW),
          updated_at: iso(NOW + 7_000),
        });
        expect('error' in moved!).toBe(false);
        expect(await store.get('a')).toStrictEqual(moved);
      });

      it('leaves a field alone when set gives it as undefined, and removing an absent field is fine', async () => {
        await created('a', 5, { error: 'earlier' });
        const moved = await store.transition('a', 'queued', { set: { error: undefined, workflow: 'standard' }, remove: ['lease_until'] });
        expect(moved).toMatchObject({ status: 'queued', error: 'earlier', workflow: 'standard' });
      });

      it('refuses every move out of a terminal status, and changes nothing', async () => {
        const targets = TASK_STATUSES.filter((s) => s !== 'pending');
        for (const status of TERMINAL_STATUSES) {
          const before = await created(`done-${status}`, 5, { status, attempts: 1 });
          clock.advance(1_000);
          for (const to of targets)
            expect(await store.transition(before.task_id, to, { set: { error: 'late' }, expiresAt: nowSeconds() })).toBeUndefined();
          expect(await store.get(before.task_id)).toStrictEqual(stateOf(before));
        }
      });

      it('refuses a move its status does not allow, and changes nothing', async () => {
        const cases: Array<[TaskStatus, TaskStatus]> = [
          ['pending', 'running'],
          ['pending', 'retrying'],
          ['pending', 'completed'],
          ['queued', 'running'],
          ['queued', 'queued'],
          ['sent', 'queued'],
          ['sent', 'sent'],
          ['running', 'sent'],
          ['retrying', 'running'],
          ['retrying', 'completed'],
        ];
        for (const [from, to] of cases) {
          const before = await created(`${from}-${to}`, 5, { status: from });
          expect(await store.transition(before.task_id, to, { set: { attempts: 9 } })).toBeUndefined();
          expect(await store.get(before.task_id)).toStrictEqual(stateOf(before));
        }
      });

      it('with when.attempts, refuses (changing nothing) unless attempts match', async () => {
        const before = await created('a', 5, { status: 'sent', attempts: 2, lease_until: NOW });
        clock.advance(1_000);
        const change: TaskChange = { set: { error: 'x' }, remove: ['lease_until'], when: { attempts: 1 }, appendFailedAgent: 'agent-1' };
        expect(await store.transition('a', 'retrying', change)).toBeUndefined();
        expect(await store.get('a')).toStrictEqual(stateOf(before));
        expect(await store.transition('a', 'retrying', { ...change, when: { attempts: 2 } })).toMatchObject({
          status: 'retrying',
          error: 'x',
          failed_agents: ['agent-1'],
          updated_at: iso(NOW + 1_000),
        });
      });

      it('with when.status, moves only from those statuses (of the ones allowed), and an empty choice moves nothing', async () => {
        const before = await created('r', 5, { status: 'retrying', attempts: 1 });
        const inFlight = ['sent', 'running'] as const;
        expect(await store.transition('r', 'failed', { set: { error: 'late' }, when: { attempts: 1, status: inFlight } })).toBeUndefined();
        expect(await store.transition('r', 'failed', { when: { status: [] } })).toBeUndefined();
        expect(await store.get('r')).toStrictEqual(stateOf(before));
        await created('s', 5, { status: 'running', attempts: 1 });
        expect(await store.transition('s', 'running', { set: { progress: 40 }, when: { attempts: 1, status: inFlight } })).toMatchObject({
          status: 'running',
          progress: 40,
        });
      });

      it('answers undefined for an unknown task and creates nothing', async () => {
        expect(await store.transition('ghost', 'queued', { set: { queued_at: iso(NOW) } })).toBeUndefined();
        expect(await store.get('ghost')).toBeUndefined();
        expect((await store.list({ limit: 10 })).tasks).toEqual([]);
      });

      it('appends failed agents in order, starting the list and keeping repeats', async () => {
        await created('a', 5, { status: 'sent', attempts: 1 });
        const steps: Array<[TaskStatus, string | undefined]> = [
          ['retrying', 'agent-1'],
          ['sent', undefined],
          ['retrying', 'agent-2'],
          ['sent', undefined],
          ['failed', 'agent-1'],
        ];
        for (const [to, agent] of steps) expect(await store.transition('a', to, { appendFailedAgent: agent })).toBeDefined();
        expect((await store.get('a'))!.failed_agents).toEqual(['agent-1', 'agent-2', 'agent-1']);
      });

      it('sets expires_at (seconds since epoch) when given expiresAt', async () => {
        await created('a', 5, { status: 'running', attempts: 1 });
        const done = (await store.transition('a', 'completed', { set: { result: null }, expiresAt: nowSeconds() + 3600 })) as StoredTask;
        expect(done).toMatchObject({ status: 'completed', result: null, expires_at: nowSeconds() + 3600 });
        expect(((await store.get('a')) as StoredTask).expires_at).toBe(nowSeconds() + 3600);
      });

      it('throws, rather than refusing, on a change DynamoDB cannot express, and changes nothing', async () => {
        const before = await created('a', 5, { status: 'sent', attempts: 1, error: 'x' });
        const bad: Array<[TaskStatus, TaskChange]> = [
          ['pending', {}],
          ['running', { set: { updated_at: iso(NOW) } }],
          ['running', { set: { error: 'y' }, remove: ['error'] }],
          ['running', { remove: ['error', 'error'] }],
          ['running', { remove: ['status'] }],
          ['running', { remove: ['task_id'] }],
          ['retrying', { set: { failed_agents: [] }, appendFailedAgent: 'agent-1' }],
          ['completed', { set: { expires_at: 1 } as TaskChange['set'], expiresAt: 2 }],
        ];
        for (const [to, change] of bad) {
          await expect(store.transition('a', to, change), JSON.stringify(change)).rejects.toMatchObject({ name: 'ValidationException' });
          await expect(store.transition('ghost', to, change)).rejects.toMatchObject({ name: 'ValidationException' });
        }
        expect(await store.get('a')).toStrictEqual(stateOf(before));
      });

      // What the contract's json-limits.ts unstorablePlace refuses, held to DynamoDB: the document client
      // refuses to marshal numbers past 2^53 and Infinity; DynamoDB refuses magnitudes below 1e-130,
      // and the empty value the marshaller makes of a __proto__ key. Nothing of it may reach the store.
      it('throws on a value it cannot keep (2^64, 1e400, 1e-131, a __proto__ key), in create and in transition, and changes nothing', async () => {
        const before = await created('a', 5, { status: 'sent', attempts: 1 });
        const unstorable = [
          '{"total":18446744073709551616}',
          '{"total":-9007199254740992}',
          '{"list":[1,1e400]}',
          '{"tiny":1e-131}',
          '{"__proto__":{"admin":true}}',
          '{"a":{"b":{"__proto__":1}}}',
        ];
        for (const json of unstorable) {
          const value = JSON.parse(json) as Record<string, unknown>;
          await expect(store.transition('a', 'completed', { set: { result: value } }), json).rejects.toThrow();
          await expect(store.create(task(`new-${json}`, 1, { parameters: value })), json).rejects.toThrow();
          expect(await store.get(`new-${json}`)).toBeUndefined();
        }
        expect(await store.get('a')).toStrictEqual(stateOf(before));
        // What unstorablePlace lets through is kept as sent.
        const storable = JSON.parse('{"safe":9007199254740991,"small":1e-130,"frac":0.1,"prototype":{"proto__":1}}') as unknown;
        expect((await store.transition('a', 'completed', { set: { result: storable } }))?.result).toStrictEqual(storable);
      });
    });

    describe('list', () => {
      it('lists newest first, at most limit, with a next_token only when more remain', async () => {
        for (const [id, ago] of [
          ['old', 30],
          ['new', 10],
          ['mid', 20],
        ] as const)
          await created(id, ago);
        expect(await store.list({ limit: 10 })).toStrictEqual({
          tasks: [await full('new'), await full('mid'), await full('old')],
        });
        const exact = await store.list({ limit: 3 });
        expect(ids(exact.tasks)).toEqual(['new', 'mid', 'old']);
        expect(exact.nextToken).toBeUndefined();
        const first = await store.list({ limit: 2 });
        expect(ids(first.tasks)).toEqual(['new', 'mid']);
        const second = await store.list({ limit: 2, nextToken: first.nextToken });
        expect(second).toStrictEqual({ tasks: [await full('old')] });
      });

      it('pages through many tasks across months, by status and by agent type too, with no overlap and none missed', async () => {
        // 45 tasks, one every two days: three months and more, two agent types, two statuses.
        const all: Task[] = [];
        for (let i = 0; i < 45; i++) {
          all.push(
            await created(`t-${String(i).padStart(2, '0')}`, (i * 2 * DAY) / MINUTE + 1, {
              agent_type: i % 3 === 0 ? 'security' : 'cost',
              status: i % 2 === 0 ? 'queued' : 'completed',
            }),
          );
        }
        const newestFirst = (tasks: Task[]) => ids([...tasks].sort((a, b) => b.created_at.localeCompare(a.created_at)));
        for (const [filter, expected] of [
          [{}, all],
          [{ status: 'queued' as const }, all.filter((t) => t.status === 'queued')],
          [{ agentType: 'security' }, all.filter((t) => t.agent_type === 'security')],
        ] as const) {
          const pages = await allPages({ ...filter, limit: 7 });
          expect(pages.slice(0, -1).every((p) => p.length === 7)).toBe(true);
          expect(pages.flat()).toEqual(newestFirst(expected));
        }
      });

      it('with both filters reads the status listing, filtered on the agent type in the index', async () => {
        await created('cost-new', 1, { status: 'queued', agent_type: 'cost' });
        await created('sec', 2, { status: 'queued', agent_type: 'security' });
        await created('cost-old', 3, { status: 'queued', agent_type: 'cost' });
        await created('cost-done', 4, { status: 'completed', agent_type: 'cost' });
        await created('sec-done', 5, { status: 'completed', agent_type: 'security' });
        expect(ids((await store.list({ status: 'queued', agentType: 'cost', limit: 2 })).tasks)).toEqual(['cost-new', 'cost-old']);
        expect(ids((await store.list({ status: 'completed', agentType: 'cost', limit: 2 })).tasks)).toEqual(['cost-done']);
        expect(ids((await store.list({ agentType: 'security', limit: 5 })).tasks)).toEqual(['sec', 'sec-done']);
      });

      it('lists by an unfinished status from the unfinished tasks: a page of others is short, and carries a next_token', async () => {
        for (let i = 0; i < 60; i++) await created(`sent-${i}`, i + 2, { status: 'sent', attempts: 1 });
        await created('pending-new', 1);
        await created('pending-old', 30);
        const pages = await allPages({ status: 'pending', limit: 3 });
        expect(pages.flat()).toEqual(['pending-new', 'pending-old']);
        expect(pages.length).toBeGreaterThan(1);
      });

      it('moves a task from the unfinished listing to the finished one at its terminal write, in the same place in the unfiltered one', async () => {
        await created('a', 3, { status: 'sent', attempts: 1 });
        await created('b', 2);
        await created('c', 1, { status: 'sent', attempts: 1 });
        await store.transition('a', 'completed', { set: { result: 1 }, expiresAt: nowSeconds() + 60 });
        expect(ids((await store.list({ status: 'sent', limit: 10 })).tasks)).toEqual(['c']);
        expect(ids((await store.list({ status: 'completed', limit: 10 })).tasks)).toEqual(['a']);
        expect((await allPages({ limit: 1 })).flat()).toEqual(['c', 'b', 'a']);
        expect(ids(await store.listByStatus(['sent', 'pending'], { limit: 10 }))).toEqual(['b', 'c']);
      });

      it('pages tasks created in the same millisecond in a fixed order, none twice and none missed', async () => {
        const at = iso(NOW - MINUTE);
        const same = Array.from({ length: 30 }, (_, i) => `same-${String(i).padStart(2, '0')}`);
        for (const id of same) await store.create(fixtureTask({ task_id: id, created_at: at, updated_at: at }));
        const pages = await allPages({ limit: 4 });
        expect(pages.flat()).toEqual([...same].reverse());
      });

      it('hides finished tasks once the clock passes their expires_at, from every listing; get still answers them', async () => {
        await created('kept', 1, { status: 'queued' });
        await created('expiring', 2, { status: 'running', attempts: 1 });
        await store.transition('expiring', 'completed', { expiresAt: nowSeconds() + 60 });
        clock.advance(59_000);
        expect(ids((await store.list({ limit: 10 })).tasks)).toEqual(['kept', 'expiring']);
        expect(ids((await store.list({ status: 'completed', limit: 10 })).tasks)).toEqual(['expiring']);
        clock.advance(1_000);
        expect(ids((await store.list({ limit: 10 })).tasks)).toEqual(['kept']);
        expect((await store.list({ status: 'completed', limit: 10 })).tasks).toEqual([]);
        expect(ids((await store.list({ agentType: 'cost', limit: 10 })).tasks)).toEqual(['kept']);
        expect(await store.get('expiring')).toMatchObject({ status: 'completed', expires_at: nowSeconds() + 60 });
      });

      it('counts a hidden task in its page: the page is short but still has a next_token', async () => {
        await created('older', 2);
        await created('newest', 1, { status: 'running', attempts: 1 });
        await store.transition('newest', 'failed', { expiresAt: nowSeconds() });
        const first = await store.list({ limit: 1 });
        expect(first.tasks).toEqual([]);
        expect(ids((await store.list({ limit: 1, nextToken: first.nextToken })).tasks)).toEqual(['older']);
      });

      it('unfiltered, lists every task newest first, whatever its month', async () => {
        const monthsAgo = (n: number) => Date.UTC(2026, 5 - n, 10);
        for (const [id, at] of [
          ['next-month', Date.UTC(2026, 6, 1)],
          ['23-months-ago', monthsAgo(23)],
          ['24-months-ago', monthsAgo(24)],
        ] as const)
          await store.create(fixtureTask({ task_id: id, created_at: iso(at), updated_at: iso(at) }));
        expect(ids((await store.list({ limit: 10 })).tasks)).toEqual(['next-month', '23-months-ago', '24-months-ago']);
        expect(ids((await store.list({ status: 'pending', limit: 10 })).tasks)).toEqual(['next-month', '23-months-ago', '24-months-ago']);
      });

      it('refuses a next_token it did not issue with a ValidationError on next_token', async () => {
        await created('a', 1);
        const encode = (value: string) => Buffer.from(value).toString('base64url');
        const foreign = [
          'not-a-token',
          encode('null'),
          encode('42'),
          encode('"text"'),
          encode('{"k":5}'),
          encode('{"k":null}'),
          encode('{"k":{"task_id":7}}'),
          encode('{"m":"June"}'),
          encode('{"m":202606}'),
          encode('[]'),
          encode('{"k":{"task_id":"a","created_at":"2026-06-15T12:00:00.000Z"},"m":"2026-06"}'),
        ];
        for (const filter of [{}, { status: 'pending' as const }, { agentType: 'cost' }]) {
          for (const nextToken of foreign) {
            const refusal = store.list({ ...filter, limit: 10, nextToken });
            await expect(refusal, nextToken).rejects.toBeInstanceOf(ValidationError);
            await expect(refusal).rejects.toMatchObject({ issues: [{ field: 'next_token', message: 'not issued by this API' }] });
          }
        }
      });

      // A token of one listing passed to another, or one whose key was edited, would reach DynamoDB
      // as an ExclusiveStartKey it refuses (ValidationException: a 500 from the API). The listing
      // checks the key as DynamoDB does, first, so the caller gets a 400 that says what to send.
      it('refuses a next_token of another listing, or with an edited key, with a ValidationError on next_token', async () => {
        for (let i = 0; i < 3; i++) await created(`t-${i}`, i + 1, { status: 'queued' });
        const byStatus = (await store.list({ status: 'queued', limit: 1 })).nextToken!;
        const byType = (await store.list({ agentType: 'cost', limit: 1 })).nextToken!;
        const unfiltered = (await store.list({ limit: 1 })).nextToken!;
        const edited = (token: string, edit: (k: Record<string, string>) => void) => {
          const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { k: Record<string, string> };
          edit(parsed.k);
          return Buffer.from(JSON.stringify(parsed)).toString('base64url');
        };
        const misused: Array<[Parameters<TaskStore['list']>[0], string]> = [
          [{ status: 'pending', limit: 1 }, byStatus],
          [{ agentType: 'cost', limit: 1 }, byStatus],
          [{ limit: 1 }, byStatus],
          [{ status: 'queued', limit: 1 }, byType],
          [{ status: 'queued', limit: 1 }, unfiltered],
          [{ status: 'queued', limit: 1 }, edited(byStatus, (k) => (k.extra = 'x'))],
          [{ status: 'queued', limit: 1 }, edited(byStatus, (k) => delete k.created_at)],
          [{ status: 'queued', limit: 1 }, edited(byStatus, (k) => (k.task_id = ''))],
          [{ status: 'queued', limit: 1 }, edited(byStatus, (k) => (k.status = 'failed'))],
          [{ limit: 1 }, byType],
          [{ agentType: 'cost', limit: 1 }, unfiltered],
          [{ limit: 1 }, edited(unfiltered, (k) => (k.created_month = '2026-05'))],
        ];
        for (const [filter, nextToken] of misused) {
          const refusal = store.list({ ...filter, nextToken });
          await expect(refusal, JSON.stringify(filter)).rejects.toBeInstanceOf(ValidationError);
          await expect(refusal).rejects.toMatchObject({ issues: [{ field: 'next_token', message: 'not issued by this API' }] });
        }
      });

      it('a next_token naming a task that does not exist continues after where that task would be (nothing, past the oldest)', async () => {
        for (let i = 0; i < 3; i++) await created(`t-${i}`, (i + 1) * 10, { status: 'queued' });
        const k = { task_id: 'ghost', status: 'queued', created_at: iso(NOW - 15 * MINUTE) };
        const nextToken = Buffer.from(JSON.stringify({ k })).toString('base64url');
        expect(ids((await store.list({ status: 'queued', limit: 10, nextToken })).tasks)).toEqual(['t-1', 't-2']);
        const pastTheOldest = { k: { ...k, created_at: iso(NOW - DAY) } };
        const nothingLeft = Buffer.from(JSON.stringify(pastTheOldest)).toString('base64url');
        expect(await store.list({ status: 'queued', limit: 10, nextToken: nothingLeft })).toStrictEqual({ tasks: [] });
      });
    });

    describe('listByStatus', () => {
      it('answers the tasks in any of the statuses, oldest first, and no others', async () => {
        const statuses: TaskStatus[] = ['pending', 'queued', 'sent', 'running', 'retrying', 'completed', 'failed', 'timeout', 'cancelled'];
        for (const [i, status] of statuses.entries()) {
          await created(`${status}-a`, 100 - i, { status });
          await created(`${status}-b`, 50 - i, { status });
        }
        const got = await store.listByStatus(['retrying', 'pending', 'sent'], { limit: 100 });
        expect(ids(got)).toEqual(['pending-a', 'sent-a', 'retrying-a', 'pending-b', 'sent-b', 'retrying-b']);
        expect(got[0]).toStrictEqual(await store.get('pending-a'));
        expect(ids(await store.listByStatus(['failed', 'cancelled', 'pending'], { limit: 100 }))).toEqual([
          'pending-a',
          'failed-a',
          'cancelled-a',
          'pending-b',
          'failed-b',
          'cancelled-b',
        ]);
      });

      it('takes at most limit of each status, the oldest of each', async () => {
        for (let i = 0; i < 5; i++) {
          await created(`pending-${i}`, 100 - 2 * i, { status: 'pending' });
          await created(`retrying-${i}`, 99 - 2 * i, { status: 'retrying' });
        }
        expect(ids(await store.listByStatus(['pending', 'retrying'], { limit: 2 }))).toEqual([
          'pending-0',
          'retrying-0',
          'pending-1',
          'retrying-1',
        ]);
      });

      it('with createdBefore, only tasks created at or before it', async () => {
        for (const ago of [30, 20, 10]) await created(`t-${ago}`, ago, { status: 'queued' });
        expect(ids(await store.listByStatus(['queued'], { limit: 10, createdBefore: iso(NOW - 20 * MINUTE) }))).toEqual(['t-30', 't-20']);
        expect(await store.listByStatus(['queued'], { limit: 10, createdBefore: iso(NOW - 31 * MINUTE) })).toEqual([]);
      });

      it('sees a task under its new status at once after a transition', async () => {
        await created('a', 5, { status: 'pending' });
        await store.transition('a', 'queued', {});
        expect(ids(await store.listByStatus(['pending'], { limit: 10 }))).toEqual([]);
        expect(ids(await store.listByStatus(['queued'], { limit: 10 }))).toEqual(['a']);
      });

      it('does not hide tasks past retention (it is for unfinished work)', async () => {
        await created('a', 5, { status: 'running', attempts: 1 });
        await store.transition('a', 'failed', { expiresAt: nowSeconds() - 10 });
        expect(ids(await store.listByStatus(['failed'], { limit: 10 }))).toEqual(['a']);
      });

      it('throws on a limit below 1 (DynamoDB refuses Limit 0)', async () => {
        await expect(store.listByStatus(['queued'], { limit: 0 })).rejects.toMatchObject({ name: 'ValidationException' });
      });
    });
  });
}
