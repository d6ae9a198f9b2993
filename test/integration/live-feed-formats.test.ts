/**
 * `npm start -- --log-format json` writes JSON lines only (every line of its output parses, the
 * feed's and the handlers' Powertools lines included), and `--quiet` prints no task lines while start-up still does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

let json: LocalOrchestrator;
let quiet: LocalOrchestrator;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  [json, quiet] = await Promise.all([
    // At DEBUG the handlers log every start and step: their Powertools lines must be JSON lines of the same shape too.
    startLocalOrchestrator({ LOG_LEVEL: 'DEBUG' }, ['--no-agents', '--log-format', 'json']),
    startLocalOrchestrator({}, ['--no-agents', '--quiet']),
  ]);
  agents.push(
    ...(await Promise.all([
      startFaultAgent(json.url, { mode: 'ok', type: 'feed-json', name: 'feed-json-agent' }),
      startFaultAgent(quiet.url, { mode: 'ok', type: 'feed-quiet', name: 'feed-quiet-agent' }),
    ])),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all([json?.dispose(), quiet?.dispose()]);
});

async function runTask(orch: LocalOrchestrator, agentType: string): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'work', agent_type: agentType });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect((await waitForTask(orch.url, res.body.task_id, isTerminal)).status).toBe('completed');
  return res.body.task_id;
}

describe.concurrent('log formats', () => {
  it('--log-format json: every line is one JSON object with time, level, source and event, the feed included', async () => {
    const id = await runTask(json, 'feed-json');
    await json.proc.waitFor(new RegExp(`"event":"completed","subject":"${id}"`), 10_000);
    const lines = json.proc.output().split('\n').filter(Boolean);
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
    for (const r of records) expect(Object.keys(r).slice(0, 4)).toEqual(['time', 'level', 'source', 'event']);
    expect(records).toContainEqual(
      expect.objectContaining({ source: 'orchestrator', event: 'log', message: 'ready. Ctrl-C stops everything.' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ source: 'orchestrator', message: expect.stringMatching(/^API {7}http:\/\/127\.0\.0\.1:\d+/) }),
    );
    expect(records).toContainEqual(expect.objectContaining({ source: 'agent', event: 'registered', name: 'feed-json-agent' }));
    expect(records).toContainEqual(expect.objectContaining({ level: 'debug', source: 'DispatcherFunction', event: 'log' }));
    const feed = records.filter((r) => r.task_id === id && r.source === 'task');
    expect(feed.map((r) => r.event)).toEqual(['accepted', 'dispatched', 'completed']);
    expect(feed[2]).toMatchObject({ level: 'info', source: 'task', attempts: 1, duration_ms: expect.any(Number) });
  });

  it('--quiet: the start-up lines, no task or agent lines', async () => {
    const id = await runTask(quiet, 'feed-quiet');
    const out = quiet.proc.output();
    expect(out).toMatch(/orchestrator {2}ready\. Ctrl-C stops everything\./);
    expect(out).toMatch(/orchestrator {2}API {7}http:\/\/127\.0\.0\.1:\d+/);
    expect(out).not.toContain(id);
    expect(out).not.toMatch(/^\S+ {2}(task|agent) /m);
  });
});
