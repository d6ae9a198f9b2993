import { describe, expect, it } from 'vitest';
import {
  allowedFrom,
  canTransition,
  isTerminal,
  retryCount,
  TASK_STATUSES,
  type TaskStatus,
  TERMINAL_STATUSES,
  toStatusResponse,
} from '../../functions/core/task-model';
import { task } from '../../harness/fixtures';

const NON_TERMINAL = TASK_STATUSES.filter((s) => !(TERMINAL_STATUSES as readonly TaskStatus[]).includes(s));

describe('task status transitions', () => {
  it.each(TERMINAL_STATUSES.map((s) => [s]))('a terminal task (%s) cannot move to any status', (from) => {
    for (const to of TASK_STATUSES) expect(canTransition(from, to), `${from} -> ${to}`).toBe(false);
  });

  it('exactly completed, failed, timeout and cancelled are terminal', () => {
    expect(TASK_STATUSES.filter(isTerminal)).toEqual(['completed', 'failed', 'timeout', 'cancelled']);
  });

  it.each(TASK_STATUSES.filter((s) => s !== 'running').map((s) => [s]))('a task in %s cannot "move" to the status it already has', (s) => {
    expect(canTransition(s, s)).toBe(false);
  });

  it('a running task may be rewritten as running: the progress of an agent that accepted it', () => {
    expect(canTransition('running', 'running')).toBe(true);
  });

  it.each(NON_TERMINAL.map((s) => [s]))('a %s task can always be cancelled, failed or timed out', (from) => {
    expect(canTransition(from, 'cancelled')).toBe(true);
    expect(canTransition(from, 'failed')).toBe(true);
    expect(canTransition(from, 'timeout')).toBe(true);
  });

  const table: Array<[TaskStatus, TaskStatus, boolean]> = [
    ['pending', 'queued', true],
    ['pending', 'sent', true],
    ['pending', 'running', false],
    ['pending', 'completed', false],
    ['pending', 'retrying', false],
    ['queued', 'sent', true],
    ['queued', 'pending', false],
    ['queued', 'running', false],
    ['sent', 'running', true],
    ['sent', 'completed', true],
    ['sent', 'retrying', true],
    ['sent', 'queued', false],
    ['running', 'completed', true],
    ['running', 'retrying', true],
    ['running', 'sent', false],
    ['retrying', 'sent', true],
    ['retrying', 'running', false],
    ['retrying', 'completed', false],
    ['completed', 'running', false],
    ['cancelled', 'sent', false],
    ['failed', 'retrying', false],
    ['timeout', 'completed', false],
  ];
  it.each(table)('moving a task from %s to %s is allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});

describe('allowedFrom (the statuses a conditional write may start from)', () => {
  const table: Array<[TaskStatus, TaskStatus[]]> = [
    ['pending', []],
    ['queued', ['pending']],
    ['sent', ['pending', 'queued', 'retrying']],
    ['running', ['sent', 'running']],
    ['retrying', ['sent', 'running']],
    ['completed', ['sent', 'running']],
    ['failed', ['pending', 'queued', 'sent', 'running', 'retrying']],
    ['timeout', ['pending', 'queued', 'sent', 'running', 'retrying']],
    ['cancelled', ['pending', 'queued', 'sent', 'running', 'retrying']],
  ];
  it.each(table)('a task may become %s only from %j', (to, from) => {
    expect(allowedFrom(to)).toEqual(from);
  });

  it.each(TASK_STATUSES.map((s) => [s]))('no write to %s may start from a terminal status', (to) => {
    expect(allowedFrom(to).filter(isTerminal)).toEqual([]);
  });

  it('agrees with canTransition for every pair of statuses', () => {
    for (const to of TASK_STATUSES) {
      for (const from of TASK_STATUSES) expect(allowedFrom(to).includes(from), `${from} -> ${to}`).toBe(canTransition(from, to));
    }
  });
});

describe('retry count and the status response', () => {
  it.each([
    [0, 0],
    [1, 0],
    [2, 1],
    [4, 3],
    [11, 10],
  ])('a task with %i attempts has retry_count %i', (attempts, expected) => {
    expect(retryCount({ attempts })).toBe(expected);
    expect(toStatusResponse(task({ attempts })).retry_count).toBe(expected);
  });

  it('a fresh task answers with an empty agent_id and no optional fields', () => {
    const res = toStatusResponse(task());
    expect(res).toEqual({
      task_id: '11111111-1111-4111-8111-111111111111',
      status: 'pending',
      agent_id: '',
      task_type: 'analyze_cost',
      agent_type: 'cost',
      priority: 5,
      created_at: '2025-01-01T00:00:00.000Z',
      retry_count: 0,
      attempts: 0,
      progress: null,
      progress_message: null,
      last_progress_at: null,
    });
    for (const key of ['result', 'error', 'started_at', 'completed_at']) expect(res).not.toHaveProperty(key);
  });

  it('a finished task answers with its agent, result, error and times but not internal fields', () => {
    const res = toStatusResponse(
      task({
        status: 'completed',
        agent_id: 'agent-1',
        attempts: 2,
        result: { savings: 12 },
        error: 'first attempt failed',
        started_at: '2025-01-01T00:00:01.000Z',
        completed_at: '2025-01-01T00:00:02.000Z',
        lease_until: 123,
        failed_agents: ['agent-0'],
        requested_agent_id: 'agent-1',
      }),
    );
    expect(res).toMatchObject({
      status: 'completed',
      agent_id: 'agent-1',
      retry_count: 1,
      attempts: 2,
      result: { savings: 12 },
      error: 'first attempt failed',
      started_at: '2025-01-01T00:00:01.000Z',
      completed_at: '2025-01-01T00:00:02.000Z',
    });
    for (const key of ['lease_until', 'failed_agents', 'requested_agent_id', 'parameters', 'metadata', 'updated_at'])
      expect(res).not.toHaveProperty(key);
  });

  it.each([[null], [0], [false], ['']])('a falsy result (%j) is still returned', (result) => {
    expect(toStatusResponse(task({ status: 'completed', attempts: 1, result }))).toHaveProperty('result', result);
  });
});
