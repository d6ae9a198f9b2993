/**
 * A real Redis Cluster for the tests, as ElastiCache Serverless is one: three masters (no replicas)
 * from Debian's redis-server, TLS only (a certificate made by openssl for 127.0.0.1, the cluster bus
 * over TLS too), a password, bound to 127.0.0.1 on free ports, stopped by pid.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findOnPath } from '../local/stand-ins/redis-launcher';
import { freePort, tempDir } from './processes';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  pid: number;
  /** CLUSTER MYID. */
  id: string;
}

export interface RedisCluster {
  /** rediss:// with the password, naming one node: a cluster client learns the others from it. */
  url: string;
  /** The certificate authority that signed the nodes' certificate, for the client's `tls.ca`. */
  ca: Buffer;
  nodes: ClusterNode[];
  /** A plain (not cluster-mode) connection to one node, for CLUSTER commands. Closed by stop(). */
  node(port: number): Redis;
  stop(): Promise<void>;
}

function need(tool: string): string {
  const found = findOnPath(tool);
  if (!found) throw new Error(`the cluster tests need ${tool} on PATH (apt-get install -y redis-server openssl)`);
  return found;
}

/** A CA, and a server certificate it signs for 127.0.0.1 (an IP subject alternative name, as TLS clients check). */
async function certificates(dir: string): Promise<void> {
  const openssl = need('openssl');
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=test cluster CA']);
  await run(openssl, ['req', ...ec, '-keyout', f('node.key'), '-out', f('node.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run(openssl, [
    'x509',
    '-req',
    '-in',
    f('node.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('node.crt'),
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
  ]);
}

/** Free ports, distinct from one another. */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the test cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const server = need('redis-server');
  const temp = tempDir('redis-cluster-');
  const dir = temp.dir;
  const children: ChildProcess[] = [];
  const admins = new Map<number, Redis>();
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const stop = async () => {
    for (const a of admins.values()) a.disconnect();
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    process.off('exit', killAll);
    temp.remove();
  };
  try {
    await certificates(dir);
    const ca = readFileSync(path.join(dir, 'ca.crt'));
    const password = randomBytes(24).toString('hex');
    // Client and bus ports chosen apart: `cluster-port` names the bus port rather than port + 10000,
    // which may be taken (or past 65535) when the client port is a high ephemeral one.
    const ports = await distinctFreePorts(2 * masters);
    const clientPorts = ports.slice(0, masters);
    clientPorts.forEach((port, i) => {
      const nodeDir = path.join(dir, String(port));
      mkdirSync(nodeDir, { mode: 0o700 });
      // In a file of mode 0600 (not on the command line, where `ps` would show the password).
      const conf = [
        `port 0`,
        `tls-port ${port}`,
        `cluster-port ${ports[masters + i]}`,
        `bind 127.0.0.1`,
        `cluster-enabled yes`,
        `cluster-config-file nodes.conf`,
        `tls-cluster yes`,
        `tls-cert-file ${path.join(dir, 'node.crt')}`,
        `tls-key-file ${path.join(dir, 'node.key')}`,
        `tls-ca-cert-file ${path.join(dir, 'ca.crt')}`,
        `tls-auth-clients no`,
        `requirepass ${password}`,
        `masterauth ${password}`,
        `save ""`,
        `appendonly no`,
        `loglevel warning`,
      ];
      writeFileSync(path.join(nodeDir, 'redis.conf'), `${conf.join('\n')}\n`, { mode: 0o600 });
      children.push(spawn(server, ['redis.conf'], { cwd: nodeDir, stdio: 'ignore' }));
    });
    const admin = (port: number) => {
      let a = admins.get(port);
      if (!a) {
        a = new Redis({ host: '127.0.0.1', port, password, tls: { ca }, maxRetriesPerRequest: 1, lazyConnect: true });
        a.on('error', () => undefined);
        admins.set(port, a);
      }
      return a;
    };
    for (const port of clientPorts)
      await until(`node ${port} answers PING over TLS`, async () => ((await admin(port).ping()) === 'PONG' ? true : undefined));
    // What `redis-cli --cluster create --cluster-replicas 0` does, without its one-second polls:
    // distinct config epochs, an even share of the 16384 slots each, then every node meets the first.
    const share = Math.ceil(16_384 / masters);
    for (const [i, port] of clientPorts.entries()) {
      await admin(port).cluster('SET-CONFIG-EPOCH', i + 1);
      await admin(port).cluster('ADDSLOTSRANGE', i * share, Math.min(16_383, (i + 1) * share - 1));
    }
    // MEET takes the bus port too: it would assume port + 10000 otherwise.
    for (let i = 1; i < masters; i++) await admin(clientPorts[0]!).cluster('MEET', '127.0.0.1', clientPorts[i]!, ports[masters + i]!);
    for (const port of clientPorts) {
      await until(`node ${port} reports cluster_state:ok`, async () =>
        String(await admin(port).cluster('INFO')).includes('cluster_state:ok') ? true : undefined,
      );
    }
    const nodes = await Promise.all(
      clientPorts.map(async (port, i) => ({ port, pid: children[i]!.pid!, id: String(await admin(port).cluster('MYID')) })),
    );
    return { url: `rediss://:${password}@127.0.0.1:${clientPorts[0]}`, ca, nodes, node: admin, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The node that serves `slot` now (CLUSTER SLOTS as `node` sees it). */
export async function ownerOf(cluster: RedisCluster, slot: number, asSeenBy = cluster.nodes[0]!): Promise<ClusterNode> {
  const ranges = await cluster.node(asSeenBy.port).cluster('SLOTS');
  const range = ranges.find(([from, to]) => from <= slot && slot <= to);
  const owner = cluster.nodes.find((n) => n.id === range?.[2]?.[2]);
  if (!owner) throw new Error(`no node serves slot ${slot}`);
  return owner;
}

/**
 * Moves `slot` to `target` as `redis-cli --cluster reshard` does: IMPORTING on the target,
 * MIGRATING on the source, MIGRATE key by key (calling `between` after each, so clients meet the
 * slot half moved: ASK for keys already gone, TRYAGAIN for commands whose keys are split), then
 * SETSLOT NODE on every node.
 */
export async function moveSlot(cluster: RedisCluster, slot: number, target: ClusterNode, between: () => Promise<void>): Promise<number> {
  const source = await ownerOf(cluster, slot);
  if (source.id === target.id) throw new Error(`slot ${slot} is already on node ${target.port}`);
  const [src, dst] = [cluster.node(source.port), cluster.node(target.port)];
  const password = decodeURIComponent(new URL(cluster.url).password);
  await dst.cluster('SETSLOT', slot, 'IMPORTING', source.id);
  await src.cluster('SETSLOT', slot, 'MIGRATING', target.id);
  let moved = 0;
  for (;;) {
    const keys = await src.cluster('GETKEYSINSLOT', slot, 1);
    if (keys.length === 0) break;
    await src.call('MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'AUTH', password, 'KEYS', ...keys);
    moved += keys.length;
    await between();
  }
  await dst.cluster('SETSLOT', slot, 'NODE', target.id);
  await src.cluster('SETSLOT', slot, 'NODE', target.id);
  for (const other of cluster.nodes.filter((n) => n.id !== source.id && n.id !== target.id)) {
    await cluster.node(other.port).cluster('SETSLOT', slot, 'NODE', target.id);
  }
  return moved;
}
