import type { LogRecord } from './log-record';

/** One JSON line: time (ISO 8601, UTC), level, source, event, then the rest; a log shipper reads it as is. */
export function renderJson(record: LogRecord): string {
  const { time, level, source, event, subject, message, fields } = record;
  return JSON.stringify({
    time: new Date(time).toISOString(),
    level,
    source,
    event,
    ...(subject === undefined ? {} : { subject }),
    message,
    ...fields,
  });
}
