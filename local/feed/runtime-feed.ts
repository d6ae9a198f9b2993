/** What the local runtime adds for its feed: the functions' hooks, and a watch on the agents' derived health. */
import { onActivity } from '../../functions/composition/activity-hook';
import { type LogSink, onLogLine } from '../../functions/composition/log-hook';
import type { ActivityEvent } from '../../functions/core/activity';
import { listAgentsFrom } from './agent-listing';
import { watchAgents } from './agent-watch';

export interface FeedOptions {
  /** The feed: the use cases' activity, and each agent's derived health (looked at every 2 s). None: neither is watched. */
  onActivity?: (event: ActivityEvent) => void;
  /** Where the handlers' Powertools lines go instead of Powertools' own JSON on stdout. */
  onHandlerLog?: LogSink;
}

/** Hooks the listeners into the functions of this process; the returned function unhooks them. */
export function hookFeed(options: FeedOptions): () => Promise<void> {
  if (options.onHandlerLog) onLogLine(options.onHandlerLog);
  const off = options.onActivity ? onActivity(options.onActivity) : undefined;
  return async () => {
    if (options.onHandlerLog) onLogLine(undefined);
    off?.();
  };
}

/** Watches GET /agents for agents turning unhealthy, healthy again or forgotten, when a feed listens. */
export function watchAgentHealth(options: FeedOptions, apiUrl: string, token: string | undefined): () => Promise<void> {
  const emit = options.onActivity;
  if (!emit) return async () => undefined;
  const watch = watchAgents({ list: () => listAgentsFrom(apiUrl, token), emit });
  return () => watch.stop();
}
