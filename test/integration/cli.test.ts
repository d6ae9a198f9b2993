import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { freePort, NODE, ROOT, startProcess, tempDir } from '../../harness/processes';
import { startRecordingServer } from '../client/recording-server';
import { startCloudFormation } from '../support/aws-stand-ins';

/**
 * The optiinfra CLI as a user runs it: a process of its own against `npm start`'s runtime (with its
 * two example cost agents), from the sources (the tests need no build).
 */
async function optiinfra(args: string[], env: Record<string, string> = {}) {
  const proc = startProcess(NODE, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'packages/cli/src/cli.ts', ...args], env);
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (c: Buffer) => void (stdout += c.toString('utf8')));
  proc.child.stderr?.on('data', (c: Buffer) => void (stderr += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
  return { code, stdout, stderr };
}

let orchestrator: LocalOrchestrator;
let flaky: AgentProcess;
let api: Record<string, string>;

beforeAll(async () => {
  orchestrator = await startLocalOrchestrator({}, []);
  await orchestrator.proc.waitFor(/Agent {5}cost-agent-2/, 30_000);
  flaky = await startFaultAgent(orchestrator.url, { mode: 'fail500', type: 'flaky', capabilities: ['work'] });
  api = { OPTIINFRA_API_URL: orchestrator.url };
}, 120_000);

afterAll(async () => {
  await flaky?.stop();
  await orchestrator?.dispose();
});

describe('optiinfra CLI against the local runtime', () => {
  let completedId = '';

  it('run --wait shows progress on stderr, prints the example agent result and exits 0', async () => {
    const { code, stdout, stderr } = await optiinfra(['run', 'analyze_cost', '--type', 'cost', '-p', 'account_id=123', '--wait'], api);
    expect(stderr).toMatch(/^waiting: submitted, 0\.0s$/m);
    expect(stderr).toMatch(/^waiting: completed, agent cost-agent-[12], attempt 1, [\d.]+s$/m);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ account_id: '123' });
    const json = await optiinfra(['run', 'analyze_cost', '--type', 'cost', '--wait', '--json'], api);
    expect(json.code).toBe(0);
    const task = JSON.parse(json.stdout) as { task_id: string; status: string; routing: { reason: string } };
    expect(task).toMatchObject({ status: 'completed', attempts: 1 });
    completedId = task.task_id;
  });

  it('agents shows both example agents with load, circuit and heartbeat; --json gives the agents', async () => {
    const { code, stdout } = await optiinfra(['agents', '--type', 'cost'], api);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME +TYPE +STATUS +IN FLIGHT +CIRCUIT +LAST HEARTBEAT +ID$/);
    // In flight is the agents' live load: a lease of the tasks just run may still be held for a moment.
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 5))).toEqual([
      ['cost-agent-1', 'cost', 'healthy', expect.stringMatching(/^[01]\/10$/), 'closed'],
      ['cost-agent-2', 'cost', 'healthy', expect.stringMatching(/^[01]\/10$/), 'closed'],
    ]);
    const json = await optiinfra(['agents', '--json'], api);
    expect((JSON.parse(json.stdout) as Array<{ name: string }>).map((a) => a.name).sort()).toEqual(
      expect.arrayContaining(['cost-agent-1', 'cost-agent-2']),
    );
  });

  it('tasks lists the completed task in a table, and task shows why its agent was chosen', async () => {
    const { code, stdout } = await optiinfra(['tasks', '--status', 'completed', '--type', 'cost'], api);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${completedId} +completed +analyze_cost +cost +cost-agent-[12] +1 +\\d+s ago$`, 'm'));
    const detail = await optiinfra(['task', completedId], api);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/^why {7}least loaded of 2 eligible agents/m);
    expect(detail.stdout).toMatch(/^ {2}1 +cost-agent-[12] +completed +\d+ ms$/m);
    expect(detail.stdout).toContain('result\n{');
  });

  it('exits 1 for a task that failed, and for a cancel of a finished task', async () => {
    const failed = await optiinfra(['run', 'work', '--type', 'flaky', '--max-retries', '0', '--wait'], api);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^task \S+ failed after 1 attempt\(s\): /m);
    const cancel = await optiinfra(['cancel', completedId], api);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/^optiinfra: .*\(task_already_finished, HTTP 409\)$/m);
  });

  it('exits 2 for usage the CLI or the API refuses, and 3 when the API is not there', async () => {
    const usage = await optiinfra(['run', 'analyze_cost'], api);
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    const refused = await optiinfra(['run', 'analyze_cost', '--type', 'cost', '--priority', '99'], api);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^optiinfra: .*priority.*\(validation_error, HTTP 400\)$/m);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const gone = await optiinfra(['tasks', '--api', closed]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe(`optiinfra: could not reach the API at ${closed} (ECONNREFUSED); is it running, and is the URL right?\n`);
  });

  it('--stack reads ApiUrl from DescribeStacks and signs its calls there with SigV4', async () => {
    const api = await startRecordingServer(() => ({ status: 200, body: { agents: [], count: 0 } }));
    const cfn = await startCloudFormation('OptiInfraOrchestrator-test-Stateless', `${api.url}/`);
    const aws = {
      AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.url,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'eu-west-1',
      OPTIINFRA_API_URL: orchestrator.url,
      OPTIINFRA_API_TOKEN: 'not-sent-to-a-stack',
    };
    try {
      const found = await optiinfra(['agents', '--stack', 'OptiInfraOrchestrator-test-Stateless'], aws);
      expect(found).toMatchObject({ code: 0, stderr: '', stdout: 'no agents\n' });
      expect(new URLSearchParams(cfn.requests[0]).get('Action')).toBe('DescribeStacks');
      expect(api.requests.map((r) => r.url)).toEqual(['/agents?limit=100']);
      expect(api.requests[0]?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
      );
      const missing = await optiinfra(['agents', '--stack', 'Nope'], aws);
      expect(missing).toMatchObject({ code: 2, stderr: 'optiinfra: stack Nope does not exist in eu-west-1: check --stack and --region\n' });
    } finally {
      await cfn.close();
      await api.close();
    }
  });

  it('runs the client example of docs/client.md as written, to its end', async () => {
    const doc = readFileSync(path.join(ROOT, 'docs/client.md'), 'utf8');
    const example = /```ts client\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const dir = tempDir('client-example-');
    try {
      const file = path.join(dir.dir, 'client-example.mts');
      const source = example!
        .replace("from '@optiinfra/client'", `from '${path.join(ROOT, 'packages/client/src/index.ts')}'`)
        .replaceAll('http://127.0.0.1:8080', orchestrator.url);
      writeFileSync(file, source);
      const proc = startProcess(NODE, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', file]);
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
      expect(proc.output()).toMatch(/^completed cost-agent-[12] \{/m);
      expect(proc.output()).toContain('no cost agent offers tune_inference');
      expect(code).toBe(0);
    } finally {
      dir.remove();
    }
  });
});
