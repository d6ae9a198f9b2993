import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the seed agent made to the orchestrator, and the status it got. */
export interface SeedCall {
  method: string;
  path: string;
  status: number;
}

export interface SeedAgent {
  id: string;
  port: number;
  /** Every call to the orchestrator so far, in order. */
  calls: SeedCall[];
  /** Task ids delivered to it, in order. */
  delivered: string[];
  /** Stops heartbeating and serving, then unregisters as the seed's agent does on shutdown (DELETE, no token). */
  stop(): Promise<number>;
  /** Stops heartbeating and serving without unregistering: a crash. */
  crash(): Promise<void>;
}

/**
 * An agent that knows only the seed protocol (FOUNDATION-0.7): it serves POST /task and GET /health,
 * registers with host "localhost" as the seed's example agent does, heartbeats every `heartbeatMs`
 * (it does not read heartbeat_interval_seconds, and sends no X-Agent-Token: it has never heard of
 * tokens), registers again on 404 and unregisters with DELETE. A real HTTP server and real calls,
 * small enough to read in one go; examples/plain_agent.py is the full-size one, which does send tokens.
 */
export async function startSeedAgent(
  orchestratorUrl: string,
  options: { name: string; type: string; capabilities: string[]; heartbeatMs: number; port?: number },
): Promise<{ agent?: SeedAgent; refused?: { status: number; body: Record<string, unknown> } }> {
  const delivered: string[] = [];
  const calls: SeedCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/health') return send(200, { status: 'healthy', registered_tasks: options.capabilities });
      if (req.method !== 'POST' || req.url !== '/task') return send(404, { error: 'not found' });
      const task = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { task_id: string; parameters: unknown };
      delivered.push(task.task_id);
      send(200, { task_id: task.task_id, status: 'completed', result: { echo: task.parameters }, error: null, execution_time_ms: 1 });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stopServer = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${orchestratorUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    calls.push({ method, path, status: res.status });
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const registration = { name: options.name, type: options.type, host: 'localhost', port, capabilities: options.capabilities };
  const registered = await request('POST', '/agents/register', registration);
  if (registered.status !== 201) {
    await stopServer();
    return { refused: registered };
  }
  const id = String(registered.body.id);
  let beating = true;
  const loop = (async () => {
    while (beating) {
      await new Promise((resolve) => setTimeout(resolve, options.heartbeatMs));
      if (!beating) break;
      const beat = await request('POST', `/agents/${id}/heartbeat`, {}).catch(() => undefined);
      if (beat?.status === 404) await request('POST', '/agents/register', registration).catch(() => undefined);
    }
  })();
  const halt = async () => {
    beating = false;
    await loop;
    await stopServer();
  };
  return {
    agent: {
      id,
      port,
      calls,
      delivered,
      async stop() {
        await halt();
        return (await request('DELETE', `/agents/${id}`)).status;
      },
      crash: halt,
    },
  };
}
