import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/**
 * A redis-server on a port the caller chose, so it can be killed and started again where the
 * orchestrator expects it (local/stand-ins/redis-launcher picks a new port each time).
 */
export async function startRedisOn(port: number, timeoutMs = 10_000): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
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
    if (up) return child;
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
