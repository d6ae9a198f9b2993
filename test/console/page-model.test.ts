/** What the console page makes of the API's answers: the attempts timeline, the task filters, routes and the submit body. */
import type { AttemptLogEntry, TaskView } from '@optiinfra/contract';
import { describe, expect, it } from 'vitest';
import { filterByAgent, NO_FILTERS, tasksPath } from '../../packages/console/app/filters';
import { hrefOf, routeOf } from '../../packages/console/app/route';
import { EMPTY_DRAFT, submitBody } from '../../packages/console/app/submit-body';
import { timelineOf } from '../../packages/console/app/timeline';

const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const AGENT_A = '0672d1bc-79e8-50ab-856b-593383098055';
const AGENT_B = 'c5752658-ecb1-59f5-8cc5-ff003ad71f45';

const attempt = (n: number, over: Partial<AttemptLogEntry>): AttemptLogEntry => ({
  attempt: n,
  agent_id: AGENT_A,
  agent_name: 'cost-agent-1',
  reason: 'least loaded of 2 eligible agents',
  started_at: '2026-12-02T09:59:00.000Z',
  ...over,
});

describe('timelineOf', () => {
  it('lists a failing task three attempts in order, each with its outcome, latency, error and the wait before it', () => {
    const log = [
      attempt(3, {
        started_at: '2026-12-02T09:59:10.000Z',
        ended_at: '2026-12-02T09:59:10.050Z',
        outcome: 'unreachable',
        latency_ms: 50,
        error: 'connect ECONNREFUSED',
      }),
      attempt(1, {
        ended_at: '2026-12-02T09:59:01.200Z',
        outcome: 'http_error',
        http_status: 503,
        latency_ms: 1200,
        error: 'HTTP 503 from the agent',
      }),
      attempt(2, {
        agent_id: AGENT_B,
        agent_name: 'cost-agent-2',
        started_at: '2026-12-02T09:59:03.200Z',
        ended_at: '2026-12-02T09:59:08.200Z',
        outcome: 'timeout',
        latency_ms: 5000,
        error: 'no answer within 5 s',
      }),
    ];
    expect(timelineOf(log, NOW)).toEqual([
      {
        attempt: 1,
        outcome: 'http_error',
        outcomeText: 'HTTP 503',
        tone: 'bad',
        agentName: 'cost-agent-1',
        agentId: AGENT_A,
        reason: 'least loaded of 2 eligible agents',
        started: '09:59:00',
        ended: '09:59:01',
        latency: '1.2 s',
        error: 'HTTP 503 from the agent',
      },
      {
        attempt: 2,
        outcome: 'timeout',
        outcomeText: 'timed out',
        tone: 'bad',
        agentName: 'cost-agent-2',
        agentId: AGENT_B,
        reason: 'least loaded of 2 eligible agents',
        started: '09:59:03',
        ended: '09:59:08',
        latency: '5.0 s',
        waitedBefore: '2.0 s',
        error: 'no answer within 5 s',
      },
      {
        attempt: 3,
        outcome: 'unreachable',
        outcomeText: 'unreachable (connection refused or broken)',
        tone: 'bad',
        agentName: 'cost-agent-1',
        agentId: AGENT_A,
        reason: 'least loaded of 2 eligible agents',
        started: '09:59:10',
        ended: '09:59:10',
        latency: '50 ms',
        waitedBefore: '1.8 s',
        error: 'connect ECONNREFUSED',
      },
    ]);
  });

  it('shows an attempt in flight with the time so far, and one accepted (202) with when it was', () => {
    const [running] = timelineOf([attempt(1, { started_at: '2026-12-02T09:59:57.000Z' })], NOW);
    expect(running).toMatchObject({ outcome: 'in_flight', tone: 'active', outcomeText: 'in flight for 3.0 s', latency: '3.0 s' });
    expect(running).not.toHaveProperty('ended');
    const [accepted] = timelineOf([attempt(1, { accepted_at: '2026-12-02T09:59:00.300Z' })], NOW);
    expect(accepted?.outcomeText).toBe('accepted at 09:59:00, running for 1 m 00 s');
  });

  it('names every outcome the contract has, and colours a completed attempt apart from a cancelled one', () => {
    const rows = timelineOf(
      [
        attempt(1, { outcome: 'completed', ended_at: '2026-12-02T09:59:01.000Z' }),
        attempt(2, { outcome: 'cancelled' }),
        attempt(3, { outcome: 'lost' }),
        attempt(4, { outcome: 'interrupted' }),
        attempt(5, { outcome: 'failed' }),
        attempt(6, { outcome: 'http_error' }),
      ],
      NOW,
    );
    expect(rows.map((r) => [r.outcomeText, r.tone])).toEqual([
      ['completed', 'ok'],
      ['cancelled', 'muted'],
      ['lost (the agent stopped reporting)', 'bad'],
      ['interrupted (the orchestrator lost the attempt)', 'bad'],
      ['failed (the agent reported a failure)', 'bad'],
      ['HTTP error', 'bad'],
    ]);
  });

  it('is empty for a task with no attempt yet (or an answer without attempts_log)', () => {
    expect(timelineOf(undefined, NOW)).toEqual([]);
    expect(timelineOf([], NOW)).toEqual([]);
  });
});

describe('task filters', () => {
  it('asks the API for status and agent type, and for its largest page', () => {
    expect(tasksPath(NO_FILTERS)).toBe('/tasks?limit=100');
    expect(tasksPath({ status: 'failed', type: ' cost ', agent: 'ignored by the API' })).toBe(
      '/tasks?limit=100&status=failed&agent_type=cost',
    );
  });

  it('narrows the loaded rows to an agent by part of its id or of its name, in any case', () => {
    const task = (id: string, agent_id: string, requested_agent_id?: string) =>
      ({ task_id: id, agent_id, ...(requested_agent_id ? { requested_agent_id } : {}) }) as TaskView;
    const tasks = [task('t1', AGENT_A), task('t2', AGENT_B), task('t3', ''), task('t4', '', AGENT_B)];
    const agents = [
      { id: AGENT_A, name: 'cost-agent-1' },
      { id: AGENT_B, name: 'Cost-Agent-2' },
    ];
    const ids = (text: string) => filterByAgent(tasks, text, agents).map((t) => t.task_id);
    expect(ids('')).toEqual(['t1', 't2', 't3', 't4']);
    expect(ids('agent-2')).toEqual(['t2']);
    expect(ids('COST-AGENT')).toEqual(['t1', 't2']);
    expect(ids('c5752658')).toEqual(['t2', 't4']);
    expect(ids('nobody')).toEqual([]);
  });
});

describe('routes', () => {
  it.each([
    ['', { page: 'tasks' }],
    ['#/tasks', { page: 'tasks' }],
    ['#/tasks/abc-1', { page: 'task', id: 'abc-1' }],
    ['#/agents', { page: 'agents' }],
    ['#/metrics', { page: 'metrics' }],
    ['#/submit', { page: 'submit' }],
    ['#/nowhere', { page: 'tasks' }],
  ])('reads %s', (hash, route) => {
    expect(routeOf(hash)).toEqual(route);
    if (hash.startsWith('#/') && route.page !== 'tasks') expect(hrefOf(routeOf(hash))).toBe(hash);
  });
});

describe('submitBody', () => {
  const draft = { ...EMPTY_DRAFT, agentType: ' cost ', action: 'analyze_cost' };

  it('leaves empty number fields out, so the API applies its defaults', () => {
    expect(submitBody(draft)).toEqual({ body: { agent_type: 'cost', task_type: 'analyze_cost', parameters: {} } });
  });

  it('sends the numbers typed, for the API to check', () => {
    expect(submitBody({ ...draft, parameters: '{"account_id":"123"}', priority: '10', maxRetries: '0', timeout: '5' })).toEqual({
      body: {
        agent_type: 'cost',
        task_type: 'analyze_cost',
        parameters: { account_id: '123' },
        priority: 10,
        max_retries: 0,
        timeout_seconds: 5,
      },
    });
  });

  it('says what is wrong with parameters that are not a JSON object, before sending anything', () => {
    expect(submitBody({ ...draft, parameters: '{oops' })).toEqual({
      problem: expect.stringMatching(/^parameters must be a JSON object such as \{"account_id": "123"\}: /),
    });
    expect(submitBody({ ...draft, parameters: '[1]' })).toEqual({
      problem: 'parameters must be a JSON object such as {"account_id": "123"}',
    });
  });
});
