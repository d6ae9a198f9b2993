import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One password for every redis-server this process starts: a restarted one takes the same URL. */
const PASSWORD = randomBytes(24).toString('hex');

/** The REDIS_URL of the redis-server `startRedisOn(port)` starts, with its password. */
export function redisUrlOn(port: number): string {
  return `redis://:${PASSWORD}@127.0.0.1:${port}`;
}

/**
 * A redis-server on a port the caller chose, so it can be killed and started again where the
 * orchestrator expects it (local/stand-ins/redis-launcher picks a new port each time). It requires
 * a password, as the runtime's own does: given in a config file of mode 0600, not on the command line.
 */
export async function startRedisOn(port: number, timeoutMs = 10_000): Promise<ChildProcess> {
  const confDir = mkdtempSync(path.join(tmpdir(), 'harness-redis-'));
  const confFile = path.join(confDir, 'redis.conf');
  writeFileSync(confFile, `requirepass ${PASSWORD}\n`, { mode: 0o600 });
  const child = spawn(
    'redis-server',
    [confFile, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  try {
    await listening(child, port, timeoutMs);
  } finally {
    rmSync(confDir, { recursive: true, force: true });
  }
  return child;
}

async function listening(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (child.exitCode !== null || Date.now() > until)
      throw new Error(`redis-server did not listen on ${port} (apt-get install -y redis-server)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILLs the process (no chance to save or say goodbye) and waits until it is gone. */
export function killNow(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
