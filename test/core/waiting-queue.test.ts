import { describe, expect, it } from 'vitest';
import { agentPollSeconds, taskPool, waiterStaleMs, waitingScore } from '../../functions/core/waiting-queue';

describe('waitingScore', () => {
  const at = Date.parse('2026-11-30T12:00:00.000Z');

  it('serves a higher priority first, however long a lower one has waited', () => {
    expect(waitingScore(15, at + 86_400_000)).toBeLessThan(waitingScore(14, at));
    expect(waitingScore(2, Date.parse('2286-01-01T00:00:00.000Z'))).toBeLessThan(waitingScore(1, 0));
  });

  it('serves the older of two tasks of one priority first', () => {
    expect(waitingScore(5, at)).toBeLessThan(waitingScore(5, at + 1));
  });

  it('keeps the score the queue has always used, so tasks queued before an upgrade keep their place', () => {
    expect(waitingScore(5, at)).toBe(11 * 1e13 + at);
  });
});

describe('taskPool', () => {
  it('queues a task that names an agent behind that agent only, others by type and capability', () => {
    expect(taskPool({ agent_type: 'cost', task_type: 'analyze_cost' })).toBe('cost:analyze_cost');
    expect(taskPool({ agent_type: 'cost', task_type: 'analyze_cost', requested_agent_id: 'a-1' })).toBe('a-1');
  });
});

describe('waiterStaleMs', () => {
  it('drops a waiter after three missed polls of the slowest (lowest-priority) interval, plus slack', () => {
    expect(waiterStaleMs(2)).toBe(3 * 2_000 + 5_000);
    expect(waiterStaleMs(1)).toBe(3 * 1_000 + 5_000);
  });
});

describe('agentPollSeconds', () => {
  it.each([
    [1, 10, 10],
    [5, 10, 10],
    [9, 10, 10],
    [10, 10, 5],
    [15, 10, 5],
    [10, 3, 2],
    [15, 1, 1],
    [5, 0, 1],
    [5, 0.2, 1],
    [5, 2.6, 3],
  ])('priority %i with a %f-second base polls every %i seconds', (priority, base, expected) => {
    expect(agentPollSeconds(priority, base)).toBe(expected);
  });
});
