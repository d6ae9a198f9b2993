import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type ConnectionState, connection, NetworkError, problemOf } from './api';
import { type Route, routeOf } from './route';

/** How often a list page reads again while it is open. */
export const REFRESH_MS = 2_000;

export interface Polled<T> {
  data?: T;
  /** The API's error text for the last read; a network failure is the banner's, a 401 the token form's. */
  error?: string;
}

/** What a failed read shows on the page itself: nothing for an unreachable API or a missing token, which the page shows once for all. */
export function pageProblem(err: unknown): string | undefined {
  if (err instanceof NetworkError) return undefined;
  if (err instanceof ApiError && err.status === 401) return undefined;
  return problemOf(err);
}

/**
 * Reads `load` now and again every `everyMs` after each answer (never two at once), while the
 * component is shown; a new `key` (other filters) or a new token starts over at once. Keeps the last data through
 * a failed read, so a blip does not empty the page.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number, key: string): Polled<T> {
  const [polled, setPolled] = useState<Polled<T>>({});
  // A token just given starts over at once: the page fills in as soon as the form closes.
  const { tokenVersion } = useConnection();
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const data = await latest.current(stop.signal);
        if (!stop.signal.aborted) setPolled({ data });
      } catch (err) {
        if (stop.signal.aborted) return;
        setPolled((before) => ({ data: before.data, error: pageProblem(err) }));
      }
      if (!stop.signal.aborted) timer = setTimeout(() => void run(), everyMs);
    };
    void run();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [key, everyMs, tokenVersion]);
  return polled;
}

/** The route in the URL's hash, followed as it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const follow = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}

export function useConnection(): ConnectionState {
  const [state, setState] = useState(connection.get());
  useEffect(() => connection.subscribe(setState), []);
  return state;
}

/** The current time, ticking every second, so "12 s ago" and "running for" move between reads. */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
