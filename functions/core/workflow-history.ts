/**
 * Step Functions fails a Standard execution that reaches 25 000 history events. A task that loops
 * long enough (retries, or waiting for a free agent while the cache is down, a step every
 * AGENT_POLL_SECONDS) would get there, so an execution that nears a budget of events hands its task
 * to a fresh execution instead. The events are counted, not read: each step carries the number of
 * its pass through the loop, and a pass writes at most HISTORY_EVENTS_PER_LOOP events.
 */

/** The hard limit of AWS: past it the execution fails. */
export const STANDARD_HISTORY_LIMIT = 25_000;
/** Events an execution may reach before it hands over (WORKFLOW_HISTORY_BUDGET), well clear of the limit. */
export const DEFAULT_HISTORY_BUDGET = 20_000;

/**
 * The most events one pass through the loop writes: Dispatch and, when it fails, RecordFault, each
 * with every retry of its Retry list spent, then Route and one Wait. Derived from the deployed
 * definition by `historyEventsPerLoop` (test/infra/orchestrator-stack.test.ts holds this to it, and
 * test/integration/workflow-limits.test.ts to what the local engine records).
 */
export const HISTORY_EVENTS_PER_LOOP = 58;

/** ExecutionStarted, and at the end SucceedStateEntered, SucceedStateExited and ExecutionSucceeded. */
const EVENTS_OUTSIDE_LOOPS = 4;

/** The most events an execution has written once it has made `loops` passes and ended. */
export function historyEventsBound(loops: number, eventsPerLoop = HISTORY_EVENTS_PER_LOOP): number {
  return EVENTS_OUTSIDE_LOOPS + loops * eventsPerLoop;
}

/**
 * Whether the pass `loop` (1 for the execution's first) must hand the task to a fresh execution
 * rather than run its step: it does once one more pass could take the execution past `budget`, so
 * that handing over in that pass still stays within it. The first pass always runs its step.
 */
export function mustContinueAsNew(loop: number, budget: number, eventsPerLoop = HISTORY_EVENTS_PER_LOOP): boolean {
  return loop > 1 && historyEventsBound(loop + 1, eventsPerLoop) > budget;
}

type AslState = { Type?: string; Retry?: Array<{ MaxAttempts?: number }> };

/**
 * The most history events one pass through a loop of `states` writes, when a pass enters each state
 * at most once (true of the task workflow: Dispatch, RecordFault, Route, one of the two Waits). A
 * Task state writes Entered and Exited, and Scheduled, Started and an outcome per invocation: one,
 * plus each retry its retriers allow (MaxAttempts defaults to 3). Choice, Wait and Pass write Entered
 * and Exited; Succeed and Fail end the execution and are counted outside the loop.
 */
export function historyEventsPerLoop(states: Record<string, AslState>): number {
  let events = 0;
  for (const state of Object.values(states)) {
    if (state.Type === 'Task') {
      const retries = (state.Retry ?? []).reduce((sum, r) => sum + (r.MaxAttempts ?? 3), 0);
      events += 2 + 3 * (1 + retries);
    } else if (state.Type === 'Choice' || state.Type === 'Wait' || state.Type === 'Pass') {
      events += 2;
    }
  }
  return events;
}
