/**
 * One line of the local runtime's output, whatever wrote it: the runtime's start-up lines, the
 * feed's task and agent events, the handlers' Powertools lines, the example agents. Rendered as
 * text (render-text.ts) or as one JSON object (render-json.ts), so every line has one format.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  level: LogLevel;
  /** Who speaks: `orchestrator`, `task` or `agent` (the feed), a function's name, an agent's name. */
  source: string;
  /** `log` for a plain line; the feed's event otherwise (accepted, dispatched, registered, …). */
  event: string;
  /** What the event is about: a task id or an agent name (feed events only). */
  subject?: string;
  /** The line as a person reads it (for a feed event, its details). */
  message: string;
  /** Structured fields, shown in JSON (and in text for a handler's line, which has no other place for them). */
  fields?: Record<string, unknown>;
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format named by `--log-format` or LOG_FORMAT, or an error that says what is accepted. */
export function parseLogFormat(value: string | undefined, origin = '--log-format (or LOG_FORMAT)'): LogFormat {
  if (value === undefined || value === '') return 'text';
  const format = LOG_FORMATS.find((f) => f === value.toLowerCase());
  if (!format) throw new Error(`${origin} must be text or json, got "${value.slice(0, 40)}"`);
  return format;
}
