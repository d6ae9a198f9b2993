/**
 * What the routing-under-load tests share: `npm start`'s entry point as a real process with a real
 * redis-server (its circuit breaker tuned to open after 4 dispatches, half of them failed, and cool
 * down in COOLDOWN_SECONDS), real agent processes (examples/fault-agent.ts), and the calls the tests
 * make. Each test file that calls `routingOrchestrator()` gets its own orchestrator, started before
 * its tests and stopped, with its agents, after them.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { type AgentProcess, type FaultAgentOptions, startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { waitUntil } from '../../harness/wait';
import { call } from '../support/checked-call';

export const COOLDOWN_SECONDS = 4;

export interface AgentJson {
  id: string;
  status: string;
  in_flight: number;
  circuit: { state: string; recent_dispatches: number; recent_failures: number; open_until?: string };
}

export function routingOrchestrator() {
  let orch: LocalOrchestrator | undefined;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    orch = await startLocalOrchestrator({
      BREAKER_MIN_DISPATCHES: '4',
      BREAKER_FAILURE_RATIO: '0.5',
      BREAKER_WINDOW_SECONDS: '60',
      BREAKER_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await orch?.dispose();
  });

  const started = (): LocalOrchestrator => {
    if (!orch) throw new Error('the orchestrator is not started yet');
    return orch;
  };

  return {
    orch: started,
    agent: async (options: FaultAgentOptions): Promise<AgentProcess> => {
      const a = await startFaultAgent(started().url, options);
      agents.push(a);
      return a;
    },
    submit: async (body: Record<string, unknown>): Promise<string> => {
      const res = await call<{ task_id: string }>(started().url, 'POST', '/tasks', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.task_id;
    },
    agentView: async (id: string): Promise<AgentJson> => (await call<AgentJson>(started().url, 'GET', `/agents/${id}`)).body,
    until: <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> =>
      waitUntil(what, probe, ok, { timeoutMs, intervalMs: 150 }),
  };
}
