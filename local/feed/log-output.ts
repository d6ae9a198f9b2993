/**
 * Where every local line goes: one writer per process, text or JSON, colour on a TTY only. The
 * feed (task and agent events) can be turned off (--quiet); plain lines and warnings never are.
 */
import type { ActivityEvent } from '../../functions/core/activity';
import { activityRecord } from './activity-record';
import type { LogFormat, LogLevel, LogRecord } from './log-record';
import { renderJson } from './render-json';
import { renderText } from './render-text';

export interface LogOutputOptions {
  format: LogFormat;
  /** No feed lines (task and agent events). */
  quiet?: boolean;
  /** Default: on when the stream is a TTY and NO_COLOR is unset or empty. */
  colour?: boolean;
  utc?: boolean;
  stream?: { write(text: string): unknown; isTTY?: boolean };
  now?: () => number;
}

/** The SDK's AgentLogger shape (info, warn, error), writing under the agent's name. */
export interface SourceLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LogOutput {
  readonly format: LogFormat;
  write(record: LogRecord): void;
  /** A plain line from `source` (the runtime's start-up lines are `orchestrator`'s). */
  line(source: string, message: string, level?: LogLevel): void;
  /** A feed event; nothing when quiet. */
  activity(event: ActivityEvent): void;
  logger(source: string): SourceLogger;
}

/** Colour for a terminal, as NO_COLOR (no-color.org) asks: off when it is set to anything. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function createLogOutput(options: LogOutputOptions): LogOutput {
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? Date.now;
  const colour = options.colour ?? wantsColour(stream);
  const render = (record: LogRecord) => (options.format === 'json' ? renderJson(record) : renderText(record, { colour, utc: options.utc }));
  const write = (record: LogRecord) => void stream.write(`${render(record)}\n`);
  const line = (source: string, message: string, level: LogLevel = 'info') => write({ time: now(), level, source, event: 'log', message });
  return {
    format: options.format,
    write,
    line,
    activity(event) {
      if (!options.quiet) write(activityRecord(event, now()));
    },
    logger: (source) => ({
      info: (message) => line(source, message, 'info'),
      warn: (message) => line(source, message, 'warn'),
      error: (message) => line(source, message, 'error'),
    }),
  };
}
