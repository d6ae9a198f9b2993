import { CLIENT_VERSION, type ClientOptions, createClient } from '@optiinfra/client';
import { type CliIo, runCommand } from './commands.js';
import { errorLine, EXIT, exitCodeOf } from './exit-codes.js';
import { type GlobalOptions, parseCommand } from './parse-command.js';
import { consoleTarget, runConsole } from './console-command.js';
import { apiUrlOfStack } from './stack-api-url.js';
import { helpText } from './usage.js';

/** npm start's address: with no --api, --stack or OPTIINFRA_API_URL, the CLI talks to the local runtime. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export type CliEnv = Record<string, string | undefined>;

/**
 * Where the API is and how to authenticate, from the command line and the environment: a stack's
 * ApiUrl signed with SigV4 (or JWTs), else --api / OPTIINFRA_API_URL / npm start's with a bearer token.
 */
export async function apiOptions(global: GlobalOptions, env: CliEnv): Promise<ClientOptions> {
  const region = global.region ? { region: global.region } : {};
  // A deployed stack's API takes only SigV4-signed calls (or JWTs): sign with the default credential chain.
  if (global.stack) return { apiUrl: await apiUrlOfStack(global.stack, global.region), sigv4: true, ...region };
  const token = global.token ?? env.OPTIINFRA_API_TOKEN;
  return { apiUrl: global.api ?? env.OPTIINFRA_API_URL ?? DEFAULT_API_URL, ...(token ? { token } : {}), ...region };
}

/** The whole CLI, minus the process: parses argv, runs the command, and answers its exit code. */
export async function runCli(argv: string[], env: CliEnv, io: CliIo, signal?: AbortSignal): Promise<number> {
  try {
    const { command, global } = parseCommand(argv);
    if (command.name === 'version') {
      io.out(CLIENT_VERSION);
      return EXIT.ok;
    }
    if (command.name === 'help') {
      const text = helpText(command.topic);
      if (text === undefined) {
        io.err(`optiinfra: no help for "${command.topic}": use one of run, tasks, task, cancel, agents, console`);
        return EXIT.usage;
      }
      io.out(text);
      return EXIT.ok;
    }
    const options = await apiOptions(global, env);
    if (command.name === 'console') return await runConsole(command.port, consoleTarget(options), io, signal);
    const client = createClient(options);
    return await runCommand(command, { client, io, json: global.json, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted && err === signal.reason) {
      io.err('optiinfra: stopped (interrupted)');
      return EXIT.failed;
    }
    io.err(`optiinfra: ${errorLine(err)}`);
    return exitCodeOf(err);
  }
}
