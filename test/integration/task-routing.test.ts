/**
 * The walkthrough of the README, against `npm start`'s entry point as a real process, with real
 * agent processes over HTTP and a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent, startPlainPythonAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask, waitForTasks } from '../../harness/local-orchestrator';
import { definitionDigest, stateMachinesFromTemplate } from '../../local/template/state-machines';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { NODE, type Proc, startProcess } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { waitForWorkflowEnd } from '../../harness/workflow';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let costAgent: Proc;
let costAgentId: string;
const extra: Array<{ stop(): Promise<unknown> }> = [];

beforeAll(async () => {
  orch = await startLocalOrchestrator();
  costAgent = startProcess(NODE, [
    '--import',
    'tsx',
    'examples/cost-agent.ts',
    '--name',
    'it-cost-agent',
    '--port',
    '0',
    '--orchestrator',
    orch.url,
  ]);
  // The agent says it is ready once the orchestrator has registered it.
  const [, readyId] = await costAgent.waitFor(/ready: \S+, agent id (\S+)/, 30_000);
  const listed = (await call<{ agents: Array<{ id: string; name: string }> }>(orch.url, 'GET', '/agents?type=cost')).body.agents;
  costAgentId = listed.find((a) => a.name === 'it-cost-agent')!.id;
  expect(costAgentId).toBe(readyId);
});

afterAll(async () => {
  await Promise.all(extra.map((e) => e.stop()));
  await costAgent?.stop();
  await orch?.dispose();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

describe('routing tasks to agents on one machine', () => {
  // test/infra/offline-synth.test.ts holds these definitions equal to what `cdk synth` deploys.
  it('executes exactly the state machine definitions that the CDK app deploys', async () => {
    const deployed = stateMachinesFromTemplate(await synthesizedTemplate());
    const printed = [...orch.proc.output().matchAll(/runs (STANDARD|EXPRESS) \S+ \(definition sha256 ([0-9a-f]{16})\)/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(printed.sort()).toEqual(deployed.map((m) => [m.stateMachineType, definitionDigest(m.definition)]).sort());
    expect(printed).toHaveLength(2);
  });

  it('answers /health', async () => {
    const res = await call(orch.url, 'GET', '/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'healthy' } });
  });

  it('lists the registered cost agent as healthy with its capabilities', async () => {
    const res = await call(orch.url, 'GET', `/agents/${costAgentId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: costAgentId,
      name: 'it-cost-agent',
      type: 'cost',
      status: 'healthy',
      capabilities: ['analyze_cost', 'migrate_to_spot', 'right_size'],
      in_flight: 0,
    });
  });
});

// From here on every test works on its own tasks (and the failure paths each on their own agent
// type or task ids), and no assertion depends on what the others do: they run at once.
describe.concurrent('with tasks in flight at once', () => {
  describe('failure paths', () => {
    let failing: AgentProcess;
    let slow: AgentProcess;
    let lateAnswerer: AgentProcess;

    beforeAll(async () => {
      [failing, slow, lateAnswerer] = await Promise.all([
        startFaultAgent(orch.url, { mode: 'fail500', type: 'flaky' }),
        // Answers 9 s after it read a delivery: well after the next test's 3 s timeout.
        startFaultAgent(orch.url, { mode: 'slow', delayMs: 9000, type: 'slow' }),
        // Its own type: its circuit counts this one test's dispatch alone.
        startFaultAgent(orch.url, { mode: 'slow', delayMs: 6000, type: 'late' }),
      ]);
      extra.push(failing, slow, lateAnswerer);
    });

    it('ends failed after exactly max_retries + 1 attempts when the agent always answers 500', async () => {
      const id = await submit({ task_type: 'work', agent_type: 'flaky', max_retries: 2 });
      const done = await waitForTask(orch.url, id, isTerminal, 40_000);
      expect(done).toMatchObject({ status: 'failed', retry_count: 2, attempts: 3, agent_id: failing.id });
      expect(String(done.error)).toContain('HTTP 500');
      // No fourth attempt can come once the task's execution has ended.
      await waitForWorkflowEnd(orch, id);
      const attempts = failing.deliveries().filter((d) => d.task_id === id);
      expect(attempts.map((d) => Number(d.attempt))).toEqual([1, 2, 3]);
    });

    it('makes one attempt only when max_retries is an explicit 0', async () => {
      const id = await submit({ task_type: 'work', agent_type: 'flaky', max_retries: 0 });
      const done = await waitForTask(orch.url, id, isTerminal, 20_000);
      expect(done).toMatchObject({ status: 'failed', retry_count: 0, attempts: 1 });
      // The agent's 500 reached the orchestrator, and the task's execution has ended: no retry can come any more.
      expect(await failing.waitForAnswer(id, 1)).toMatchObject({ outcome: 'HTTP 500', aborted: null });
      await waitForWorkflowEnd(orch, id);
      expect(failing.deliveries().filter((d) => d.task_id === id)).toHaveLength(1);
    });

    it('ends timeout about timeout_seconds after sending, not when the slow agent answers, and stays timeout', async () => {
      const start = Date.now();
      // 3 s, not less: the agent must have read the whole delivery before the orchestrator gives up
      // and closes the connection (an agent reads nothing from a closed one), and on a loaded machine
      // the agent's process can take more than a second to get to it.
      const id = await submit({ task_type: 'work', agent_type: 'slow', timeout_seconds: 3, max_retries: 0 });
      const done = await waitForTask(orch.url, id, isTerminal, 15_000);
      const took = Date.now() - start;
      expect(done).toMatchObject({ status: 'timeout', attempts: 1 });
      expect(String(done.error)).toContain('no answer within 3 s');
      // Ended by the timeout: the agent answers 9 s after it got the task, later than that.
      expect(took).toBeLessThan(8000);
      // The slow agent finished the task (9 s after it got it) and would have answered, had anyone still been waiting.
      const late = await slow.waitForAnswer(id, 1, 20_000);
      expect(late).toMatchObject({ outcome: 'completed', aborted: expect.any(String) as unknown });
      await waitForWorkflowEnd(orch, id);
      expect((await call(orch.url, 'GET', `/tasks/${id}`)).body).toMatchObject({ status: 'timeout' });
    });

    it('keeps a cancelled task cancelled when the agent answers afterwards', async () => {
      const id = await submit({ task_type: 'work', agent_type: 'late', timeout_seconds: 30 });
      await waitForTask(orch.url, id, (t) => t.status === 'sent', 10_000);
      const cancel = await call(orch.url, 'DELETE', `/tasks/${id}`);
      expect(cancel).toEqual({ status: 200, body: { message: `task ${id} cancelled`, task_id: id, status: 'cancelled' } });
      const again = await call(orch.url, 'DELETE', `/tasks/${id}`);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ code: 'task_already_finished', error: expect.stringContaining('already finished as "cancelled"') });
      // The agent answered on the connection the orchestrator still held open...
      expect(await lateAnswerer.waitForAnswer(id, 1, 20_000)).toMatchObject({ outcome: 'completed', aborted: null });
      // ...and the orchestrator read that answer: it counted the dispatch for the agent's circuit.
      await waitUntil(
        "the orchestrator took in the agent's late answer",
        async () => (await call<{ circuit: { recent_dispatches: number } }>(orch.url, 'GET', `/agents/${lateAnswerer.id}`)).body.circuit,
        (circuit) => circuit.recent_dispatches === 1,
      );
      expect(lateAnswerer.deliveries().filter((d) => d.task_id === id)).toHaveLength(1);
      expect((await call(orch.url, 'GET', `/tasks/${id}`)).body).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    });
  });

  describe('routing tasks to agents on one machine', () => {
    let spreadA: AgentProcess;
    let spreadB: AgentProcess;

    beforeAll(async () => {
      const spread = (name: string) => startFaultAgent(orch.url, { mode: 'slow', delayMs: 800, type: 'spread', name });
      [spreadA, spreadB] = await Promise.all([spread('spread-a'), spread('spread-b')]);
      extra.push(spreadA, spreadB);
    });

    it('runs analyze_cost on the cost agent and records its result and id', async () => {
      const submitted = await call(orch.url, 'POST', '/tasks', {
        task_type: 'analyze_cost',
        agent_type: 'cost',
        parameters: { account_id: '123', period: 'last_7_days' },
      });
      expect(submitted.status).toBe(201);
      expect(submitted.body).toEqual({
        task_id: expect.any(String),
        status: 'pending',
        agent_id: '',
        created_at: expect.any(String),
        status_url: `/tasks/${String(submitted.body.task_id)}`,
      });
      const done = await waitForTask(orch.url, String(submitted.body.task_id), isTerminal);
      expect(done).toMatchObject({
        status: 'completed',
        agent_id: costAgentId,
        retry_count: 0,
        attempts: 1,
        result: { account_id: '123', period: 'last_7_days', potential_savings: 6800.25 },
      });
      expect(Date.parse(String(done.completed_at))).toBeGreaterThanOrEqual(Date.parse(String(done.started_at)));
    });

    it('sends a task named for one agent only to that agent', async () => {
      const id = await submit({
        task_type: 'right_size',
        agent_type: 'cost',
        agent_id: costAgentId,
        parameters: { instance_ids: ['i-1', 'i-2'] },
      });
      const done = await waitForTask(orch.url, id, isTerminal);
      expect(done).toMatchObject({ status: 'completed', agent_id: costAgentId, result: { total_instances: 2 } });
    });

    it('returns the same task for a submit repeated with its Idempotency-Key, and refuses the key with another body', async () => {
      const body = { task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: 'retry-me' } };
      const headers = { 'idempotency-key': 'it-7f3c2a' };
      const first = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body, headers);
      const second = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body, headers);
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body).toEqual(first.body);
      const conflict = await call(orch.url, 'POST', '/tasks', { ...body, parameters: { account_id: 'other' } }, headers);
      expect(conflict.status).toBe(422);
      expect(conflict.body.code).toBe('idempotency_key_reused');
      expect(await waitForTask(orch.url, first.body.task_id, isTerminal)).toMatchObject({ status: 'completed' });
    });

    it('refuses at once (503) a task no registered agent offers, saying what is registered', async () => {
      const byType = await call(orch.url, 'POST', '/tasks', { task_type: 'tune_inference', agent_type: 'performance' });
      expect(byType.status).toBe(503);
      expect(byType.body).toEqual({
        code: 'no_capable_agent',
        error: expect.stringContaining('no agent of type "performance" is registered'),
      });
      const byCapability = await call(orch.url, 'POST', '/tasks', { task_type: 'tune_inference', agent_type: 'cost' });
      expect(byCapability.status).toBe(503);
      expect(String(byCapability.body.error)).toContain('analyze_cost');
    });

    it('routes to an agent that knows only the seed protocol (a plain Python HTTP server) and records its result', async () => {
      const py = await startPlainPythonAgent(orch.url, { name: 'it-py-agent', type: 'seedpy' });
      extra.push(py);
      const id = await submit({ task_type: 'analyze_cost', agent_type: 'seedpy', parameters: { account_id: '42' } });
      const done = await waitForTask(orch.url, id, isTerminal);
      expect(done).toMatchObject({ status: 'completed', agent_id: py.id, result: expect.objectContaining({ account_id: '42' }) });
    });

    it('spreads concurrent tasks over agents by load, and each task completes once', async () => {
      const [a, b] = [spreadA, spreadB];
      const ids = await Promise.all(Array.from({ length: 6 }, () => submit({ task_type: 'work', agent_type: 'spread' })));
      const done = await waitForTasks(orch.url, ids, isTerminal);
      expect(done.every((t) => t.status === 'completed')).toBe(true);
      // Counted once no execution is left that could deliver a task again.
      await waitForWorkflowEnd(orch, ids);
      const deliveries = [...a.deliveries(), ...b.deliveries()];
      expect(deliveries.map((d) => d.task_id).sort()).toEqual([...ids].sort());
      expect(a.deliveries().length).toBeGreaterThan(0);
      expect(b.deliveries().length).toBeGreaterThan(0);
    });
  });
});
