/**
 * Memory pinning without credentials: 300 connections announce a 9.9 MB upload to a local runtime
 * that has API_TOKENS, send a megabyte each and then hold on. The server answers 401 on the
 * headers and never buffers their bodies, so the orchestrator process stays within a bound.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { call } from '../support/checked-call';

const TOKEN = 'slow-upload-token-0123456789';
const CONNECTIONS = 300;
const SENT_EACH = 1024 * 1024;
/** Growth allowed while the uploads are open: far below the 300 MiB they send. */
const BOUND_BYTES = 96 * 1024 * 1024;
let orch: LocalOrchestrator;

beforeAll(async () => {
  orch = await startLocalOrchestrator({ API_TOKENS: TOKEN });
});
afterAll(() => orch?.dispose());

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

interface Upload {
  /** Settles once SENT_EACH bytes are written or the server hung up. */
  written: Promise<void>;
  /** The status line of the server's answer; undefined if it hung up without one. */
  answer: Promise<string | undefined>;
}

/** Announces 9.9 MB, sends SENT_EACH bytes and then sends nothing more, holding the connection open. */
function slowUpload(port: number, sockets: net.Socket[]): Upload {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let seen = '';
  const answer = new Promise<string | undefined>((resolve) => {
    socket.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      if (seen.includes('\r\n')) resolve(seen.split('\r\n')[0]);
    });
    socket.on('close', () => resolve(undefined));
  });
  const written = new Promise<void>((resolve) => {
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.write(`POST /tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 9900000\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < SENT_EACH && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      resolve();
    };
    pump();
  });
  return { written, answer };
}

describe('slow unauthenticated uploads', () => {
  it(`keep the orchestrator within ${BOUND_BYTES / 1024 / 1024} MiB of its resting RSS (${CONNECTIONS} uploads)`, async () => {
    const pid = orch.proc.child.pid!;
    const port = Number(new URL(orch.url).port);
    // Warm up the route once, then measure.
    expect((await call(orch.url, 'GET', '/tasks', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const resting = rssBytes(pid);
    const sockets: net.Socket[] = [];
    try {
      const uploads = Array.from({ length: CONNECTIONS }, () => slowUpload(port, sockets));
      // Written, or as far as the server would take them within 30 s.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(uploads.map((u) => u.written)), new Promise((r) => (bound = setTimeout(r, 30_000)))]);
      clearTimeout(bound);
      // Much of what was written may still sit in the kernel's socket buffers: watch the process
      // for a few seconds while it reads them (or, when it refused them, drops them).
      let peak = 0;
      for (const until = Date.now() + 5_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        peak = Math.max(peak, rssBytes(pid) - resting);
      }
      expect(peak, `RSS grew by ${Math.round(peak / 1024 / 1024)} MiB`).toBeLessThan(BOUND_BYTES);
      const statuses = new Set(await Promise.all(uploads.map((u) => u.answer)));
      expect([...statuses]).toEqual(['HTTP/1.1 401 Unauthorized']);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // The process serves as before.
    expect((await call(orch.url, 'GET', '/health')).status).toBe(200);
  }, 120_000);
});
