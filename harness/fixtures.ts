/** Builders of plain task and agent records, for the tests and the benchmarks: no mocks. */
import type { AgentRecord } from '../functions/core/agent-model';
import type { Task } from '../functions/core/task-model';

export function agentRecord(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    agent_id: '00000000-0000-5000-8000-000000000001',
    name: 'cost-agent-1',
    type: 'cost',
    host: '10.0.1.12',
    port: 8080,
    capabilities: ['analyze_cost'],
    status: 'healthy',
    version: '1.0.0',
    max_concurrency: 10,
    metadata: {},
    registered_at: '2025-01-01T00:00:00.000Z',
    last_heartbeat: '2025-01-01T00:00:00.000Z',
    in_flight: 0,
    signing_secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    token_hash: '0'.repeat(64),
    ...overrides,
  };
}

export function task(overrides: Partial<Task> = {}): Task {
  return {
    task_id: '11111111-1111-4111-8111-111111111111',
    task_type: 'analyze_cost',
    agent_type: 'cost',
    priority: 5,
    parameters: {},
    metadata: {},
    timeout_seconds: 30,
    max_retries: 3,
    status: 'pending',
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
    attempts: 0,
    ...overrides,
  };
}
