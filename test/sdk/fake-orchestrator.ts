import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  at: number;
  authorization?: string;
  agentToken?: string;
  fleetToken?: string;
}

/** An answer the fake gives to the next report or progress instead of 200. */
export type CannedAnswer = { status: number; body: unknown };

/**
 * The orchestrator's /agents routes, just enough to unit-test agents: answers registration with a
 * fixed signing secret and a short heartbeat interval, records every call, and can be told to forget
 * an agent (heartbeat 404) or to refuse registrations. For asynchronous delivery it takes reports
 * (POST /tasks/{id}/result) and progress (POST /tasks/{id}/progress), answering 200 unless answers
 * were queued in `reportAnswers` / `progressAnswers`, and signs cancel notices (`sendCancel`).
 */
export class FakeOrchestrator {
  readonly calls: RecordedCall[] = [];
  readonly signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
  /** Agents it knows, by id. */
  readonly agents = new Map<string, Record<string, unknown>>();
  heartbeatIntervalSeconds = 0.2;
  /** When set, POST /agents/register answers this instead of registering. */
  refuseRegistration: { status: number; body: unknown } | undefined;
  /** When set, heartbeats answer this until the agent registers again (as the orchestrator does for a token it no longer accepts). */
  refuseHeartbeats: { status: number; body: unknown } | undefined;
  /** Answers for the next reports, in order; 200 once empty. */
  readonly reportAnswers: CannedAnswer[] = [];
  /** Answers for the next progress calls, in order; 200 once empty. */
  readonly progressAnswers: CannedAnswer[] = [];
  /** Heartbeat timeout the progress answer's deadline is computed with. */
  heartbeatTimeoutSeconds = 60;
  private registrations = 0;
  private readonly ids = new Map<string, string>();
  private readonly server: http.Server;
  private waiters: Array<() => void> = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        const path = req.url ?? '/';
        this.calls.push({
          method: req.method ?? '',
          path,
          body,
          at: Date.now(),
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(typeof req.headers['x-agent-token'] === 'string' ? { agentToken: req.headers['x-agent-token'] } : {}),
          ...(typeof req.headers['x-fleet-token'] === 'string' ? { fleetToken: req.headers['x-fleet-token'] } : {}),
        });
        const [status, answer] = this.answer(req.method ?? '', path, body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  forget(id: string): void {
    this.agents.delete(id);
  }

  callsTo(method: string, pattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  /** Resolves once `predicate` holds after some call, failing after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; calls: ${JSON.stringify(this.calls.map((c) => `${c.method} ${c.path}`))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Sends agent `agentUrl` a cancel notice for `taskId`'s `attempt`, signed as the orchestrator signs
   * it (webhook-id `<task_id>:<attempt>:cancel`), or with `secret` / `id` / `at` instead to test refusals.
   */
  async sendCancel(
    agentUrl: string,
    taskId: string,
    attempt: number,
    options: { secret?: string; id?: string; at?: Date; unsigned?: boolean } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const text = JSON.stringify({ task_id: taskId, attempt, reason: 'cancelled' });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!options.unsigned) {
      const id = options.id ?? `${taskId}:${attempt}:cancel`;
      const at = options.at ?? new Date();
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(Math.floor(at.getTime() / 1000));
      headers['webhook-signature'] = new Webhook(options.secret ?? this.signingSecret).sign(id, at, text);
    }
    const res = await fetch(`${agentUrl}/task/${encodeURIComponent(taskId)}/cancel`, { method: 'POST', headers, body: text });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  private answer(method: string, path: string, body: unknown): [number, unknown] {
    const taskCall = /^\/tasks\/([^/]+)\/(result|progress)$/.exec(path);
    if (method === 'POST' && taskCall) {
      const canned = (taskCall[2] === 'result' ? this.reportAnswers : this.progressAnswers).shift();
      if (canned) return [canned.status, canned.body];
      const taskId = decodeURIComponent(taskCall[1]!);
      if (taskCall[2] === 'result') return [200, { task_id: taskId, status: (body as { status?: unknown }).status }];
      const deadline = new Date(Date.now() + this.heartbeatTimeoutSeconds * 1000).toISOString();
      return [200, { task_id: taskId, status: 'running', heartbeat_deadline: deadline }];
    }
    if (method === 'POST' && path === '/agents/register') {
      if (this.refuseRegistration) return [this.refuseRegistration.status, this.refuseRegistration.body];
      const req = body as Record<string, unknown>;
      const key = `${String(req.name)}|${String(req.host)}|${String(req.port)}`;
      const id = this.ids.get(key) ?? randomUUID();
      this.ids.set(key, id);
      const agent = { ...req, id, status: 'healthy', in_flight: 0 };
      this.agents.set(id, agent);
      this.refuseHeartbeats = undefined;
      return [
        201,
        {
          ...agent,
          heartbeat_interval_seconds: this.heartbeatIntervalSeconds,
          agent_token: `oat_fake-${id}-${++this.registrations}`,
          signing_secret: this.signingSecret,
        },
      ];
    }
    const heartbeat = /^\/agents\/([^/]+)\/heartbeat$/.exec(path);
    if (method === 'POST' && heartbeat) {
      if (this.refuseHeartbeats) return [this.refuseHeartbeats.status, this.refuseHeartbeats.body];
      const agent = this.agents.get(heartbeat[1]!);
      if (!agent)
        return [
          404,
          { error: `agent ${heartbeat[1]} is not registered; register again with POST /agents/register`, code: 'agent_not_found' },
        ];
      agent.in_flight = (body as Record<string, unknown>).in_flight;
      return [
        200,
        {
          id: heartbeat[1],
          status: 'healthy',
          last_heartbeat: new Date().toISOString(),
          heartbeat_interval_seconds: this.heartbeatIntervalSeconds,
        },
      ];
    }
    const drain = /^\/agents\/([^/]+)\/drain$/.exec(path);
    if (method === 'POST' && drain) {
      const agent = this.agents.get(drain[1]!);
      if (!agent) return [404, { error: `agent ${drain[1]} is not registered`, code: 'agent_not_found' }];
      agent.status = 'draining';
      return [200, { message: `agent ${drain[1]} is draining`, agent }];
    }
    const agentPath = /^\/agents\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && agentPath) {
      const agent = this.agents.get(agentPath[1]!);
      if (!agent) return [404, { error: `agent ${agentPath[1]} is not registered`, code: 'agent_not_found' }];
      agent.status = 'draining';
      return [200, { message: `agent ${agentPath[1]} unregistered`, agent }];
    }
    return [404, { error: `no route ${method} ${path}`, code: 'not_found' }];
  }
}
