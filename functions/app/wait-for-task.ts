/** GET /tasks/{id}?wait=N: the task once it is terminal, or its state at N seconds, whichever comes first. */
import { setTimeout as sleep } from 'node:timers/promises';
import { FALLBACK_REREAD_MS } from '../core/finish-notices';
import { isTerminal, type TaskStatusResponse } from '../core/task-model';
import type { Deps } from './deps';
import { getTask } from './tasks';

/** How early a timer may fire, on a busy event loop, and still be counted as on time. */
const TIMER_SLACK_MS = 100;

/**
 * Listens for the task's end before reading it, so an end between the read and the wait is still
 * heard; then waits for the notice or N, and reads the task again. The wait is the request's own
 * time, not the task's: it is measured on the monotonic clock, never on `deps.clock`. Without
 * notices (no cache, or it is down) the task is read again every FALLBACK_REREAD_MS instead.
 */
export async function waitForTask(deps: Pick<Deps, 'tasks' | 'cache'>, taskId: string, waitSeconds: number): Promise<TaskStatusResponse> {
  if (waitSeconds <= 0) return getTask(deps, taskId);
  const until = performance.now() + waitSeconds * 1000;
  const listener = await deps.cache.listenForFinish(taskId);
  const stop = new AbortController();
  try {
    const first = await getTask(deps, taskId);
    if (isTerminal(first.status)) return first;
    const timeLeft = () => Math.max(0, until - performance.now());
    if (listener) {
      await Promise.race([listener.heard, sleep(timeLeft(), undefined, { signal: stop.signal }).catch(() => undefined)]);
      return await getTask(deps, taskId);
    }
    // One read per FALLBACK_REREAD_MS, the last at N: the read whose sleep ran to N ends the wait,
    // even if its timer fired a little early (Node's timers may, on a busy loop), so a wait of N
    // seconds costs at most 1 + N * 1000 / FALLBACK_REREAD_MS reads.
    for (;;) {
      const left = timeLeft();
      const last = left <= FALLBACK_REREAD_MS + TIMER_SLACK_MS;
      await sleep(last ? left : FALLBACK_REREAD_MS);
      const latest = await getTask(deps, taskId);
      if (last || isTerminal(latest.status)) return latest;
    }
  } finally {
    stop.abort();
    await listener?.close();
  }
}
