import type { AgentView } from '@optiinfra/contract';
import { type OptiinfraClient, type SubmitTaskInput, type TaskListItem, TimeoutError } from '@optiinfra/client';
import { EXIT } from './exit-codes.js';
import type { Command } from './parse-command.js';
import { agentsTable, progressLine, taskDetails, tasksTable } from './render.js';

/** Where a command writes, and the clock it reads; a test passes its own. */
export interface CliIo {
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** The progress line of `run --wait`: on a terminal, drawn over the previous one; elsewhere, a line of its own. */
  progress(text: string): void;
  /** Ends the progress line (a newline on a terminal). */
  endProgress(): void;
  /** Whether stderr is a terminal: the progress line is then redrawn every second. */
  stderrIsTty: boolean;
  now(): number;
}

export interface CommandContext {
  client: OptiinfraClient;
  io: CliIo;
  json: boolean;
  signal?: AbortSignal;
}

/** `run --wait` asks the server to hold each poll this long: short enough for a live progress line, one request per 5 s. */
const CLI_POLL_SECONDS = 5;

const printJson = (io: CliIo, value: unknown) => io.out(JSON.stringify(value, null, 2));

/** Stopping the wait (Ctrl-C, --wait-timeout) leaves the task running: say which, and how to follow it. */
async function run(command: Extract<Command, { name: 'run' }>, context: CommandContext): Promise<number> {
  try {
    return await submitAndWait(command, context);
  } catch (err) {
    if (!(err instanceof StoppedWaiting)) throw err;
    const { task_id: id, status } = err;
    context.io.err(`optiinfra: stopped waiting ${err.why}; task ${id} is still ${status} and goes on (optiinfra task ${id})`);
    return EXIT.failed;
  }
}

class StoppedWaiting extends Error {
  constructor(
    readonly why: string,
    readonly task_id: string,
    readonly status: string,
  ) {
    super(`stopped waiting ${why}`);
  }
}

async function submitAndWait(command: Extract<Command, { name: 'run' }>, { client, io, json, signal }: CommandContext): Promise<number> {
  const task: SubmitTaskInput = { task_type: command.capability, agent_type: command.agentType, parameters: command.parameters };
  if (command.priority !== undefined) task.priority = command.priority;
  if (command.timeoutSeconds !== undefined) task.timeout_seconds = command.timeoutSeconds;
  if (command.maxRetries !== undefined) task.max_retries = command.maxRetries;
  if (command.agentId !== undefined) task.agent_id = command.agentId;
  const submitted = await client.submit(task, signal ? { signal } : {});
  if (!command.wait) {
    if (json) printJson(io, submitted);
    else io.out(`${submitted.task_id}\n${submitted.status}: follow it with optiinfra task ${submitted.task_id}`);
    return EXIT.ok;
  }
  const started = io.now();
  let seen: Parameters<typeof progressLine>[0];
  let shownKey: string | undefined;
  // On a terminal the line is redrawn every second (elapsed moves); elsewhere one line per change of state.
  const show = (force: boolean) => {
    const key = progressLine(seen, 0).replace(/, [\d.]+s$/, '');
    if (io.stderrIsTty || force || key !== shownKey) io.progress(progressLine(seen, io.now() - started));
    shownKey = key;
  };
  const ticker = io.stderrIsTty ? setInterval(() => show(true), 1000) : undefined;
  try {
    show(true);
    const done = await client
      .wait(submitted.task_id, {
        pollSeconds: CLI_POLL_SECONDS,
        ...(command.waitTimeoutSeconds === undefined ? {} : { timeoutMs: command.waitTimeoutSeconds * 1000 }),
        ...(signal ? { signal } : {}),
        onUpdate: (update) => {
          seen = update;
          show(false);
        },
      })
      .catch((err: unknown) => {
        io.endProgress();
        const status = seen?.status ?? submitted.status;
        if (signal?.aborted) throw new StoppedWaiting('(interrupted)', submitted.task_id, status);
        if (err instanceof TimeoutError)
          throw new StoppedWaiting(`after --wait-timeout ${command.waitTimeoutSeconds}s`, submitted.task_id, status);
        throw err;
      });
    seen = done;
    show(true);
    io.endProgress();
    if (json) printJson(io, done);
    else if (done.status === 'completed') io.out(JSON.stringify(done.result ?? null, null, 2));
    else io.err(`task ${done.task_id} ${done.status} after ${done.attempts} attempt(s)${done.error ? `: ${done.error}` : ''}`);
    return done.status === 'completed' ? EXIT.ok : EXIT.failed;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

async function tasks(command: Extract<Command, { name: 'tasks' }>, { client, io, json, signal }: CommandContext): Promise<number> {
  const found: TaskListItem[] = [];
  const query = {
    limit: Math.min(100, Math.max(1, command.limit)),
    ...(command.status ? { status: command.status } : {}),
    ...(command.type ? { agent_type: command.type } : {}),
  };
  const pages = client.list(query, signal ? { signal } : {});
  // A filtered page may hold fewer tasks than asked and still have a next one: read on until enough.
  for await (const page of pages) {
    found.push(...page.tasks);
    if (found.length >= command.limit) break;
  }
  const shown = found.slice(0, command.limit);
  if (json) printJson(io, shown);
  else io.out(shown.length === 0 ? 'no tasks' : tasksTable(shown, io.now()));
  return EXIT.ok;
}

async function agents(command: Extract<Command, { name: 'agents' }>, { client, io, json, signal }: CommandContext): Promise<number> {
  const found: AgentView[] = [];
  const query = { ...(command.type ? { type: command.type } : {}), ...(command.status ? { status: command.status } : {}), limit: 100 };
  for await (const page of client.agents(query, signal ? { signal } : {})) found.push(...page.agents);
  if (json) printJson(io, found);
  else io.out(found.length === 0 ? 'no agents' : agentsTable(found, io.now()));
  return EXIT.ok;
}

/** Runs one parsed command; errors propagate to the caller, which maps them to an exit code. */
export async function runCommand(command: Command, context: CommandContext): Promise<number> {
  const { client, io, json, signal } = context;
  const call = signal ? { signal } : {};
  switch (command.name) {
    case 'run':
      return run(command, context);
    case 'tasks':
      return tasks(command, context);
    case 'agents':
      return agents(command, context);
    case 'task': {
      const task = await client.get(command.id, call);
      if (json) printJson(io, task);
      else io.out(taskDetails(task));
      return EXIT.ok;
    }
    case 'cancel': {
      const answer = await client.cancel(command.id, call);
      if (json) printJson(io, answer);
      else io.out(`${answer.task_id} ${answer.status}: ${answer.message}`);
      return EXIT.ok;
    }
    case 'help':
    case 'version':
    case 'console':
      throw new Error(`${command.name} runs without a client (run-cli.ts)`);
  }
}
