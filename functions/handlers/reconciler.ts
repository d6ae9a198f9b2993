import { reconcile } from '../app/reconcile';
import { resumeCallbacks } from '../app/task-callbacks';
import { config, depsOf } from '../composition/composition-root';
import { agents, callbacks, tasks } from '../composition/dynamodb-stores';
import { eventHandler } from '../composition/event-handler';
import { queue } from '../composition/intake-queue';
import { logger } from '../composition/observability';
import { cache } from '../composition/task-cache';

const deps = depsOf({ tasks, queue, cache, agents, callbacks });

/**
 * Scheduled sweep: unfinished tasks that nothing has touched for a while (enqueue lost, execution
 * died) go back on the intake queue. Starting is idempotent, so live executions are not disturbed.
 * So do callbacks overdue in the callbacks index: a claim is conditional, so none is sent twice.
 */
export const handler = eventHandler(async (event: { stale_after_seconds?: number } | undefined) => {
  const stale = typeof event?.stale_after_seconds === 'number' ? event.stale_after_seconds : config.RECONCILE_STALE_SECONDS;
  const out = await reconcile(deps, stale);
  if (out.requeued > 0 || out.attempts_ended > 0) logger.info({ message: 'requeued unfinished tasks', ...out });
  // Callbacks whose message was lost (or, at start-up, every pending one) go back on the queue too.
  const resumed = await resumeCallbacks(deps, stale === 0 ? undefined : deps.clock.now() - stale * 1000, 1000);
  if (resumed.length > 0) logger.info({ message: 'resumed pending callbacks', count: resumed.length, task_ids: resumed.slice(0, 50) });
  return { ...out, callbacks_resumed: resumed.length };
});
