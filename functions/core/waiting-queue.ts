/**
 * Tasks that find no free agent park in the cache, ordered by priority, then age, and their
 * execution ends: nothing polls. Whoever frees capacity on an agent (a finished attempt, a new or
 * returning agent, a circuit closing) hands the free slots straight to the first waiters of the
 * pools that agent serves, and their dispatch starts again through the intake queue.
 */
import type { AgentRecord } from './agent-model';
import { MAX_PRIORITY, PRIORITY, type Task } from './task-model';

/** Tasks waiting for the same agents share a queue: the agent a task names, else its type and capability. */
export function taskPool(task: Pick<Task, 'agent_type' | 'task_type' | 'requested_agent_id'>): string {
  return task.requested_agent_id ?? `${task.agent_type}:${task.task_type}`;
}

/** The pools an agent serves: tasks that name it, and tasks of its type for each of its capabilities. */
export function agentPools(agent: Pick<AgentRecord, 'agent_id' | 'type' | 'capabilities'>): string[] {
  return [agent.agent_id, ...agent.capabilities.map((c) => `${agent.type}:${c}`)];
}

/** One priority level outranks any age: epoch milliseconds stay below this until the year 2286. */
export const PRIORITY_SCORE_STEP = 1e13;

/** A task's place in the queue: lower is served first, so the highest priority, then the oldest. */
export function waitingScore(priority: number, queuedAtMs: number): number {
  return (MAX_PRIORITY + 1 - priority) * PRIORITY_SCORE_STEP + queuedAtMs;
}

/** The priority a queue score was made from. */
export function priorityOfScore(score: number): number {
  return MAX_PRIORITY + 1 - Math.floor(score / PRIORITY_SCORE_STEP);
}

/**
 * How long a slot handed to a woken waiter stays reserved for it: the intake queue, the starter and
 * the first dispatch step fit in it. If the waiter does not come, the slot frees itself and the
 * reconciler wakes the waiter again.
 */
export const WAKE_RESERVATION_MS = 60_000;

/**
 * How long a waiting task sleeps before it looks again when the cache is down (then nothing can
 * wake it, so its execution polls as it did before parking existed); critical work looks more often.
 */
export function agentPollSeconds(priority: number, baseSeconds: number): number {
  return Math.max(1, Math.round(priority >= PRIORITY.high ? baseSeconds / 2 : baseSeconds));
}
