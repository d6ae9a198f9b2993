/**
 * The FinishNotices contract (functions/core/finish-notices.ts), one suite for every TaskCache: run
 * on MemoryTaskCache and RedisTaskCache on one redis-server by task-cache.test.ts, and on a
 * three-master Redis Cluster by task-cache-cluster.test.ts. An end announced through one instance
 * wakes the listeners of that task on another (a dispatcher and an API function), and no others.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TaskCache } from '../../functions/core/cache-port';
import type { FinishListener } from '../../functions/core/finish-notices';
import type { TaskCacheSubject } from './task-cache-contract';

export function describeFinishNoticesContract(impl: TaskCacheSubject): void {
  describe(`FinishNotices contract: ${impl.name}`, () => {
    const listen = async (cache: TaskCache, taskId: string): Promise<FinishListener> => {
      const listener = await cache.listenForFinish(taskId);
      if (!listener) throw new Error(`${impl.name} could not listen for the end of ${taskId}`);
      return listener;
    };

    it('wakes a listener when the end of its task is announced through another instance', async () => {
      const [api, dispatcher] = impl.instances(2);
      const taskId = randomUUID();
      const listener = await listen(api!, taskId);
      await dispatcher!.announceFinished(taskId, 'completed');
      await expect(listener.heard).resolves.toBeUndefined();
      await listener.close();
    });

    it('wakes every listener of the task, and none of another task', async () => {
      const [api, dispatcher] = impl.instances(2);
      const [task, other] = [randomUUID(), randomUUID()];
      const woken: string[] = [];
      // The other task's listener joins first: woken by the wrong notice, it would be recorded first.
      const bystander = await listen(api!, other);
      void bystander.heard.then(() => woken.push('other'));
      const listeners = [await listen(api!, task), await listen(api!, task)];
      listeners.forEach((l, i) => void l.heard.then(() => woken.push(`task ${i}`)));
      await dispatcher!.announceFinished(task, 'failed');
      await Promise.all(listeners.map((l) => l.heard));
      expect(woken).toEqual(['task 0', 'task 1']);
      await dispatcher!.announceFinished(other, 'cancelled');
      await bystander.heard;
      expect(woken).toEqual(['task 0', 'task 1', 'other']);
      await Promise.all([...listeners, bystander].map((l) => l.close()));
    });

    it('keeps the channel while one listener of the task remains, and listens again after the last one closed', async () => {
      const [api, dispatcher] = impl.instances(2);
      const taskId = randomUUID();
      const [leaving, staying] = [await listen(api!, taskId), await listen(api!, taskId)];
      await leaving.close();
      await dispatcher!.announceFinished(taskId, 'timeout');
      await staying.heard;
      await staying.close();
      // Every listener closed (the channel given up): a new one subscribes it again and is woken.
      const again = await listen(api!, taskId);
      await dispatcher!.announceFinished(taskId, 'completed');
      await again.heard;
      await again.close();
    });

    it('lets many requests wait at once, each on its own task', async () => {
      const [api, dispatcher] = impl.instances(2);
      const ids = Array.from({ length: 50 }, () => randomUUID());
      const listeners = await Promise.all(ids.map((id) => listen(api!, id)));
      await Promise.all(ids.map((id) => dispatcher!.announceFinished(id, 'completed')));
      await Promise.all(listeners.map((l) => l.heard));
      await Promise.all(listeners.map((l) => l.close()));
    });
  });
}
