/**
 * A handler's Powertools log line as a local line: the level, the function's name as the source,
 * the message, and the fields the handler added. The keys every line carries on Lambda (the
 * invocation's context, the service, the timestamp) are left out: locally they say nothing new.
 */
import type { LogLevel, LogRecord } from './log-record';

const CONTEXT_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

const LEVELS: Record<string, LogLevel> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', CRITICAL: 'error' };

export function handlerRecord(attributes: Record<string, unknown>, time: number): LogRecord {
  const fields = Object.fromEntries(Object.entries(attributes).filter(([key]) => !CONTEXT_KEYS.has(key)));
  const name = attributes.function_name ?? attributes.service;
  const message = attributes.message;
  return {
    time,
    level: LEVELS[String(attributes.level).toUpperCase()] ?? 'info',
    // A CDK logical id's hash suffix says nothing to a person reading the line.
    source: typeof name === 'string' ? name.replace(/[0-9A-F]{8}$/, '') : 'orchestrator',
    event: 'log',
    message: typeof message === 'string' ? message : JSON.stringify(message ?? ''),
    fields,
  };
}
