/**
 * The live feed of `npm start` (a real process, with its two example cost agents): the agents
 * registering, a task's accepted → dispatched → completed lines, a failing task's retrying lines
 * and its failure, and an agent that stops heartbeating turning unhealthy. Text format, no TTY:
 * so no colour either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { freePort } from '../../harness/processes';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
const agents: AgentProcess[] = [];
const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

beforeAll(async () => {
  orch = await startLocalOrchestrator({ HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_PERSIST_SECONDS: '1' }, []);
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

/** The feed's lines about `subject`, as `event` names in order. */
function eventsOf(subject: string): string[] {
  const line = new RegExp(String.raw`^${TIME}  (?:task|agent) +${subject}  (\S+(?: open| closed)?)`, 'gm');
  return [...orch.proc.output().matchAll(line)].map((m) => m[1]!);
}

describe.concurrent('the live feed', () => {
  it('shows both example agents registering, in the one text format, without colour off a terminal', async () => {
    await orch.proc.waitFor(/agent +cost-agent-2 {2}registered/, 30_000);
    const out = orch.proc.output();
    expect(out).toMatch(
      new RegExp(
        String.raw`^${TIME}  agent {9}cost-agent-1  registered  type cost \(analyze_cost, migrate_to_spot, right_size\) on http://127\.0\.0\.1:\d+$`,
        'm',
      ),
    );
    expect(out).toMatch(new RegExp(String.raw`^${TIME}  orchestrator  ready\. Ctrl-C stops everything\.$`, 'm'));
    expect(out).not.toContain('\u001b[');
    expect(out).not.toContain('[orchestrator]');
  });

  it('shows a task accepted, dispatched with its routing reason, and completed with its duration', async () => {
    const id = await submit({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: 'feed' } });
    await orch.proc.waitFor(new RegExp(`task +${id}  completed`), 30_000);
    expect(eventsOf(id)).toEqual(['accepted', 'dispatched', 'completed']);
    const out = orch.proc.output();
    expect(out).toMatch(
      new RegExp(`task +${id}  dispatched  attempt 1 → cost-agent-[12]: least loaded of \\d eligible agents? \\(\\d+ of \\d+ slots`),
    );
    expect(out).toMatch(new RegExp(`task +${id}  completed   in [\\d.]+ m?s \\(1 attempt\\)`));
  });

  it('shows a failing task retrying, with why, then failed with its last error', async () => {
    const name = 'feed-flaky-agent';
    const flaky = await startFaultAgent(orch.url, { mode: 'fail500', type: 'feed-flaky', name });
    agents.push(flaky);
    const id = await submit({ task_type: 'work', agent_type: 'feed-flaky', max_retries: 2, retry_delay_seconds: 1 });
    expect((await waitForTask(orch.url, id, isTerminal)).status).toBe('failed');
    await orch.proc.waitFor(new RegExp(`task +${id}  failed`), 10_000);
    expect(eventsOf(id)).toEqual(['accepted', 'dispatched', 'retrying', 'dispatched', 'retrying', 'dispatched', 'failed']);
    expect(orch.proc.output()).toMatch(
      new RegExp(`task +${id}  retrying    attempt 1 failed, next in \\d+ s: attempt 1 on agent ${name}.*500`),
    );
    expect(orch.proc.output()).toMatch(
      new RegExp(`task +${id}  failed      after [\\d.]+ m?s \\(3 attempts\\): attempt 3 on agent ${name}`),
    );
  });

  it('shows an agent that stops heartbeating turning unhealthy', async () => {
    const silent = await call<{ id: string }>(orch.url, 'POST', '/agents/register', {
      name: 'feed-silent-agent',
      type: 'feed-silent',
      host: '127.0.0.1',
      port: await freePort(),
      capabilities: ['work'],
    });
    expect(silent.status).toBe(201);
    // Three missed 1 s heartbeats, then the runtime's next look at the agents (every 2 s).
    await orch.proc.waitFor(/agent +feed-silent-agent {2}unhealthy {3}no heartbeat for three intervals/, 15_000);
    expect(eventsOf('feed-silent-agent')).toEqual(['registered', 'unhealthy']);
  });
});
