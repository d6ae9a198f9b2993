/** How the page writes times, durations and values: plain functions, so the unit tests pin them. */

const pad = (n: number) => String(n).padStart(2, '0');

/** 850 ms, 2.3 s, 4 m 05 s, 2 h 03 m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} m`;
}

/** The time between two ISO times, or from the first to `nowMs` while the second is absent. */
export function durationBetween(from: string | undefined, to: string | undefined, nowMs: number): number | undefined {
  if (from === undefined) return undefined;
  const start = Date.parse(from);
  const end = to === undefined ? nowMs : Date.parse(to);
  return Number.isNaN(start) || Number.isNaN(end) ? undefined : Math.max(0, end - start);
}

/** "just now", "12 s ago", "3 m ago", "2 h ago", "4 d ago"; a time ahead of now reads "in 5 s". */
export function formatAgo(iso: string | undefined, nowMs: number): string {
  const at = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(at)) return '–';
  const diff = nowMs - at;
  const s = Math.round(Math.abs(diff) / 1000);
  if (s < 2) return 'just now';
  const text =
    s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} m` : s < 86_400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86_400)} d`;
  return diff < 0 ? `in ${text}` : `${text} ago`;
}

/** The UTC time of day (13:04:05), as the orchestrator's own logs and answers give times in UTC. */
export function formatClock(iso: string | undefined): string {
  const at = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(at)) return '–';
  const d = new Date(at);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A count with thousands separated (12 345), a latency as a duration. */
export function formatMetricValue(unit: 'Count' | 'Milliseconds', value: number | undefined): string {
  if (value === undefined) return '–';
  if (unit === 'Milliseconds') return formatDuration(value);
  const whole = Math.round(value);
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** The first 8 characters of an id (a UUID's first group), enough to tell rows apart. */
export const shortId = (id: string) => (id.length > 8 ? id.slice(0, 8) : id);

/** A JSON value laid out for reading, or its text when it cannot be (a cycle, a BigInt). */
export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
