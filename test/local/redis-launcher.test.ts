import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { findOnPath, type RedisInstance, startRedis } from '../../local/stand-ins/redis-launcher';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-launcher-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Running, not a zombie waiting for whichever process inherited it to reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function started(options: Parameters<typeof startRedis>[0] = {}): Promise<Extract<RedisInstance, { kind: 'spawned' }>> {
  const redis = await startRedis(options);
  if (redis.kind !== 'spawned') throw new Error(`expected a spawned redis-server, got ${redis.kind}`);
  cleanups.push(() => redis.stop());
  return redis;
}

function client(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  cleanups.push(() => c.disconnect());
  return c;
}

/** One command in Redis's inline form on a plain socket, as anything on the machine could send it; the first reply line. */
function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

describe('startRedis', () => {
  it('finds redis-server on PATH without a shell', () => {
    expect(findOnPath('redis-server')).toMatch(/\/redis-server$/);
    expect(findOnPath('redis-server', '/nonexistent:/also-not-there')).toBeUndefined();
  });

  it('starts redis-server on 127.0.0.1 on a free port, and stop() ends the process', async () => {
    const redis = await started({ env: { PATH: process.env.PATH } });
    expect(redis.url).toMatch(/^redis:\/\/:[0-9a-f]{48}@127\.0\.0\.1:\d+$/);
    expect(isAlive(redis.pid)).toBe(true);
    const c = client(redis.url);
    await c.set('k', 'v');
    expect(await c.get('k')).toBe('v');
    expect(await c.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await c.config('GET', 'save')).toEqual(['save', '']);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    c.disconnect();
    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
  });

  it('requires a password of its own, which is in the URL and neither on the command line nor left in a file', async () => {
    const redis = await started({ env: { PATH: process.env.PATH } });
    const { password, port } = new URL(redis.url);
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    // Anything else on the machine that connects without it can neither read nor forge a cached result.
    expect(await rawCommand(Number(port), 'SET task:forged x')).toMatch(/^-NOAUTH/);
    expect(await client(redis.url).ping()).toBe('PONG');
    // `ps` shows /proc/<pid>/cmdline to every user; the config file it was given is gone.
    const cmdline = readFileSync(`/proc/${redis.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(password);
    const psLine = execFileSync('ps', ['-o', 'args=', '-p', String(redis.pid)], { encoding: 'utf8' });
    expect(psLine).not.toContain(password);
    const [configFile] = (await client(redis.url).info('server')).match(/config_file:(.*)/)?.slice(1) ?? [];
    expect(configFile?.trim()).toMatch(/optiinfra-redis-.*redis\.conf$/);
    expect(existsSync(configFile!.trim())).toBe(false);
  });

  it('gives each start its own password', async () => {
    const a = await started({ env: { PATH: process.env.PATH } });
    const b = await started({ env: { PATH: process.env.PATH } });
    expect(new URL(a.url).password).not.toBe(new URL(b.url).password);
  });

  it('keeps data in dataDir across a restart', async () => {
    const dataDir = tempDir();
    const first = await started({ dataDir, env: { PATH: process.env.PATH } });
    const c1 = client(first.url);
    await c1.set('kept', 'yes');
    c1.disconnect();
    await first.stop();

    const second = await started({ dataDir, env: { PATH: process.env.PATH } });
    expect(await client(second.url).get('kept')).toBe('yes');
  });

  it('stops a redis-server that an earlier run left on the same dataDir', async () => {
    const dataDir = tempDir();
    const leftover = await started({ dataDir, env: { PATH: process.env.PATH } });
    const next = await started({ dataDir, env: { PATH: process.env.PATH } });
    expect(isAlive(leftover.pid)).toBe(false);
    expect(isAlive(next.pid)).toBe(true);
  });

  it('leaves no redis-server behind when the process that started it exits', async () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const script = `const { startRedis } = await import(${JSON.stringify(path.join(root, 'local/stand-ins/redis-launcher.ts'))});
      const redis = await startRedis({ env: { PATH: process.env.PATH } });
      console.log(redis.pid);
      process.exit(0);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(pid)).toBe(false);
  });

  it('uses REDIS_URL as it is, starting nothing', async () => {
    const redis = await startRedis({ env: { REDIS_URL: 'redis://10.1.2.3:6379', PATH: process.env.PATH } });
    expect(redis).toMatchObject({ kind: 'external', url: 'redis://10.1.2.3:6379' });
  });

  it("answers 'none' when there is no redis-server to start", async () => {
    expect(await startRedis({ env: { PATH: '/nonexistent' } })).toEqual({ kind: 'none' });
  });
});
