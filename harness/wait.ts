/**
 * Waiting for an event, never for a time: `waitUntil` polls a probe at a short interval until its
 * value shows that the event happened, and fails (saying what it saw last) if it has not by the
 * timeout. The timeout only bounds a failing test; a passing one goes on as soon as the event is seen.
 */
export interface WaitOptions {
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
  /** Poll this often (default 100 ms). */
  intervalMs?: number;
}

export async function waitUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 100 }: WaitOptions = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() >= end) throw new Error(`${what}: not seen within ${timeoutMs} ms; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, end - Date.now()))));
  }
}
