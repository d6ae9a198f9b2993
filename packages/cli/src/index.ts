/** The CLI as a library: run it in-process (tests, wrappers) with your own output and environment. */
export type { CliIo } from './commands.js';
export { EXIT } from './exit-codes.js';
export { type Command, type GlobalOptions, parseCommand, parseParameters } from './parse-command.js';
export { type CliEnv, DEFAULT_API_URL, runCli } from './run-cli.js';
