import { parseCommand, parseParameters } from '@optiinfra/cli';
import { describe, expect, it } from 'vitest';

describe('parseCommand', () => {
  it.each([
    [
      ['run', 'analyze_cost', '--type', 'cost', '-p', 'account_id=123', '-p', 'days:=7', '--wait'],
      { name: 'run', capability: 'analyze_cost', agentType: 'cost', parameters: { account_id: '123', days: 7 }, wait: true },
    ],
    [
      ['run', 'right_size', '-t', 'cost', '--priority', 'high', '--timeout', '60', '--max-retries', '0', '--wait-timeout', '90', '-w'],
      {
        name: 'run',
        capability: 'right_size',
        agentType: 'cost',
        parameters: {},
        wait: true,
        priority: 10,
        timeoutSeconds: 60,
        maxRetries: 0,
        waitTimeoutSeconds: 90,
      },
    ],
    [
      ['run', 'x', '--type', 'y', '--priority', '3'],
      { name: 'run', capability: 'x', agentType: 'y', parameters: {}, wait: false, priority: 3 },
    ],
    [['tasks'], { name: 'tasks', limit: 20 }],
    [['tasks', '--status', 'failed', '--type', 'cost', '--limit', '5'], { name: 'tasks', status: 'failed', type: 'cost', limit: 5 }],
    [['task', 'abc'], { name: 'task', id: 'abc' }],
    [['cancel', 'abc'], { name: 'cancel', id: 'abc' }],
    [['agents', '-t', 'cost', '--status', 'healthy'], { name: 'agents', type: 'cost', status: 'healthy' }],
    [[], { name: 'help' }],
    [['--help'], { name: 'help' }],
    [['run', '--help'], { name: 'help', topic: 'run' }],
    [['help', 'tasks'], { name: 'help', topic: 'tasks' }],
    [['--version'], { name: 'version' }],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv).command).toEqual(command);
  });

  it('parses console: its port (8090 by default) and the connection options', () => {
    expect(parseCommand(['console'])).toEqual({ command: { name: 'console', port: 8090 }, global: { json: false } });
    expect(parseCommand(['console', '--stack', 'S', '--port', '0'])).toEqual({
      command: { name: 'console', port: 0 },
      global: { json: false, stack: 'S' },
    });
  });

  it('takes the connection options before or after the command', () => {
    expect(parseCommand(['--api', 'http://h:1', 'tasks', '--json', '--token', 't']).global).toEqual({
      json: true,
      api: 'http://h:1',
      token: 't',
    });
    expect(parseCommand(['agents', '--stack', 'OptiInfraOrchestrator-dev-Stateless', '--region', 'eu-west-1']).global).toEqual({
      json: false,
      stack: 'OptiInfraOrchestrator-dev-Stateless',
      region: 'eu-west-1',
    });
  });

  it.each([
    [['deploy'], 'unknown command "deploy": use one of run, tasks, task, cancel, agents, console (optiinfra --help)'],
    [['--json'], 'missing command: one of run, tasks, task, cancel, agents, console (optiinfra --help lists them)'],
    [
      ['run', 'analyze_cost'],
      'run takes one capability and --type, such as: optiinfra run analyze_cost --type cost -p account_id=123 --wait',
    ],
    [['run', 'a', 'b', '--type', 'cost'], 'run takes one capability and --type'],
    [
      ['run', 'a', '--type', 'cost', '--priority', 'urgent'],
      '--priority must be a whole number such as 10 (or low, normal, high, critical) (got "urgent")',
    ],
    [['run', 'a', '--type', 'cost', '--timeout', '1.5'], '--timeout must be a whole number such as 60 (got "1.5")'],
    [
      ['run', 'a', '--type', 'cost', '-p', 'account_id'],
      '-p takes key=value (a string) or key:=json (got "account_id"), such as -p account_id=123',
    ],
    [['run', 'a', '--type', 'cost', '-p', 'n:={'], '-p n:= needs a JSON value such as 3, true, "text" or ["a","b"] (got {)'],
    [['run', 'a', '--type'], '--type needs a value; see optiinfra run --help'],
    [['tasks', '--colour', 'red'], 'tasks does not take --colour; see optiinfra tasks --help'],
    [['console', '--port', '70000'], '--port must be from 0 to 65535 (got 70000); 0 picks a free one'],
    [['console', '--port', 'http'], '--port must be a whole number such as 8090 (got "http")'],
    [['console', 'now'], 'console takes no arguments (got "now"); see optiinfra console --help'],
    [['console', '--status', 'failed'], 'console does not take --status; see optiinfra console --help'],
    [
      ['tasks', '--status', 'done'],
      '--status must be one of pending, queued, sent, running, retrying, completed, failed, timeout, cancelled (got "done")',
    ],
    [['tasks', '--limit', '0'], '--limit must be 1 or more (got 0)'],
    [['tasks', 'extra'], 'tasks takes no arguments (got "extra"); see optiinfra tasks --help'],
    [['task'], 'task takes one task id, such as optiinfra task 3f2c...'],
    [['cancel', 'a', 'b'], 'cancel takes one task id'],
    [['agents', '--status', 'sleepy'], '--status must be one of healthy, unhealthy, draining (got "sleepy")'],
    [['tasks', '--api', 'http://a', '--stack', 's'], 'pass --api or --stack, not both'],
  ])('refuses %j in one line saying what to type', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
    try {
      parseCommand(argv);
    } catch (err) {
      expect((err as Error).name).toBe('UsageError');
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('parseParameters', () => {
  it('sends strings with = and JSON values with :=, keeping = inside values', () => {
    expect(parseParameters(['a=1', 'b:=1', 'c:=[1,"x"]', 'd=x=y', 'e=', 'f:={"g":null}'])).toEqual({
      a: '1',
      b: 1,
      c: [1, 'x'],
      d: 'x=y',
      e: '',
      f: { g: null },
    });
  });

  it('refuses a key named __proto__ rather than dropping it', () => {
    expect(() => parseParameters(['__proto__:={}'])).toThrow('-p: a parameter may not be named __proto__');
  });
});
