import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './listen';

export interface StartRedisOptions {
  /** Keep the data here (append-only file) across restarts; in memory when absent. */
  dataDir?: string;
  log?: (line: string) => void;
  /** Where REDIS_URL and PATH are read from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first PING answer. */
  readyTimeoutMs?: number;
}

export type RedisInstance =
  | { kind: 'external'; url: string; stop(): Promise<void> }
  | { kind: 'spawned'; url: string; pid: number; stop(): Promise<void> }
  | { kind: 'none' };

const PID_FILE = 'redis-server.pid';
const STOP_GRACE_MS = 10_000;

/** The first executable `name` on PATH, looked up without a shell. */
export function findOnPath(name: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there, or not executable: keep looking
    }
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A redis-server left behind by a run of ours that was killed (SIGKILL runs no exit handler) would
 * keep writing to the same data folder. Stop it, but only if its command line proves it is ours.
 * Also for whoever ran that runtime and removes its data folder (the test harness).
 */
export async function stopLeftover(dataDir: string, log: (line: string) => void = () => {}): Promise<void> {
  const pidFile = path.join(dataDir, PID_FILE);
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  // redis-server rewrites its command line to "redis-server host:port", but it runs in its --dir.
  let ours = false;
  try {
    ours =
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server') && readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch {
    // gone already, not ours to inspect, or no /proc: nothing to stop
  }
  if (Number.isInteger(pid) && pid > 0 && ours) {
    log(`stopping redis-server pid ${pid} left over from an earlier run`);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

async function answersPing(port: number, password: string): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * The password goes in a config file only this user can read (mode 0600 in a 0700 folder), removed
 * once the server answers: on the command line, `ps` would show it to everyone on the machine.
 */
function launch(binary: string, port: number, dataDir: string | undefined, password: string): { child: ChildProcess; forget: () => void } {
  const confDir = mkdtempSync(path.join(tmpdir(), 'optiinfra-redis-'));
  const confFile = path.join(confDir, 'redis.conf');
  writeFileSync(confFile, `requirepass ${password}\n`, { mode: 0o600 });
  const persistence = dataDir
    ? ['--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
    : ['--dir', tmpdir(), '--appendonly', 'no', '--save', ''];
  const args = [confFile, '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--loglevel', 'warning', ...persistence];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, forget: () => rmSync(confDir, { recursive: true, force: true }) };
}

/**
 * The cache for the local runtime: the server in REDIS_URL if set, as given; otherwise a
 * redis-server from PATH, started on 127.0.0.1 on a free port with a password of its own (in the
 * URL, which is therefore not for printing) and stopped with this process; otherwise `none`, and
 * the caller falls back to something else and says so.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisInstance> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.REDIS_URL) return { kind: 'external', url: env.REDIS_URL, stop: () => Promise.resolve() };
  const binary = findOnPath('redis-server', env.PATH);
  if (!binary) return { kind: 'none' };

  const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    await stopLeftover(dataDir, log);
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let lastError = '';
  // Another process can take the free port between the probe and redis-server's bind: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const password = randomBytes(24).toString('hex');
    const { child, forget } = launch(binary, port, dataDir, password);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', (err) => {
      output += `\n${err.message}`;
    });
    const killOnExit = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.on('exit', killOnExit);

    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    while (!ready && child.exitCode === null && child.signalCode === null && child.pid !== undefined && Date.now() < deadline) {
      ready = await answersPing(port, password);
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    forget();
    if (ready && child.pid !== undefined) {
      const pid = child.pid;
      if (dataDir) writeFileSync(path.join(dataDir, PID_FILE), String(pid));
      let stopping: Promise<void> | undefined;
      return {
        kind: 'spawned',
        url: `redis://:${password}@127.0.0.1:${port}`,
        pid,
        stop() {
          stopping ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
              await exited;
              clearTimeout(timer);
            }
            process.off('exit', killOnExit);
            if (dataDir) rmSync(path.join(dataDir, PID_FILE), { force: true });
          })();
          return stopping;
        },
      };
    }
    killOnExit();
    if (child.pid !== undefined) await exited;
    process.off('exit', killOnExit);
    lastError = output.trim() || `no PING answer within ${readyTimeoutMs} ms`;
    log(`redis-server on port ${port} did not start: ${lastError}`);
  }
  throw new Error(`could not start ${binary}: ${lastError}`);
}
