/**
 * Cache keys. The seed's task keys, plus agent liveness, circuit breakers and the priority queue of
 * waiting tasks. Every key that the slot script or a breaker update touches together carries the
 * agent type as a hash tag, so each of those steps stays on one slot of a cluster.
 */
export const cacheKeys = {
  /** Tasks sent to an agent and not yet answered: sorted set, score = lease end (ms). Its size is the agent's load. */
  pending: (type: string, agentId: string) => `task:pending:{${type}}:${agentId}`,
  active: (taskId: string) => `task:active:${taskId}`,
  result: (taskId: string) => `task:result:${taskId}`,
  /** Sharded pub/sub channel on which the task's end is announced (finish-notices.ts). */
  finished: (taskId: string) => `task:finished:${taskId}`,
  heartbeat: (agentId: string) => `agent:heartbeat:${agentId}`,
  persisted: (agentId: string) => `agent:persisted:${agentId}`,
  /** Parked tasks of a pool: sorted set, score = waitingScore (priority, then age). */
  waiting: (type: string, pool: string) => `task:waiting:{${type}}:${pool}`,
  /** Parked or woken tasks of a type: sorted set, score = the end of the queue timeout (ms). */
  parked: (type: string) => `task:parked:{${type}}`,
  /** Woken tasks of a type that have not come for their slot yet: sorted set, score = reservation end (ms). */
  woken: (type: string) => `task:woken:{${type}}`,
  /** Slots handed to woken tasks: hash, task id → "agent id\nslot". */
  handed: (type: string) => `task:handed:{${type}}`,
  /** Agent types that have had parked tasks: set, for the reconciler's sweep. */
  waitingTypes: () => 'task:waiting-types',
  /** Accepted attempts of a type: sorted set, member "task id:attempt", score = when it is due (ms). */
  running: (type: string) => `task:running:{${type}}`,
  /** Agent types that have had accepted attempts: set, for the reconciler's sweep. */
  runningTypes: () => 'task:running-types',
  /** Dispatch outcomes in the breaker window: sorted sets, score = time (ms). */
  dispatches: (type: string, agentId: string) => `agent:dispatches:{${type}}:${agentId}`,
  failures: (type: string, agentId: string) => `agent:failures:{${type}}:${agentId}`,
  /** Open breakers of a type: hash, agent id → OpenCircuit JSON. */
  circuits: (type: string) => `agent:circuits:{${type}}`,
};
