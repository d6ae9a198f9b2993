import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../../local/stand-ins/listen';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What the server does with one request: answer with a status and JSON, hang up, or never answer. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | { hangUp: true } | { silent: true };

export interface RecordingServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next requests in order; once they are used up, `fallback` answers. */
  reply(...replies: Reply[]): void;
  /** Resolves when the server has received `count` requests in all. */
  received(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers from a script. */
export async function startRecordingServer(fallback: (req: RecordedRequest) => Reply = () => ({ status: 404 })): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const script: Reply[] = [];
  const waiters = new Set<() => void>();
  const open = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      for (const w of waiters) w();
      const reply = script.shift() ?? fallback(recorded);
      if ('hangUp' in reply) return req.socket.destroy();
      if ('silent' in reply) return void open.add(res);
      const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...replies) => void script.push(...replies),
    received(count) {
      return new Promise((resolve) => {
        const check = () => {
          if (requests.length < count) return;
          waiters.delete(check);
          resolve(requests.slice(0, count));
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const res of open) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
