/**
 * The process's activity listeners: the local runtime's terminal feed (and the console's live view)
 * subscribe here. A deployment never does, so `emit` finds no listener and does nothing: no log
 * line and no call, and the cost budgets stay as they are.
 */
import type { Activity, ActivityEvent } from '../core/activity';

export type ActivityListener = (event: ActivityEvent) => void;
const listeners = new Set<ActivityListener>();

/** Adds a listener for every activity event of the functions in this process; the returned function removes it. */
export function onActivity(listener: ActivityListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const hookedActivity: Activity = {
  emit(event) {
    // A listener's failure is its own: the use case that emitted carries on.
    for (const listener of listeners)
      try {
        listener(event);
      } catch {
        // ignored on purpose
      }
  },
};
