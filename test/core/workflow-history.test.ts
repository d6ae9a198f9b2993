import { describe, expect, it } from 'vitest';
import {
  HISTORY_EVENTS_PER_LOOP,
  historyEventsBound,
  historyEventsPerLoop,
  mustContinueAsNew,
  STANDARD_HISTORY_LIMIT,
  DEFAULT_HISTORY_BUDGET,
} from '../../functions/core/workflow-history';

describe('the history budget of a Standard execution', () => {
  it('counts a Task state by its invocations (retries included), a Choice or Wait by two events, and no end state', () => {
    expect(
      historyEventsPerLoop({
        Step: { Type: 'Task', Retry: [{ MaxAttempts: 5 }, {}] },
        Plain: { Type: 'Task' },
        Route: { Type: 'Choice' },
        Pause: { Type: 'Wait' },
        Done: { Type: 'Succeed' },
        Stranded: { Type: 'Fail' },
      }),
    ).toBe(2 + 3 * (1 + 5 + 3) + 2 + 3 + 2 + 2);
  });

  it.each([
    // [loop, budget, hand over?]: with 58 events a pass and 4 outside them, 200 events allow three passes.
    [1, 200, false],
    [2, 200, false],
    [3, 200, true],
    [1, 100, false],
    [2, 100, true],
  ])('in pass %i with a budget of %i events, hands over: %s', (loop, budget, expected) => {
    expect(mustContinueAsNew(loop, budget, 58)).toBe(expected);
  });

  it('hands over in time: the pass that hands over still ends within the budget, and the default stays clear of the limit', () => {
    for (const budget of [200, 1_000, DEFAULT_HISTORY_BUDGET, STANDARD_HISTORY_LIMIT]) {
      let loop = 1;
      while (!mustContinueAsNew(loop, budget)) loop++;
      expect(historyEventsBound(loop), `budget ${budget}`).toBeLessThanOrEqual(budget);
    }
    expect(historyEventsBound(Math.floor(DEFAULT_HISTORY_BUDGET / HISTORY_EVENTS_PER_LOOP))).toBeLessThan(STANDARD_HISTORY_LIMIT);
  });
});
