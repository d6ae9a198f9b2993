/**
 * An agent answers, and its answer cannot be stored: through the real local runtime (dynalite,
 * the local Step Functions engine, the dispatcher) with fault agents that answer a fixed result.
 * A result holding 2^64 or a "__proto__" key once failed the orchestrator's own write, which
 * counted as a fault: the attempt was delivered again (three times) before the task failed. Now the
 * task fails after one delivery with an error that says where and why. An answer as large as the
 * settings allow once made the task item exceed DynamoDB's 400 KB next to the largest parameters
 * and metadata, and the task failed; they are now stored apart from the result, so it completes.
 * (A store that refuses the write of an answer within the limits still fails the task after one
 * delivery, saying why: test/app/answer-storage.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
const agents: AgentProcess[] = [];
const files = tempDir('unstorable-results-');

beforeAll(async () => {
  // The largest answer the settings allow, so an answer within every limit can still make the task item exceed 400 KB.
  orch = await startLocalOrchestrator({ MAX_AGENT_ANSWER_BYTES: '350000' });
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
  files.remove();
});

async function agentAnswering(type: string, result: { text?: string; file?: string }): Promise<AgentProcess> {
  const agent = await startFaultAgent(orch.url, { mode: 'ok', type, capabilities: ['work'], result: result.text, resultFile: result.file });
  agents.push(agent);
  return agent;
}

async function runTask(type: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', {
    task_type: 'work',
    agent_type: type,
    max_retries: 2,
    retry_delay_seconds: 0,
    ...extra,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return waitForTask(orch.url, submitted.body.task_id, isTerminal, 45_000);
}

describe('an answer the task store cannot keep', () => {
  it.each([
    ['2^64', 'huge', '{"total":18446744073709551616}', 'result.total is 18446744073709552000 as a double, beyond ±9007199254740991'],
    ['a __proto__ key', 'proto', '{"rows":[{"__proto__":{"admin":true}}]}', 'result.rows.0.__proto__ is a key named "__proto__"'],
  ])('a result holding %s fails the task after one delivery, saying where and why', async (_label, type, result, why) => {
    const agent = await agentAnswering(type, { text: result });
    const task = await runTask(type);
    expect(task).toMatchObject({ status: 'failed', attempts: 1 });
    expect(String(task.error)).toContain(`the agent's result cannot be stored: ${why}`);
    expect(String(task.error)).toContain('(not retried)');
    expect(agent.deliveries().map((d) => d.attempt)).toEqual([1]);
  });

  it('the largest answer the settings allow completes next to the largest parameters and metadata, after one delivery', async () => {
    const file = path.join(files.dir, 'result.json');
    writeFileSync(file, JSON.stringify({ blob: 'x'.repeat(340_000) }));
    const agent = await agentAnswering('bulky', { file });
    // Together in one item these were over DynamoDB's 400 KB: the parameters and metadata are an item of their own.
    const task = await runTask('bulky', { parameters: { p: 'y'.repeat(65_500) }, metadata: { m: 'z'.repeat(16_300) } });
    expect(task).toMatchObject({ status: 'completed', attempts: 1 });
    expect((task.result as { blob: string }).blob).toHaveLength(340_000);
    expect(agent.deliveries().map((d) => d.attempt)).toEqual([1]);
  });
});
