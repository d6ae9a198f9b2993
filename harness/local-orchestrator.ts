import path from 'node:path';
import { stopLeftover } from '../local/stand-ins/redis-launcher';
import { freePort, NODE, type Proc, startProcess, tempDir } from './processes';

/** Settings that keep waits short in tests; the behaviour is the same as with the defaults. */
export const FAST_SETTINGS: Record<string, string> = {
  RETRY_BASE_DELAY_SECONDS: '1',
  AGENT_POLL_SECONDS: '1',
  HEARTBEAT_INTERVAL_SECONDS: '2',
  HEARTBEAT_PERSIST_SECONDS: '2',
  QUEUE_TIMEOUT_SECONDS: '20',
};

export interface LocalOrchestrator {
  url: string;
  proc: Proc;
  dataDir: string;
  /** Starts a new orchestrator process on the same port and data folder (after a stop or a kill). */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
}

/** Runs `npm start`'s entry point as a real process on a free port with a fresh data folder. */
export async function startLocalOrchestrator(
  env: Record<string, string> = {},
  args: string[] = ['--no-agents'],
): Promise<LocalOrchestrator> {
  // A free port is known free only until something binds it: with many processes starting at once,
  // another may take it before the runtime listens (EADDRINUSE). Then the start is tried on another.
  let port = await freePort();
  const data = tempDir('optiinfra-it-');
  const launch = async () => {
    const proc = startProcess(
      NODE,
      [
        '--disable-warning=ExperimentalWarning',
        '--import',
        'tsx',
        'local/main.ts',
        '--port',
        String(port),
        '--data-dir',
        data.dir,
        ...args,
      ],
      { ...FAST_SETTINGS, ...env },
    );
    try {
      await proc.waitFor(/ready\. Ctrl-C stops everything/, 90_000);
    } catch (err) {
      // Not ready in time: stop it (with what it started, such as its redis-server) rather than leave it behind.
      await proc.stop('SIGTERM');
      throw err;
    }
    return proc;
  };
  let first: Proc;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        first = await launch();
        break;
      } catch (err) {
        if (attempt === 3 || !/EADDRINUSE/.test(String(err))) throw err;
        port = await freePort();
      }
    }
  } catch (err) {
    await stopLeftover(path.join(data.dir, 'redis'));
    data.remove();
    throw err;
  }
  const handle: LocalOrchestrator = {
    url: `http://127.0.0.1:${port}`,
    proc: first,
    dataDir: data.dir,
    async restart() {
      handle.proc = await launch();
    },
    async stop(signal = 'SIGTERM') {
      await handle.proc.stop(signal);
    },
    async dispose() {
      await handle.proc.stop('SIGTERM');
      // A runtime killed (SIGKILL) or stopped the hard way leaves its redis-server running: stop it,
      // by the pid it wrote, before its folder goes.
      await stopLeftover(path.join(data.dir, 'redis'));
      data.remove();
    },
  };
  return handle;
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One request to the API as tests send it (a JSON body unless a string is given); the raw answer. */
export async function send(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; text: string }> {
  const init: RequestInit = {
    method,
    headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const { status, text } = await send(base, method, path, body, headers);
  return { status, body: (text ? JSON.parse(text) : {}) as T };
}

/** Polls GET /tasks/{id} until `done` holds, or fails with the last status seen. */
export async function waitForTask(
  base: string,
  taskId: string,
  done: (t: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < until) {
    const res = await call(base, 'GET', `/tasks/${taskId}`);
    last = res.body;
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`task ${taskId} did not reach the expected state in ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

/**
 * Polls GET /tasks/{id} for each of `taskIds` until `done` holds for all, and returns them in the
 * order given. Unlike one waitForTask per task, it has one request in flight at a time: waiting on
 * twenty tasks costs the orchestrator (one process, on a machine shared with the agents) one poll at
 * a time, not twenty.
 */
export async function waitForTasks(
  base: string,
  taskIds: readonly string[],
  done: (t: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
): Promise<Array<Record<string, unknown>>> {
  const until = Date.now() + timeoutMs;
  const seen = new Map<string, Record<string, unknown>>();
  const pending = new Set(taskIds);
  for (;;) {
    for (const id of [...pending]) {
      const res = await call(base, 'GET', `/tasks/${id}`);
      seen.set(id, res.body);
      if (done(res.body)) pending.delete(id);
    }
    if (pending.size === 0) return taskIds.map((id) => seen.get(id)!);
    if (Date.now() >= until) {
      const stuck = [...pending].map((id) => JSON.stringify(seen.get(id)));
      throw new Error(
        `${pending.size} of ${taskIds.length} tasks did not reach the expected state in ${timeoutMs} ms; last seen ${stuck.join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const TERMINAL = ['completed', 'failed', 'timeout', 'cancelled'];
export const isTerminal = (t: Record<string, unknown>) => TERMINAL.includes(String(t.status));
