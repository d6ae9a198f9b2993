/** What RedisTaskCache reports when it carries on without the cache. */
export interface CacheObserver {
  warn(message: string, extra?: Record<string, unknown>): void;
  /** One operation answered without the cache (the caller falls back to DynamoDB): a metric. */
  fallback(): void;
}

/** Past this many distinct causes in one process, the rest are counted but no longer logged. */
const MAX_LOGGED_CAUSES = 32;

/**
 * A short, stable name for why a cache call failed, for the log: the reply's error code (WRONGTYPE,
 * CROSSSLOT, TRYAGAIN, OOM...), the socket's (ECONNREFUSED, ETIMEDOUT...), or the error's class.
 * Nothing that varies per call (addresses, keys, counts), so one cause is logged once.
 */
export function fallbackCause(err: unknown): string {
  if (!(err instanceof Error)) return 'non-error thrown';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code) return code;
  if (err.name === 'ReplyError') return /^[A-Z][A-Z_-]*/.exec(err.message)?.[0] ?? 'ReplyError';
  if (err.name !== 'Error') return err.name;
  return err.message.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim().slice(0, 60) || 'Error';
}

/** Counts every fallback and logs each cause once per process (a Lambda container), not once per call. */
export class CacheFallbacks {
  private readonly logged = new Set<string>();

  constructor(private readonly observer: CacheObserver) {}

  report(operation: string, err: unknown): void {
    this.observer.fallback();
    const cause = fallbackCause(err);
    if (this.logged.has(cause) || this.logged.size >= MAX_LOGGED_CAUSES) return;
    this.logged.add(cause);
    this.observer.warn(
      `cache unavailable (${cause}); carrying on without it. Logged once per cause; the CacheFallbacks metric counts each call`,
      {
        cause,
        operation,
        error: err instanceof Error ? err.message : String(err),
      },
    );
  }
}
