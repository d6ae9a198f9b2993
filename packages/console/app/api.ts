/**
 * The page's one way to the API: root-relative paths on its own origin (the local runtime, or
 * `optiinfra console` which signs and forwards them), the session's bearer token on every call, and
 * the connection's state (unreachable, token needed) for the banner and the token form.
 */

/** An answer of 4xx or 5xx: `message` is the API's own `error` text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The request never got an answer: the orchestrator is down or the network is. */
export class NetworkError extends Error {}

export interface ConnectionState {
  /** Why the last call got no answer; undefined once one did. */
  unreachable?: string;
  /** A call answered 401: the page asks for a token. */
  needsToken: boolean;
  /** The last 401's text, shown with the token form (a wrong token reads differently from none). */
  tokenProblem?: string;
  /** Counts the tokens given in this tab: the pages read again at once when it changes, not at their next refresh. */
  tokenVersion: number;
}

/** sessionStorage only: the token goes when the tab closes, and never into the URL or localStorage. */
const TOKEN_KEY = 'optiinfra.console.token';

let state: ConnectionState = { needsToken: false, tokenVersion: 0 };
const listeners = new Set<(s: ConnectionState) => void>();

function update(change: Partial<ConnectionState>): void {
  const next = { ...state, ...change };
  const same = (key: keyof ConnectionState) => next[key] === state[key];
  if (same('unreachable') && same('needsToken') && same('tokenProblem') && same('tokenVersion')) return;
  state = next;
  for (const listener of listeners) listener(state);
}

export const connection = {
  get: (): ConnectionState => state,
  subscribe(listener: (s: ConnectionState) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  update({ needsToken: false, tokenProblem: undefined, tokenVersion: state.tokenVersion + 1 });
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A waiting read: asks the API to hold its answer up to N seconds (`?wait=N`), and waits that long beyond the deadline. */
  waitSeconds?: number;
}

/**
 * A call the API does not answer in this long (beyond its wait) is given up and counted as
 * unanswered: the page says so and its next read starts, rather than its refresh waiting on a
 * request that may never end.
 */
const CALL_DEADLINE_MS = 10_000;

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

/** Calls the API and returns its JSON answer; throws ApiError (with the API's text) or NetworkError. */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const wait = options.waitSeconds ?? 0;
  const url = wait > 0 ? `${path}${path.includes('?') ? '&' : '?'}wait=${wait}` : path;
  const deadlineMs = wait * 1000 + CALL_DEADLINE_MS;
  const deadline = AbortSignal.timeout(deadlineMs);
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
      cache: 'no-store',
    });
    body = await bodyOf(res);
  } catch (err) {
    // The page left (another route, other filters): not the API's doing.
    if (options.signal?.aborted) throw err;
    const why = deadline.aborted ? `no answer within ${deadlineMs / 1000} s` : err instanceof Error ? err.message : String(err);
    update({ unreachable: why });
    throw new NetworkError(why);
  }
  update({ unreachable: undefined });
  const { error, code } = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; code?: unknown };
  const message = typeof error === 'string' ? error : `${res.status} ${res.statusText}`.trim();
  if (res.status === 401) {
    // A call sent before a token was given (or another one) answers for the token it carried: it
    // must not ask again for the token the user has just given.
    if (sessionStorage.getItem(TOKEN_KEY) === token) update({ needsToken: true, tokenProblem: message });
    throw new ApiError(401, message, 'unauthorized');
  }
  if (!res.ok) throw new ApiError(res.status, message, typeof code === 'string' ? code : undefined);
  return body as T;
}

/** The text the page shows for a failed call: the API's own error, or what kept it from answering. */
export const problemOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
