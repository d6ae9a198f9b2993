/**
 * A submitter's callback endpoint: a node:http server on 127.0.0.1 that records every POST (headers
 * and raw body, to verify its signature) and answers each with the next scripted status, 200 once
 * the script is spent. Lives in the test's process, so it outlasts an orchestrator's restart.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: Record<string, unknown>;
  /** The status it was answered with. */
  status: number;
  /** When it came (ms since epoch). */
  at: number;
}

export interface CallbackReceiver {
  /** The URL to submit as `callback_url` (`path` appended). */
  url(path?: string): string;
  received: ReceivedCallback[];
  /** Statuses for the next POSTs, in order. */
  answer(...statuses: number[]): void;
  /** Resolves once `count` POSTs have come (to `path` when given), or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number, path?: string): Promise<ReceivedCallback[]>;
  stop(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const script: number[] = [];
  const listeners = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const status = script.shift() ?? 200;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ path: req.url ?? '', headers, raw, body: JSON.parse(raw) as Record<string, unknown>, status, at: Date.now() });
      res.writeHead(status).end();
      for (const listener of listeners) listener();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const matching = (path?: string) => received.filter((r) => path === undefined || r.path === path);
  return {
    url: (path = '/callback') => `http://127.0.0.1:${port}${path}`,
    received,
    answer: (...statuses) => void script.push(...statuses),
    waitFor: (count, timeoutMs, path) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (matching(path).length < count) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(matching(path));
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${matching(path).length} of ${count} callbacks came to ${path ?? 'the receiver'} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
