import type { AgentListResponse, AgentView } from '@optiinfra/contract';
import { call } from './api';
import { LIST_LIMIT } from './filters';
import { formatAgo } from './format';
import { REFRESH_MS, useNow, usePoll } from './hooks';
import { ErrorText, Status } from './parts';

function circuitText(agent: AgentView, now: number): string {
  const { state, recent_failures, recent_dispatches, window_seconds, open_until } = agent.circuit;
  const recent = `${recent_failures} of ${recent_dispatches} failed in ${window_seconds} s`;
  return state === 'open' && open_until
    ? `open, probe ${formatAgo(open_until, now)} (${recent})`
    : `${state.replace('_', '-')} (${recent})`;
}

function AgentRow({ agent, now }: { agent: AgentView; now: number }) {
  return (
    <tr data-testid="agent-row" data-agent-id={agent.id}>
      <td>
        <strong>{agent.name}</strong>
        <div class="hint mono">{agent.id}</div>
      </td>
      <td>
        <Status value={agent.status} testId="agent-status" />
      </td>
      <td>
        {agent.type}: {agent.capabilities.join(', ')}
      </td>
      <td class="num" data-testid="agent-inflight">
        {agent.in_flight} / {agent.max_concurrency}
      </td>
      <td data-testid="agent-circuit" class={`circuit-${agent.circuit.state}`}>
        {circuitText(agent, now)}
      </td>
      <td data-testid="agent-heartbeat" title={agent.last_heartbeat}>
        {formatAgo(agent.last_heartbeat, now)}
      </td>
      <td class="mono">
        {agent.scheme}://{agent.host}:{agent.port}
      </td>
    </tr>
  );
}

export function AgentsPage() {
  const now = useNow();
  const agents = usePoll((signal) => call<AgentListResponse>(`/agents?limit=${LIST_LIMIT}`, { signal }), REFRESH_MS, 'agents');
  const list = agents.data?.agents ?? [];
  return (
    <section data-testid="agents-page">
      <h1>Agents</h1>
      <ErrorText text={agents.error} testId="agents-error" />
      <p class="hint">
        Read again every {REFRESH_MS / 1000} s. Unhealthy: missed 3 heartbeats. Draining: takes no new tasks. Circuit open: too many recent
        failures, out of rotation until its probe.
      </p>
      <table>
        <thead>
          <tr>
            <th>Agent</th>
            <th>Status</th>
            <th>Type: capabilities</th>
            <th class="num">In flight / capacity</th>
            <th>Circuit</th>
            <th>Last heartbeat</th>
            <th>Address</th>
          </tr>
        </thead>
        <tbody>
          {list.map((a) => (
            <AgentRow key={a.id} agent={a} now={now} />
          ))}
        </tbody>
      </table>
      {agents.data && list.length === 0 && <p class="hint">No agent is registered.</p>}
    </section>
  );
}
