/**
 * Parked tasks start again when capacity frees up: whoever frees it (a finished attempt, a new or
 * returning agent, a closed circuit) has the cache hand the free slots to the first waiters and
 * puts each woken task on the intake queue, which starts its execution. A wake-up message that is
 * lost is found by the reconciler once the slot's reservation ends.
 */
import { type AgentRecord, isExpired } from '../core/agent-model';
import type { Waiter, WakeRequest } from '../core/cache-port';
import type { Task } from '../core/task-model';
import { agentPools, taskPool } from '../core/waiting-queue';
import type { Deps } from './deps';

/** What freeing capacity on `agent` may wake: the queues of every pool it serves. */
export function wakeRequest(
  agent: Pick<AgentRecord, 'agent_id' | 'type' | 'capabilities' | 'max_concurrency'>,
  nowMs: number,
): WakeRequest {
  return { agent: { agentId: agent.agent_id, type: agent.type }, capacity: agent.max_concurrency, pools: agentPools(agent), nowMs };
}

/** Starts the woken tasks' executions. An enqueue that fails is left to the reconciler: the step that freed the slot carries on. */
export async function startWoken(deps: Pick<Deps, 'queue' | 'metrics'>, woken: readonly Waiter[] | undefined): Promise<void> {
  if (!woken || woken.length === 0) return;
  const sent = await Promise.allSettled(woken.map((w) => deps.queue.enqueue(w.taskId, w.priority)));
  const lost = sent.filter((s) => s.status === 'rejected').length;
  deps.metrics.count('WaitersWoken', 'all', woken.length - lost);
  if (lost > 0) deps.metrics.count('WakeUpsNotSent', 'all', lost);
}

/** The agent may have free slots (it registered, heartbeats, or its circuit closed): hand them to waiters and start them. */
export async function wakeFor(deps: Pick<Deps, 'cache' | 'queue' | 'metrics' | 'clock'>, agent: AgentRecord): Promise<void> {
  const now = deps.clock.now();
  if (agent.status === 'draining' || isExpired(agent, now)) return;
  await startWoken(deps, await deps.cache.wakeWaiters(wakeRequest(agent, now)));
}

/** The task stops waiting (finished, cancelled, driven): a slot that had been handed to it goes to the next waiter. */
export async function leaveQueue(
  deps: Pick<Deps, 'cache' | 'queue' | 'metrics' | 'clock'> & { agents: Pick<Deps['agents'], 'get'> },
  task: Pick<Task, 'agent_type' | 'task_type' | 'requested_agent_id' | 'task_id'>,
): Promise<void> {
  const agentId = await deps.cache.leaveQueue(task.agent_type, taskPool(task), task.task_id);
  const agent = agentId === undefined ? undefined : await deps.agents.get(agentId);
  if (agent) await wakeFor(deps, agent);
}
