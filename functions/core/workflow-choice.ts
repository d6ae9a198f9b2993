import { backoffCeilingSeconds } from './retry-policy';
import { syncWaitSeconds, type Task } from './task-model';

export type WorkflowKind = 'express' | 'standard';
/** `auto` runs short tasks on Express and hands them to Standard if they outgrow it; `standard` runs all on Standard. */
export type WorkflowMode = 'auto' | 'standard';

/** Express executions end after 5 minutes; the orchestrator keeps this much clear of that. */
export const EXPRESS_LIMIT_SECONDS = 300;
export const EXPRESS_SAFETY_SECONDS = 30;
/** Time one dispatch step may take beyond the attempt timeout (selection, lease, recording). */
export const STEP_OVERHEAD_SECONDS = 20;

/**
 * The longest a task's attempts and retry delays can take inside an execution, leaving out time spent
 * waiting for a free agent. An attempt waits at most the sync wait for its agent's answer: one that
 * accepts (202) ends the execution, and its retry starts another.
 */
export function worstCaseRunSeconds(task: Pick<Task, 'timeout_seconds' | 'max_retries'>, retryBaseDelaySeconds: number): number {
  let total = 0;
  for (let attempt = 1; attempt <= task.max_retries + 1; attempt++) {
    total += syncWaitSeconds(task) + STEP_OVERHEAD_SECONDS;
    // The jittered wait is at most the ceiling; an agent's Retry-After beyond it triggers a hand-over.
    if (attempt <= task.max_retries) total += backoffCeilingSeconds(attempt, retryBaseDelaySeconds);
  }
  return total;
}

/**
 * Express costs about a tenth of Standard but ends at 5 minutes. A task goes to Express when all of
 * its attempts and retry delays fit with room to spare; if waiting for agents later eats that room,
 * the dispatcher hands it over to a Standard execution (see `mustHandOver`).
 */
export function chooseWorkflow(
  task: Pick<Task, 'timeout_seconds' | 'max_retries'>,
  mode: WorkflowMode,
  retryBaseDelaySeconds: number,
): WorkflowKind {
  if (mode === 'standard') return 'standard';
  return worstCaseRunSeconds(task, retryBaseDelaySeconds) <= EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS ? 'express' : 'standard';
}

/**
 * Whether an Express execution must give the task to Standard rather than sleep `delaySeconds` and
 * then run a dispatch step that may take `stepSeconds`.
 */
export function mustHandOver(expressDeadlineMs: number | undefined, nowMs: number, delaySeconds: number, stepSeconds: number): boolean {
  if (expressDeadlineMs === undefined) return false;
  return nowMs + (delaySeconds + stepSeconds) * 1000 > expressDeadlineMs;
}
