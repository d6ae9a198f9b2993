/**
 * Tasks that wait for a free agent queue in the cache by priority, then by age: each waiting task
 * looks again every few seconds, and takes a free slot only when it is among the first waiters.
 */
import { MAX_PRIORITY, PRIORITY, type Task } from './task-model';

/** Tasks waiting for the same agents share a queue: the agent a task names, else its type and capability. */
export function taskPool(task: Pick<Task, 'agent_type' | 'task_type' | 'requested_agent_id'>): string {
  return task.requested_agent_id ?? `${task.agent_type}:${task.task_type}`;
}

/** One priority level outranks any age: epoch milliseconds stay below this until the year 2286. */
export const PRIORITY_SCORE_STEP = 1e13;

/** A task's place in the queue: lower is served first, so the highest priority, then the oldest. */
export function waitingScore(priority: number, queuedAtMs: number): number {
  return (MAX_PRIORITY + 1 - priority) * PRIORITY_SCORE_STEP + queuedAtMs;
}

/** How long a waiting task sleeps before it looks for a free agent again; critical work looks more often. */
export function agentPollSeconds(priority: number, baseSeconds: number): number {
  return Math.max(1, Math.round(priority >= PRIORITY.high ? baseSeconds / 2 : baseSeconds));
}

/** Polls a waiter may miss before it drops out of the queue (its execution ended, or it was handed over). */
export const MISSED_POLLS_BEFORE_DROPPED = 3;
/** Slack on top, for a step that is slow to come back. */
export const WAITER_SLACK_MS = 5_000;

/** Waiters not seen for this long drop out of the queue, so a task that stopped waiting keeps no one behind it. */
export function waiterStaleMs(basePollSeconds: number): number {
  return MISSED_POLLS_BEFORE_DROPPED * agentPollSeconds(PRIORITY.low, basePollSeconds) * 1000 + WAITER_SLACK_MS;
}
