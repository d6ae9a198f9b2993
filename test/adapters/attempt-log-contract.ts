/**
 * The attempts_log part of the TaskStore contract (TaskChange.appendAttempt / setAttempt), run on
 * MemoryTaskStore and on DynamoTaskStore over dynalite: the entry rides on the transition's own
 * write, under its condition, and a refused transition changes no entry.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { startedEntry } from '../../functions/core/attempt-log';
import type { TaskStore } from '../../functions/core/ports';
import { task as fixtureTask } from '../../harness/fixtures';
import { FakeClock } from '../support/fake-clock';
import type { TaskStoreSubject } from './task-store-contract';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const agent = { agent_id: 'agent-1', name: 'one' };

export function describeAttemptLogContract(subject: TaskStoreSubject): void {
  describe(`TaskStore attempts_log: ${subject.name}`, () => {
    let store: TaskStore;

    beforeEach(async () => {
      store = await subject.make(new FakeClock(NOW));
      await store.create(fixtureTask({ task_id: 't', status: 'pending', attempts: 0, max_retries: 2 }));
    });

    it('appends an entry with the lease write, and replaces it by index with the end write', async () => {
      const first = startedEntry(1, agent, 'least loaded', NOW);
      const leased = await store.transition('t', 'sent', { set: { attempts: 1 }, when: { attempts: 0 }, appendAttempt: first });
      expect(leased?.attempts_log).toEqual([first]);
      const ended = {
        ...first,
        outcome: 'http_error' as const,
        http_status: 500,
        latency_ms: 12,
        ended_at: new Date(NOW + 12).toISOString(),
      };
      await store.transition('t', 'retrying', { when: { attempts: 1 }, setAttempt: { index: 0, entry: ended } });
      const second = startedEntry(2, { agent_id: 'agent-2', name: 'two' }, 'anti-affinity', NOW + 20);
      await store.transition('t', 'sent', { set: { attempts: 2 }, when: { attempts: 1 }, appendAttempt: second });
      expect((await store.get('t'))?.attempts_log).toEqual([ended, second]);
    });

    it('changes no entry when the transition is refused', async () => {
      const first = startedEntry(1, agent, 'least loaded', NOW);
      await store.transition('t', 'sent', { set: { attempts: 1 }, when: { attempts: 0 }, appendAttempt: first });
      const late = { ...first, outcome: 'completed' as const };
      expect(await store.transition('t', 'completed', { when: { attempts: 2 }, setAttempt: { index: 0, entry: late } })).toBeUndefined();
      expect(
        await store.transition('t', 'sent', { when: { attempts: 0 }, appendAttempt: startedEntry(1, agent, 'x', NOW) }),
      ).toBeUndefined();
      expect((await store.get('t'))?.attempts_log).toEqual([first]);
    });
  });
}
