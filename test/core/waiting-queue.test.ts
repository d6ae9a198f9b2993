import { describe, expect, it } from 'vitest';
import { agentPollSeconds, agentPools, priorityOfScore, taskPool, waitingScore } from '../../functions/core/waiting-queue';

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

describe('agentPools', () => {
  it('lists the queues an agent serves: tasks that name it, and its type with each capability', () => {
    expect(agentPools({ agent_id: 'a-1', type: 'cost', capabilities: ['analyze_cost', 'forecast'] })).toEqual([
      'a-1',
      'cost:analyze_cost',
      'cost:forecast',
    ]);
  });
});

describe('priorityOfScore', () => {
  it('gives back the priority a score was made from, whatever the age', () => {
    const at = Date.parse('2026-11-30T12:00:00.000Z');
    for (const p of [1, 5, 10, 15]) expect(priorityOfScore(waitingScore(p, at))).toBe(p);
    expect(priorityOfScore(waitingScore(1, 0))).toBe(1);
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
