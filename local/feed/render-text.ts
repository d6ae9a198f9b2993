/**
 * The text form of a line: time of day, who speaks, then what it says; for a feed event, its
 * subject and event in columns of their own so a run reads down the page:
 *   03:41:07.123  task          3f2a…  dispatched  attempt 1 → cost-agent-1: least loaded …
 * Colour only when asked (a TTY without NO_COLOR): the words are the same without it.
 */
import { createColors } from 'picocolors';
import type { LogRecord } from './log-record';

export interface TextOptions {
  colour: boolean;
  /** Times in UTC instead of the machine's time zone (tests; logs read elsewhere). */
  utc?: boolean;
}

const SOURCE_WIDTH = 12;
const EVENT_WIDTH = 10;

type Colours = ReturnType<typeof createColors>;
type Paint = (c: Colours) => (text: string) => string;

const EVENT_COLOUR: Record<string, Paint> = {
  accepted: (c) => c.white,
  dispatched: (c) => c.cyan,
  retrying: (c) => c.yellow,
  completed: (c) => c.green,
  failed: (c) => c.red,
  timeout: (c) => c.red,
  cancelled: (c) => c.gray,
  registered: (c) => c.green,
  healthy: (c) => c.green,
  draining: (c) => c.yellow,
  unhealthy: (c) => c.red,
  forgotten: (c) => c.gray,
  circuit_open: (c) => c.red,
  circuit_closed: (c) => c.green,
};

const SOURCE_COLOUR: Record<string, Paint> = {
  task: (c) => c.cyan,
  agent: (c) => c.magenta,
  orchestrator: (c) => c.blue,
};

const two = (n: number) => String(n).padStart(2, '0');

function timeOfDay(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const [h, m, s, milli] = utc
    ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  return `${two(h)}:${two(m)}:${two(s)}.${String(milli).padStart(3, '0')}`;
}

export function renderText(record: LogRecord, options: TextOptions): string {
  const c = createColors(options.colour);
  const source = (SOURCE_COLOUR[record.source]?.(c) ?? c.bold)(record.source.padEnd(SOURCE_WIDTH));
  const parts = [c.dim(timeOfDay(record.time, options.utc ?? false)), source];
  if (record.level === 'warn' || record.level === 'error') {
    // A feed event says how bad it is by its colour; a plain line by its level.
    if (record.event === 'log') parts.push((record.level === 'error' ? c.red : c.yellow)(record.level.toUpperCase()));
  }
  if (record.subject !== undefined) {
    const event = record.event.replace('_', ' ');
    parts.push(c.bold(record.subject), (EVENT_COLOUR[record.event]?.(c) ?? c.white)(event.padEnd(EVENT_WIDTH)));
  }
  const fields =
    record.event === 'log' && record.fields && Object.keys(record.fields).length > 0 ? ` ${JSON.stringify(record.fields)}` : '';
  parts.push(fields ? `${record.message}${c.dim(fields)}` : record.message);
  return parts.join('  ').trimEnd();
}
