/**
 * The local runtime's line format (local/feed): recorded activity events and plain lines rendered
 * as text without and with colour, and as JSON lines; --quiet; the agents' derived-health changes
 * the watcher reports; a handler's Powertools line in the same format.
 */
import { describe, expect, it, vi } from 'vitest';
import { onLogLine } from '../../functions/composition/log-hook';
import { logger } from '../../functions/composition/observability';
import type { ActivityEvent } from '../../functions/core/activity';
import { agentChanges, type WatchedAgent } from '../../local/feed/agent-watch';
import { formatDuration } from '../../local/feed/activity-record';
import { handlerRecord } from '../../local/feed/handler-record';
import { createLogOutput, wantsColour } from '../../local/feed/log-output';
import { parseLogFormat } from '../../local/feed/log-record';

const T0 = Date.parse('2026-06-15T03:41:07.123Z');
const TASK = '3f2a9c1e-0000-4000-8000-000000000001';
const AGENT = '5458abed-d29b-5984-be90-508ba46c85b3';

/** What the use cases emit for one task that fails once, then completes; and an agent's life. */
const EVENTS: ActivityEvent[] = [
  {
    kind: 'agent',
    event: 'registered',
    agent_id: AGENT,
    name: 'cost-agent-1',
    type: 'cost',
    capabilities: ['analyze_cost'],
    url: 'http://127.0.0.1:8001',
  },
  { kind: 'task', event: 'accepted', task_id: TASK, task_type: 'analyze_cost', agent_type: 'cost', priority: 5 },
  {
    kind: 'task',
    event: 'dispatched',
    task_id: TASK,
    attempt: 1,
    agent_id: AGENT,
    agent_name: 'cost-agent-1',
    reason: 'least loaded of 1 eligible agent (0 of 4 slots in use before this task)',
  },
  { kind: 'task', event: 'retrying', task_id: TASK, attempt: 1, error: 'HTTP 500: disk full', delay_seconds: 5 },
  { kind: 'task', event: 'completed', task_id: TASK, attempts: 2, duration_ms: 6_420 },
  { kind: 'agent', event: 'circuit_open', agent_id: AGENT, name: 'cost-agent-1', type: 'cost' },
];

function capture(options: { format: 'text' | 'json'; quiet?: boolean; colour?: boolean }) {
  const lines: string[] = [];
  let now = T0;
  const output = createLogOutput({
    ...options,
    utc: true,
    stream: { write: (text: string) => lines.push(...text.split('\n').filter(Boolean)) },
    now: () => (now += 1),
  });
  return { output, lines };
}

describe('text lines', () => {
  it('one line per event: time, source, subject, event, details; plain lines under their source, warnings with their level', () => {
    const { output, lines } = capture({ format: 'text', colour: false });
    output.line('orchestrator', 'API       http://127.0.0.1:8080  (try: curl http://127.0.0.1:8080/health)');
    for (const event of EVENTS) output.activity(event);
    output.logger('cost-agent-1').warn('heartbeat failed: connect ECONNREFUSED');

    expect(lines).toEqual([
      '03:41:07.124  orchestrator  API       http://127.0.0.1:8080  (try: curl http://127.0.0.1:8080/health)',
      '03:41:07.125  agent         cost-agent-1  registered  type cost (analyze_cost) on http://127.0.0.1:8001',
      `03:41:07.126  task          ${TASK}  accepted    analyze_cost for a cost agent, priority 5`,
      `03:41:07.127  task          ${TASK}  dispatched  attempt 1 → cost-agent-1: least loaded of 1 eligible agent (0 of 4 slots in use before this task)`,
      `03:41:07.128  task          ${TASK}  retrying    attempt 1 failed, next in 5 s: HTTP 500: disk full`,
      `03:41:07.129  task          ${TASK}  completed   in 6.4 s (2 attempts)`,
      '03:41:07.130  agent         cost-agent-1  circuit open  circuit open: too many failed dispatches, out of rotation until a probe succeeds',
      '03:41:07.131  cost-agent-1  WARN  heartbeat failed: connect ECONNREFUSED',
    ]);
  });

  it('the same words in colour on a terminal, each event in its own colour', () => {
    const plain = capture({ format: 'text', colour: false });
    const coloured = capture({ format: 'text', colour: true });
    for (const event of EVENTS) {
      plain.output.activity(event);
      coloured.output.activity(event);
    }
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');
    expect(coloured.lines.map((l) => l.replace(ansi, ''))).toEqual(plain.lines);
    expect(coloured.lines.find((l) => l.includes('completed'))).toContain('\u001b[32mcompleted');
    expect(coloured.lines.find((l) => l.includes('retrying'))).toContain('\u001b[33mretrying');
    expect(plain.lines.join('\n')).not.toMatch(ansi);
  });

  it('colour only on a TTY, and never with NO_COLOR set', () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
  });

  it('durations read as a person says them', () => {
    expect([357, 4_500, 125_000].map(formatDuration)).toEqual(['357 ms', '4.5 s', '2 min 5 s']);
  });
});

describe('JSON lines', () => {
  it('every line one JSON object: time, level, source, event, then the event fields', () => {
    const { output, lines } = capture({ format: 'json' });
    output.line('orchestrator', 'ready. Ctrl-C stops everything.');
    for (const event of EVENTS) output.activity(event);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);

    expect(parsed[0]).toEqual({
      time: '2026-06-15T03:41:07.124Z',
      level: 'info',
      source: 'orchestrator',
      event: 'log',
      message: 'ready. Ctrl-C stops everything.',
    });
    expect(parsed[3]).toEqual({
      time: '2026-06-15T03:41:07.127Z',
      level: 'info',
      source: 'task',
      event: 'dispatched',
      subject: TASK,
      message: 'attempt 1 → cost-agent-1: least loaded of 1 eligible agent (0 of 4 slots in use before this task)',
      task_id: TASK,
      attempt: 1,
      agent_id: AGENT,
      agent_name: 'cost-agent-1',
      reason: 'least loaded of 1 eligible agent (0 of 4 slots in use before this task)',
    });
    expect(parsed.map((p) => [p.source, p.event, p.level])).toEqual([
      ['orchestrator', 'log', 'info'],
      ['agent', 'registered', 'info'],
      ['task', 'accepted', 'info'],
      ['task', 'dispatched', 'info'],
      ['task', 'retrying', 'warn'],
      ['task', 'completed', 'info'],
      ['agent', 'circuit_open', 'warn'],
    ]);
  });

  it('the format is text or json, and a wrong one is refused with what is accepted', () => {
    expect([undefined, '', 'text', 'JSON'].map((v) => parseLogFormat(v))).toEqual(['text', 'text', 'text', 'json']);
    expect(() => parseLogFormat('xml')).toThrow('--log-format (or LOG_FORMAT) must be text or json, got "xml"');
  });
});

describe('--quiet', () => {
  it('drops the feed, keeps plain lines and warnings', () => {
    const { output, lines } = capture({ format: 'text', quiet: true, colour: false });
    for (const event of EVENTS) output.activity(event);
    output.line('orchestrator', 'ready. Ctrl-C stops everything.');
    output.logger('cost-agent-1').error('gave up');
    expect(lines).toEqual(['03:41:07.124  orchestrator  ready. Ctrl-C stops everything.', '03:41:07.125  cost-agent-1  ERROR  gave up']);
  });
});

describe("the agents' derived health", () => {
  const agent = (id: string, status: string): WatchedAgent => ({ id, name: `agent-${id}`, type: 'cost', status });
  const known = (...agents: WatchedAgent[]) => new Map(agents.map((a) => [a.id, a]));

  it('reports unhealthy, healthy again and forgotten; registering and draining are the use cases’ to report', () => {
    const before = known(agent('a', 'healthy'), agent('b', 'unhealthy'), agent('c', 'healthy'), agent('d', 'healthy'));
    const now = [agent('a', 'unhealthy'), agent('b', 'healthy'), agent('d', 'draining'), agent('e', 'healthy')];
    expect(agentChanges(before, now).map((e) => [e.event, e.agent_id])).toEqual([
      ['unhealthy', 'a'],
      ['healthy', 'b'],
      ['forgotten', 'c'],
    ]);
    expect(agentChanges(known(...now), now)).toEqual([]);
  });
});

describe("a handler's Powertools line", () => {
  it('is a line of the same format: the function as its source, its level, message and own fields, not the Lambda context', () => {
    const attributes = {
      level: 'WARN',
      message: 'dependency unavailable',
      timestamp: '2026-06-15T03:41:07.123Z',
      service: 'optiinfra-orchestrator',
      cold_start: true,
      function_name: 'TasksFunction3B2A9C1E',
      function_request_id: 'r-1',
      xray_trace_id: 'x',
      cause: 'ECONNREFUSED',
    };
    const record = handlerRecord(attributes, T0);
    expect(record).toEqual({
      time: T0,
      level: 'warn',
      source: 'TasksFunction',
      event: 'log',
      message: 'dependency unavailable',
      fields: { cause: 'ECONNREFUSED' },
    });
    const { output, lines } = capture({ format: 'text', colour: false });
    output.write(record);
    expect(lines).toEqual(['03:41:07.123  TasksFunction  WARN  dependency unavailable {"cause":"ECONNREFUSED"}']);
  });
});

describe("the handlers' logger", () => {
  it("prints Powertools' own JSON with no sink (as on Lambda), and hands the line to the local runtime's sink when it set one", () => {
    // Powertools writes through a Console on process.stdout and stderr (warnings): captured to see the bytes.
    const printed: string[] = [];
    const capture = (chunk: string | Uint8Array) => printed.push(String(chunk)) > 0;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const sunk: Array<Record<string, unknown>> = [];
    try {
      logger.warn({ message: 'first', extra: 1 });
      onLogLine((attributes) => sunk.push(attributes));
      logger.warn({ message: 'second', extra: 2 });
    } finally {
      onLogLine(undefined);
      out.mockRestore();
      err.mockRestore();
    }
    expect(printed).toHaveLength(1);
    expect(JSON.parse(printed[0]!)).toMatchObject({ level: 'WARN', message: 'first', extra: 1, service: expect.any(String) });
    expect(sunk).toEqual([expect.objectContaining({ level: 'WARN', message: 'second', extra: 2 })]);
  });
});
