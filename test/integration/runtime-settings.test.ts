/**
 * `npm start` applies the settings it is given, or stops and says which one is wrong: found by an
 * attacker, who saw ALLOWED_AGENT_NETWORKS and ALLOW_PUBLIC_AGENTS overwritten by the runtime's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { NODE, startProcess, tempDir } from '../../harness/processes';
import { call } from '../support/checked-call';

const agent = (host: string) => ({ name: `probe-${host}`, type: 'probe', host, port: 45_678, capabilities: ['probe'] });

describe('ALLOWED_AGENT_NETWORKS is applied as given', () => {
  let orch: LocalOrchestrator;
  beforeAll(async () => {
    orch = await startLocalOrchestrator({ ALLOWED_AGENT_NETWORKS: '127.0.0.2/32' });
  });
  afterAll(async () => {
    await orch?.dispose();
  });

  it.each([['127.0.0.1'], ['localhost'], ['2130706433'], ['::1'], ['127.0.0.3']])(
    'refuses an agent on %s, outside 127.0.0.2/32',
    async (host) => {
      const res = await call(orch.url, 'POST', '/agents/register', agent(host));
      expect(res.status).toBe(400);
      expect(String(res.body.error)).toMatch(/is not in ALLOWED_AGENT_NETWORKS \(127\.0\.0\.2\/32\)/);
    },
  );

  it('registers an agent on 127.0.0.2', async () => {
    expect((await call(orch.url, 'POST', '/agents/register', agent('127.0.0.2'))).status).toBe(201);
  });
});

/**
 * Every wrong value and its message is checked in-process by test/local/settings.test.ts (loadConfig
 * and localSettings); here a real `npm start` shows that it stops on them before anything starts:
 * the two settings the attacker saw ignored, one the runtime owns, its own host and port, and its line format.
 */
// Each case is its own process that stops within seconds, most of it spent loading modules: they
// run at once.
describe.concurrent('a wrong setting stops start-up with its name and what it accepts', () => {
  it.each([
    [
      'ALLOWED_AGENT_NETWORKS',
      'this-is-not-a-cidr',
      'ALLOWED_AGENT_NETWORKS has "this-is-not-a-cidr", which is not a CIDR such as 10.0.0.0/16',
    ],
    ['ALLOW_PUBLIC_AGENTS', 'maybe', 'ALLOW_PUBLIC_AGENTS must be true or false (or 1 or 0), got "maybe"'],
    ['TASKS_TABLE', 'prod-tasks', 'TASKS_TABLE is set by npm start itself'],
    ['HOST', 'not a host', '--host (or HOST) must be an IP address to listen on'],
    ['PORT', '', '--port (or PORT) must be a port number from 0 to 65535'],
    ['LOG_FORMAT', 'xml', '--log-format (or LOG_FORMAT) must be text or json, got "xml"'],
  ])('%s=%s', async (name, value, message) => {
    const data = tempDir('optiinfra-settings-');
    const proc = startProcess(
      NODE,
      ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'local/main.ts', '--no-agents', '--data-dir', data.dir],
      { PORT: '0', [name]: value },
    );
    try {
      const seen = await proc.waitFor(/could not start: .*|must be .*|ready\. Ctrl-C stops everything/, 90_000).catch(() => ['(exited)']);
      expect(seen[0]).not.toMatch(/ready\./);
      const code = await proc.stop();
      expect(code).not.toBe(0);
      expect(proc.output()).toContain(message);
    } finally {
      await proc.stop();
      data.remove();
    }
  });
});
