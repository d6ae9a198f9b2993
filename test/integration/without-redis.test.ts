/**
 * `npm start` on a machine with no redis-server and no REDIS_URL: it says so, uses its in-process
 * cache stand-in, and routes tasks all the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { isTerminal, type LocalOrchestrator, startLocalOrchestrator, waitForTask } from '../../harness/local-orchestrator';
import { tempDir } from '../../harness/processes';
import { call } from '../support/checked-call';

let orch: LocalOrchestrator;
let agent: AgentProcess;
const emptyPath = tempDir('no-redis-path-');

beforeAll(async () => {
  orch = await startLocalOrchestrator({ PATH: emptyPath.dir, REDIS_URL: '' });
  agent = await startFaultAgent(orch.url, { mode: 'ok', type: 'nocache' });
});

afterAll(async () => {
  await agent?.stop();
  await orch?.dispose();
  emptyPath.remove();
});

describe('without redis-server', () => {
  it('prints a notice that it uses the in-process cache stand-in', () => {
    expect(orch.proc.output()).toContain('NOTICE: no REDIS_URL and no redis-server on PATH');
  });

  it('still routes a task to completion and shows the agent healthy', async () => {
    const submitted = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', { task_type: 'work', agent_type: 'nocache' });
    expect(submitted.status).toBe(201);
    const done = await waitForTask(orch.url, submitted.body.task_id, isTerminal);
    expect(done).toMatchObject({ status: 'completed', agent_id: agent.id });
    expect((await call(orch.url, 'GET', `/agents/${agent.id}`)).body.status).toBe('healthy');
  });
});
