import { reconcile } from '../app/reconcile';
import { config, depsOf } from '../composition/composition-root';
import { agents, tasks } from '../composition/dynamodb-stores';
import { eventHandler } from '../composition/event-handler';
import { queue } from '../composition/intake-queue';
import { logger } from '../composition/observability';
import { cache } from '../composition/task-cache';

const deps = depsOf({ tasks, queue, cache, agents });

/**
 * Scheduled sweep: unfinished tasks that nothing has touched for a while (enqueue lost, execution
 * died) go back on the intake queue. Starting is idempotent, so live executions are not disturbed.
 */
export const handler = eventHandler(async (event: { stale_after_seconds?: number } | undefined) => {
  const stale = typeof event?.stale_after_seconds === 'number' ? event.stale_after_seconds : config.RECONCILE_STALE_SECONDS;
  const out = await reconcile(deps, stale);
  if (out.requeued > 0 || out.attempts_ended > 0) logger.info({ message: 'requeued unfinished tasks', ...out });
  return out;
});
