import { parseArgs } from 'node:util';
import { AGENT_STATUSES, type AgentStatus, TASK_STATUSES, type TaskStatus } from '@optiinfra/contract';
import { UsageError } from './usage.js';

/** Where the API is and how to authenticate, from options that every command takes. */
export interface GlobalOptions {
  json: boolean;
  api?: string;
  token?: string;
  stack?: string;
  region?: string;
}

export type Command =
  | {
      name: 'run';
      capability: string;
      agentType: string;
      parameters: Record<string, unknown>;
      priority?: number;
      timeoutSeconds?: number;
      maxRetries?: number;
      agentId?: string;
      wait: boolean;
      waitTimeoutSeconds?: number;
    }
  | { name: 'tasks'; status?: TaskStatus; type?: string; limit: number }
  | { name: 'task'; id: string }
  | { name: 'cancel'; id: string }
  | { name: 'agents'; type?: string; status?: AgentStatus }
  | { name: 'console'; port: number }
  | { name: 'help'; topic?: string }
  | { name: 'version' };

export type ParsedCommand = { command: Command; global: GlobalOptions };

const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  api: { type: 'string' },
  token: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMAND_OPTIONS = {
  run: {
    type: { type: 'string', short: 't' },
    param: { type: 'string', short: 'p', multiple: true },
    priority: { type: 'string' },
    timeout: { type: 'string' },
    'max-retries': { type: 'string' },
    agent: { type: 'string' },
    wait: { type: 'boolean', short: 'w' },
    'wait-timeout': { type: 'string' },
  },
  tasks: { status: { type: 'string' }, type: { type: 'string', short: 't' }, limit: { type: 'string' } },
  task: {},
  cancel: {},
  agents: { status: { type: 'string' }, type: { type: 'string', short: 't' } },
  console: { port: { type: 'string' } },
} as const;

/** `optiinfra console`'s default port: the local runtime has 8080. */
export const CONSOLE_DEFAULT_PORT = 8090;

type CommandName = keyof typeof COMMAND_OPTIONS;
const isCommandName = (name: string): name is CommandName => Object.hasOwn(COMMAND_OPTIONS, name);

const PRIORITY_NAMES: Record<string, number> = { low: 1, normal: 5, high: 10, critical: 15 };
const TAKES_VALUE = new Set(Object.entries(GLOBAL_OPTIONS).flatMap(([key, o]) => (o.type === 'string' ? [`--${key}`] : [])));

/** The command is the first argument that is neither a global option nor its value, so `--api URL tasks` works too. */
function splitCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (TAKES_VALUE.has(arg)) i++;
  }
  return { rest: argv };
}

function integer(option: string, value: string | undefined, example: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${option} must be a whole number such as ${example} (got "${value}")`);
  return Number(value);
}

/** `-p key=value` sends a string; `-p key:=json` sends the JSON value (a number, true, an array, an object). */
export function parseParameters(pairs: readonly string[]): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const pair of pairs) {
    const m = /^([^=:]+)(:?=)([\s\S]*)$/.exec(pair);
    if (!m?.[1] || !m[2]) throw new UsageError(`-p takes key=value (a string) or key:=json (got "${pair}"), such as -p account_id=123`);
    const [, key, op, raw = ''] = m;
    if (key === '__proto__') throw new UsageError('-p: a parameter may not be named __proto__');
    if (op === '=') {
      parameters[key] = raw;
      continue;
    }
    try {
      parameters[key] = JSON.parse(raw);
    } catch {
      throw new UsageError(`-p ${key}:= needs a JSON value such as 3, true, "text" or ["a","b"] (got ${raw === '' ? 'nothing' : raw})`);
    }
  }
  return parameters;
}

function oneOf<T extends string>(option: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (!found) throw new UsageError(`--${option} must be one of ${allowed.join(', ')} (got "${value}")`);
  return found;
}

function parsePriority(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return PRIORITY_NAMES[value] ?? integer('priority', value, '10 (or low, normal, high, critical)');
}

function parseArgsOrUsage(name: CommandName, rest: string[]) {
  try {
    return parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[name] }, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`${name} does not take ${unknown[1]}; see optiinfra ${name} --help`, name);
    const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]?.split(', ').pop()} needs a value; see optiinfra ${name} --help`, name);
    throw new UsageError(`${message.split('\n')[0]}; see optiinfra ${name} --help`, name);
  }
}

function oneId(name: CommandName, positionals: string[]): string {
  if (positionals.length !== 1 || !positionals[0])
    throw new UsageError(`${name} takes one task id, such as optiinfra ${name} 3f2c...`, name);
  return positionals[0];
}

function toCommand(name: CommandName, values: Record<string, unknown>, positionals: string[]): Command {
  const str = (key: string) => (typeof values[key] === 'string' ? values[key] : undefined);
  if (name !== 'run' && name !== 'task' && name !== 'cancel' && positionals.length > 0) {
    throw new UsageError(`${name} takes no arguments (got "${positionals.join(' ')}"); see optiinfra ${name} --help`, name);
  }
  switch (name) {
    case 'run': {
      const [capability, ...extra] = positionals;
      const agentType = str('type');
      if (!capability || extra.length > 0 || !agentType) {
        throw new UsageError(
          'run takes one capability and --type, such as: optiinfra run analyze_cost --type cost -p account_id=123 --wait',
          name,
        );
      }
      const optional = {
        priority: parsePriority(str('priority')),
        timeoutSeconds: integer('timeout', str('timeout'), '60'),
        maxRetries: integer('max-retries', str('max-retries'), '2'),
        agentId: str('agent'),
        waitTimeoutSeconds: integer('wait-timeout', str('wait-timeout'), '120'),
      };
      const parameters = parseParameters((values.param as string[] | undefined) ?? []);
      return { name, capability, agentType, parameters, wait: values.wait === true, ...defined(optional) };
    }
    case 'tasks': {
      const limit = integer('limit', str('limit'), '20') ?? 20;
      if (limit < 1) throw new UsageError(`--limit must be 1 or more (got ${limit})`, name);
      return {
        name,
        limit,
        ...defined({ status: oneOf('status', TASK_STATUSES, str('status')), type: str('type') }),
      };
    }
    case 'agents':
      return { name, ...defined({ status: oneOf('status', AGENT_STATUSES, str('status')), type: str('type') }) };
    case 'task':
    case 'cancel':
      return { name, id: oneId(name, positionals) };
    case 'console': {
      const port = integer('port', str('port'), '8090') ?? CONSOLE_DEFAULT_PORT;
      if (port < 0 || port > 65_535) throw new UsageError(`--port must be from 0 to 65535 (got ${port}); 0 picks a free one`, name);
      return { name, port };
    }
  }
}

/** The entries that have a value (with exactOptionalPropertyTypes-style objects: absent, not undefined). */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Parses the command line; a UsageError says in one line what to type instead. */
export function parseCommand(argv: string[]): ParsedCommand {
  const { name, rest } = splitCommand(argv);
  if (name === 'help') return { command: { name: 'help', ...(rest[0] ? { topic: rest[0] } : {}) }, global: { json: false } };
  if (name === undefined) {
    if (rest.includes('--version')) return { command: { name: 'version' }, global: { json: false } };
    if (rest.length === 0 || rest.includes('--help') || rest.includes('-h')) return { command: { name: 'help' }, global: { json: false } };
    throw new UsageError('missing command: one of run, tasks, task, cancel, agents, console (optiinfra --help lists them)');
  }
  if (!isCommandName(name))
    throw new UsageError(`unknown command "${name}": use one of run, tasks, task, cancel, agents, console (optiinfra --help)`);
  const { values, positionals } = parseArgsOrUsage(name, rest);
  if (values.help) return { command: { name: 'help', topic: name }, global: { json: false } };
  const global: GlobalOptions = {
    json: values.json === true,
    ...defined({ api: values.api, token: values.token, stack: values.stack, region: values.region }),
  };
  if (global.api !== undefined && global.stack !== undefined) throw new UsageError('pass --api or --stack, not both', name);
  return { command: toCommand(name, values, positionals), global };
}
