/**
 * `npm run cost` on a small number of tasks, and a budget per billed unit, so a later change cannot
 * quietly make a task dearer. The budgets are TODAY'S MEASURED counts (issue 13, measured on the
 * local runtime) with a small tolerance; they are not the goal. Later work lowers them towards the
 * targets `npm run cost` prints beside its figures (happy path on Express with 1 KB parameters and
 * result: <= $8 per million tasks, <= 6 write units, <= 3 read units, <= 2.5 KB of logs; waiting:
 * <= $5 per million task-minutes). When a change lowers a count, lower its budget here with it.
 *
 * Only counts that do not depend on timing are budgeted tightly; durations (GB-seconds) and what
 * depends on them (dollars) get room for a loaded machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { NODE, ROOT } from '../../harness/processes';

interface Scenario {
  name: string;
  units: Record<string, number>;
  /** Every counter of the run, per task: `dynamodb.calls.UpdateItem` and the like. */
  perTask: Record<string, number>;
  total: number;
}

/** DynamoDB write requests per task, as measured before and after attempts_log: it rides on the attempts' writes. */
const WRITE_REQUESTS: Record<string, number> = {
  express: 4,
  standard: 4,
  retried: 6,
  large: 4,
  callback: 2,
  'accepted-1s': 5,
  'accepted-2s': 5,
};
const WRITE_CALLS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'].map((c) => `dynamodb.calls.${c}`);

/**
 * Today's counts per task (waiting: per task-minute), measured with this file's small run, plus a
 * few percent, and at least a third of a unit where one call more or less in three tasks (a status
 * read that lands before or after a write, a cache command of a retry) moves the figure by that much.
 * Lambda invocations and SQS requests allow for the starter taking 3 tasks in one batch
 * or in three (1 invocation and 2 SQS requests per batch, whatever its size). Cache commands are 27
 * per task on a quiet machine and were 29.7 in a loaded full run (a dispatch step that reads the
 * agents' liveness again when its earlier read has aged): 30.4 leaves that room.
 */
/**
 * attempts_log (issue 17) adds no DynamoDB request: measured before/after with this file's run, write
 * requests per task stayed 4 (express, standard, large), 6 (retried), 5 (accepted), 2 (callback). Its
 * entries (about 300 bytes each) make the task's item larger: write units rose by 1 per task on express,
 * standard, retried and large (the terminal write's item passes a 1 KB step), by 3 on accepted-1s/2s (the
 * lease, running and terminal writes of a 202 task each pass one), and not on callback; budgets by that much.
 */
const ATTEMPTS_LOG_WRITE_UNITS = 1;
const ATTEMPTS_LOG_ACCEPTED_WRITE_UNITS = 3;

// The agent answers 202 and reports (a third API request, the running write, the report's reads);
// the 2 s one sends no keep-alive (every 30 s), so it costs what the 1 s one does.
const ACCEPTED_BUDGET = {
  apiRequests: 3,
  expressExecutions: 1,
  standardTransitions: 0,
  writeUnits: 10.4 + ATTEMPTS_LOG_ACCEPTED_WRITE_UNITS,
  readUnits: 7,
  logKb: 2.6,
  total: 40,
};

const BUDGETS: Record<string, Record<string, number>> = {
  express: {
    apiRequests: 2,
    lambdaInvocations: 4,
    expressExecutions: 1,
    standardTransitions: 0,
    // 18 before the payload was written once and the indexes stopped moving with the status: now 6 table
    // units (payload 2, as the bench's 1 KB parameters are just over 1 KB; task 1; sent 1; completed with
    // its 1 KB result 2) and 3 index units (into `open`, out of it, into `finished`).
    writeUnits: 9.4 + ATTEMPTS_LOG_WRITE_UNITS,
    // 4 before the starter stopped reading the task: now the capability summary 1, the dispatcher's first
    // read 0.5 (eventually consistent), the payload 0.5, the chosen agent 1.
    readUnits: 3.4,
    sqsRequests: 3,
    // 31 before waiting tasks parked (the slot script no longer scans the waiters), 33 with room.
    cacheCommands: 30.4,
    // 6.4 before the state machines logged at ERROR and the empty-metrics warning went.
    logKb: 1.9,
    // Dollars include measured durations, which grow (by half, for `retried`) when the test shares the
    // machine with the rest of npm test: the counts above are the tight guard, the totals a loose one.
    total: 30,
  },
  standard: {
    apiRequests: 2,
    lambdaInvocations: 4,
    standardTransitions: 3,
    expressExecutions: 0,
    writeUnits: 9.4 + ATTEMPTS_LOG_WRITE_UNITS,
    readUnits: 3.4,
    sqsRequests: 3,
    cacheCommands: 30.4,
    logKb: 1.9,
    total: 105,
  },
  // A retry's reads depend on when its backoff ends against the other tasks' writes (7.67 was seen in
  // CI against 6.5 here), and its dollars on a slow machine's durations: more room than the others.
  retried: { lambdaInvocations: 4, writeUnits: 13.4 + ATTEMPTS_LOG_WRITE_UNITS, readUnits: 8, cacheCommands: 68, logKb: 2.6, total: 120 },
  // 63 write units before: every status change rewrote the 10 KB parameters (and the result).
  large: {
    apiRequests: 2,
    lambdaInvocations: 4,
    writeUnits: 27.4 + ATTEMPTS_LOG_WRITE_UNITS,
    readUnits: 4.4,
    sqsRequests: 3,
    cacheCommands: 30.4,
    logKb: 1.9,
    total: 60,
  },
  // Measured over a 2 s wait here (and scaled to a minute), so it moves more from run to run. A
  // parked task costs per wait, not per minute (one more execution, dispatcher step and intake
  // message, whatever the wait): a 2 s wait shows that fixed cost x 29, where polling ran one poll.
  // So its cache commands went up here (560 before; per wait: a park, a hand-over, the woken task's
  // take), while over the 60 s of `npm run cost` every count fell (about $80 -> $2.4 per million
  // task-minutes). It never adds a Standard transition while it waits.
  waiting: {
    lambdaInvocations: 31,
    expressExecutions: 16,
    standardTransitions: 0,
    writeUnits: 1,
    readUnits: 34,
    sqsRequests: 31,
    // One cache command more or less in the wait moves this by 29 (x 29, above): 708, 742, 752 and 756
    // in four runs of this file's small run at 7d4b5ed (24 to 26 commands), three over the 720 it had.
    // 790 is the most seen plus one command; polling, or a command per waiter, would add hundreds.
    cacheCommands: 790,
    // The WaitingTasks gauge (the console's and the dashboard's "waiting tasks") wrote one EMF line each time a
    // task parked or took its slot: 11.8-12.6 KB here (budget 13.5). It now writes a container's first value
    // of each minute and its new maxima only (functions/core/minute-maximum.ts), which keeps the per-minute
    // Maximum the dashboard reads: 8.65-8.69 KB in seven runs, against 7.1-7.3 KB with no gauge at all.
    // When the wait spans a minute's start (about one run in five: this file's wait is 12.5 s), the
    // waking task's gauge value is the new minute's first and goes out too: one EMF line more, 0.27 KB,
    // or 1.3 KB per task-minute over this wait: 9.94 KB (a CI run failed on it; reproduced twice by
    // starting the run so that the wait spans :00). A real one-minute wait always spans one: the line is
    // a cost of waiting, budgeted. One line per park and wake-up, as before, would be back over 11.8.
    logKb: 10,
    total: 60,
  },
  'accepted-1s': ACCEPTED_BUDGET,
  'accepted-2s': ACCEPTED_BUDGET,
  // GET /tasks/{id}?wait=1 on a task that does not end: one request, one invocation held 1 s at the
  // tasks function's 256 MB (0.25 GB-s), the read before the wait and the one after; it writes nothing
  // and starts nothing. Its cache commands (4 of its own) are counted on the server with the fleet's
  // heartbeats of that second, so they are not budgeted.
  'wait-read-1s': {
    apiRequests: 1,
    lambdaInvocations: 1,
    lambdaGbSeconds: 0.35,
    expressExecutions: 0,
    standardTransitions: 0,
    writeUnits: 0,
    readUnits: 2,
    total: 8,
  },
  // What a callback adds to the Express happy path, on this test's 3 tasks: 11 write units (7 on the
  // table: the claim and the sent write rewrite the item, and the terminal write carries the callback's
  // fields; 4 on the indexes: the callbacks entry put, moved and removed), 1 read unit, and 3 SQS requests
  // at most: its message sent, then received and deleted in batches of 3 (2.33) or one by one (3.0, as
  // in a CI run where the three tasks ended apart), as the starter's batches are above.
  callback: { apiRequests: 0, expressExecutions: 0, standardTransitions: 0, writeUnits: 11.4, readUnits: 1.4, sqsRequests: 3, total: 30 },
};

let scenarios: Scenario[];

beforeAll(async () => {
  const { stdout } = await promisify(execFile)(
    NODE,
    [
      '--disable-warning=ExperimentalWarning',
      '--import',
      'tsx',
      'bench/cost.ts',
      '--tasks',
      '3',
      '--wait-seconds',
      '2',
      '--waiting-tasks',
      '1',
      '--accepted-seconds',
      '2',
      '--read-waits',
      '1',
      '--json',
    ],
    { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
  );
  scenarios = (JSON.parse(stdout) as { scenarios: Scenario[] }).scenarios;
}, 120_000);

describe('npm run cost', () => {
  it('measures the eight scenarios and a waiting read, each with every billed unit and a price per service', () => {
    expect(scenarios.map((s) => s.name).sort()).toEqual([
      'accepted-1s',
      'accepted-2s',
      'callback',
      'express',
      'large',
      'retried',
      'standard',
      'wait-read-1s',
      'waiting',
    ]);
    for (const s of scenarios) {
      expect(s.total, s.name).toBeGreaterThan(0);
      expect(Object.keys(s.units)).toContain('indexWriteUnits');
    }
    const express = scenarios.find((s) => s.name === 'express')!;
    // Index writes are counted (dynalite does not report them): a task enters `open`, leaves it and enters `finished`.
    expect(express.units.indexWriteUnits).toBe(3);
    expect(express.units.expressExecutions).toBe(1);
  });

  it('makes no more DynamoDB write requests per task than before attempts_log', () => {
    const measured = Object.fromEntries(
      Object.keys(WRITE_REQUESTS).map((name) => {
        const perTask = scenarios.find((x) => x.name === name)!.perTask;
        return [name, WRITE_CALLS.reduce((sum, key) => sum + (perTask[key] ?? 0), 0)];
      }),
    );
    const over = Object.entries(measured).filter(([name, got]) => got > WRITE_REQUESTS[name]! + 1e-9);
    expect(over, JSON.stringify(measured)).toEqual([]);
  });

  for (const [name, budget] of Object.entries(BUDGETS)) {
    it(`keeps the ${name} scenario within today's counts`, () => {
      const s = scenarios.find((x) => x.name === name)!;
      const over = Object.entries(budget)
        .map(([unit, max]) => ({ unit, max, got: unit === 'total' ? s.total : s.units[unit]! }))
        .filter(({ got, max }) => got > max + 1e-9);
      expect(over, `over budget in ${name}: ${JSON.stringify(over)}`).toEqual([]);
    });
  }
});
