import { describe, expect, it } from 'vitest';
import { workflowInput } from '../../functions/app/start-task';
import { chooseWorkflow, EXPRESS_LIMIT_SECONDS, mustHandOver, worstCaseRunSeconds } from '../../functions/core/workflow-choice';

describe('choosing Express or Standard', () => {
  it.each([
    [{ timeout_seconds: 30, max_retries: 3 }, 'express'],
    [{ timeout_seconds: 5, max_retries: 0 }, 'express'],
    [{ timeout_seconds: 60, max_retries: 3 }, 'standard'],
    [{ timeout_seconds: 300, max_retries: 0 }, 'standard'],
    [{ timeout_seconds: 10, max_retries: 10 }, 'standard'],
  ] as const)('a task with %o runs on %s in auto mode', (task, kind) => {
    expect(chooseWorkflow(task, 'auto', 5)).toBe(kind);
  });

  it('puts everything on Standard in standard mode', () => {
    expect(chooseWorkflow({ timeout_seconds: 1, max_retries: 0 }, 'standard', 5)).toBe('standard');
  });

  it('counts every attempt with its step overhead and every retry delay', () => {
    // 4 attempts of 30 + 20 s, delays 5 + 10 + 20 s.
    expect(worstCaseRunSeconds({ timeout_seconds: 30, max_retries: 3 }, 5)).toBe(4 * 50 + 35);
  });

  it('counts an attempt of a long task as the 300 s the dispatcher waits for its HTTP answer (an accepted one ends the execution)', () => {
    expect(worstCaseRunSeconds({ timeout_seconds: 43_200, max_retries: 0 }, 5)).toBe(300 + 20);
    expect(workflowInput({ task_id: 't', timeout_seconds: 43_200 }, 'standard', 0)).toEqual({ task_id: 't', state_timeout_seconds: 320 });
  });

  it('chooses Express only when the worst case stays clear of the 5-minute limit', () => {
    const task = { timeout_seconds: 30, max_retries: 3 };
    expect(worstCaseRunSeconds(task, 5)).toBeLessThan(EXPRESS_LIMIT_SECONDS);
  });
});

describe('handing an Express execution over to Standard', () => {
  const now = 1_000_000;
  it('never hands over a Standard execution (no deadline)', () => {
    expect(mustHandOver(undefined, now, 60, 320)).toBe(false);
  });
  it('hands over when the wait and the next step would pass the deadline', () => {
    expect(mustHandOver(now + 50_000, now, 2, 50)).toBe(true);
  });
  it('keeps going when they fit', () => {
    expect(mustHandOver(now + 100_000, now, 2, 50)).toBe(false);
  });
});
