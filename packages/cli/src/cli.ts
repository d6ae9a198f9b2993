#!/usr/bin/env node
import { runCli } from './run-cli.js';

// Ctrl-C while `run --wait` waits stops the wait, not the task: the command says so and exits 1.
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort(new Error('interrupted')));

const tty = process.stderr.isTTY === true;
process.exitCode = await runCli(
  process.argv.slice(2),
  process.env,
  {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: (text) => process.stderr.write(tty ? `\r\x1b[2K${text}` : `${text}\n`),
    endProgress: () => (tty ? process.stderr.write('\n') : undefined),
    stderrIsTty: tty,
    now: () => Date.now(),
  },
  interrupted.signal,
);
