/**
 * A minimal agent that accepts every delivery with 202 and reports only when the test says so: a
 * node:http server on 127.0.0.1 that registers, heartbeats, records its deliveries and the cancel
 * notices it gets. It speaks the wire protocol by hand, without the SDK, as any agent may.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AcceptedDelivery {
  taskId: string;
  attempt: number;
  body: Record<string, unknown>;
}

export interface AcceptingAgent {
  id: string;
  token: string;
  deliveries: AcceptedDelivery[];
  cancels: Array<{ path: string; webhookId: string; body: unknown }>;
  /** POSTs to the orchestrator as this agent (its X-Agent-Token), answering status and body. */
  send(path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export interface AcceptingAgentOptions {
  name: string;
  type: string;
  capabilities: string[];
  heartbeatMs?: number;
  maxConcurrency?: number;
  /**
   * Reports on its own: `workMs` after each delivery it POSTs the result to the delivery's
   * report_url, sending a keep-alive (an empty progress) every heartbeat_timeout_seconds / 2
   * meanwhile, as the SDK does for a long-running handler.
   */
  autoReport?: { workMs: number };
}

export async function startAcceptingAgent(orchestratorUrl: string, options: AcceptingAgentOptions): Promise<AcceptingAgent> {
  const deliveries: AcceptedDelivery[] = [];
  const cancels: AcceptingAgent['cancels'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (req.url === '/task') {
        const delivery = { taskId: String(body.task_id), attempt: Number(req.headers['x-optiinfra-attempt']), body };
        deliveries.push(delivery);
        if (options.autoReport) work(delivery, options.autoReport.workMs);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ task_id: body.task_id, status: 'running' }));
      } else if (req.url?.endsWith('/cancel')) {
        cancels.push({ path: req.url, webhookId: String(req.headers['webhook-id']), body });
        res.writeHead(200).end();
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${orchestratorUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { 'x-agent-token': token } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const registered = await post('/agents/register', {
    name: options.name,
    type: options.type,
    host: '127.0.0.1',
    port,
    capabilities: options.capabilities,
    max_concurrency: options.maxConcurrency ?? 5,
  });
  if (registered.status !== 201 && registered.status !== 200) {
    server.close();
    throw new Error(`registration failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  const id = String(registered.body.id);
  const token = String(registered.body.agent_token);
  const timers = new Set<NodeJS.Timeout>();
  function work(delivery: AcceptedDelivery, workMs: number): void {
    const keepAliveMs = (Number(delivery.body.heartbeat_timeout_seconds) * 1000) / 2;
    const path = (url: unknown) => new URL(String(url)).pathname;
    const keepAlive = setInterval(() => void post(path(delivery.body.progress_url), { attempt: delivery.attempt }, token), keepAliveMs);
    timers.add(keepAlive);
    const done = setTimeout(() => {
      clearInterval(keepAlive);
      timers.delete(keepAlive);
      timers.delete(done);
      const report = { status: 'completed', result: { echo: delivery.body.parameters }, attempt: delivery.attempt };
      void post(path(delivery.body.report_url), report, token);
    }, workMs);
    timers.add(done);
  }
  const beat = setInterval(() => void post(`/agents/${id}/heartbeat`, {}, token).catch(() => undefined), options.heartbeatMs ?? 1_000);
  return {
    id,
    token,
    deliveries,
    cancels,
    send: (path, body, as = token) => post(path, body, as),
    async stop() {
      clearInterval(beat);
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
