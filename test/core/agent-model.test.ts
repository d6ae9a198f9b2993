import { describe, expect, it } from 'vitest';
import { agentStatus, isExpired, lastHeartbeatMs, MISSED_HEARTBEATS_BEFORE_UNHEALTHY, toAgentView } from '../../functions/core/agent-model';
import { agentRecord } from '../../harness/fixtures';

const BEAT = Date.parse('2025-01-01T00:00:00.000Z');
const INTERVAL = 10; // seconds

describe('agentStatus from heartbeats', () => {
  it('an agent becomes unhealthy after missing 3 heartbeat intervals', () => {
    expect(MISSED_HEARTBEATS_BEFORE_UNHEALTHY).toBe(3);
  });

  it.each([
    ['just after its heartbeat', 0, 0, 'healthy'],
    ['one interval quiet', 10_000, 0, 'healthy'],
    ['exactly three intervals quiet', 30_000, 0, 'healthy'],
    ['one millisecond past three intervals', 30_001, 0, 'unhealthy'],
    ['an hour quiet', 3_600_000, 0, 'unhealthy'],
    ['past three intervals but within the grace', 34_000, 5_000, 'healthy'],
    ['exactly at three intervals plus grace', 35_000, 5_000, 'healthy'],
    ['past three intervals plus grace', 35_001, 5_000, 'unhealthy'],
    ['with a heartbeat time in the future (clock skew)', -5_000, 0, 'healthy'],
  ] as Array<[string, number, number, string]>)('an agent %s is %s', (_label, quietMs, graceMs, expected) => {
    expect(agentStatus(agentRecord({ last_heartbeat: new Date(BEAT).toISOString() }), BEAT + quietMs, INTERVAL, undefined, graceMs)).toBe(
      expected,
    );
  });

  it.each([[1], [5], [30]])('with a %i-second interval the window is three intervals', (interval) => {
    const agent = agentRecord({ last_heartbeat: new Date(BEAT).toISOString() });
    expect(agentStatus(agent, BEAT + 3 * interval * 1000, interval)).toBe('healthy');
    expect(agentStatus(agent, BEAT + 3 * interval * 1000 + 1, interval)).toBe('unhealthy');
  });

  it('a fresh heartbeat in the cache keeps an agent healthy even when the table is stale', () => {
    const agent = agentRecord({ last_heartbeat: new Date(BEAT).toISOString() });
    const now = BEAT + 600_000;
    expect(agentStatus(agent, now, INTERVAL)).toBe('unhealthy');
    expect(agentStatus(agent, now, INTERVAL, { lastHeartbeatMs: now - 1_000, reportedInFlight: 0 })).toBe('healthy');
  });

  it('an older cached heartbeat does not override a newer one in the table', () => {
    const agent = agentRecord({ last_heartbeat: new Date(BEAT).toISOString() });
    expect(lastHeartbeatMs(agent, { lastHeartbeatMs: BEAT - 60_000, reportedInFlight: 0 })).toBe(BEAT);
    expect(agentStatus(agent, BEAT + 1_000, INTERVAL, { lastHeartbeatMs: BEAT - 60_000, reportedInFlight: 0 })).toBe('healthy');
  });

  it.each([
    ['a fresh heartbeat', 0],
    ['a stale heartbeat', 3_600_000],
  ])('an unregistered (draining) agent is draining whatever its heartbeat: %s', (_label, quietMs) => {
    const agent = agentRecord({ status: 'draining', last_heartbeat: new Date(BEAT).toISOString() });
    expect(agentStatus(agent, BEAT + quietMs, INTERVAL, { lastHeartbeatMs: BEAT + quietMs, reportedInFlight: 0 })).toBe('draining');
  });
});

describe('isExpired', () => {
  const EXP = 1_700_000_000; // seconds
  it.each([
    ['an agent without expires_at never expires', undefined, Number.MAX_SAFE_INTEGER, false],
    ['a draining agent before its expiry is kept', EXP, EXP * 1000 - 1, false],
    ['a draining agent at its expiry second is forgotten', EXP, EXP * 1000, true],
    ['a draining agent after its expiry is forgotten', EXP, EXP * 1000 + 1, true],
  ] as Array<[string, number | undefined, number, boolean]>)('%s', (_label, expiresAt, nowMs, expected) => {
    const agent = agentRecord(expiresAt === undefined ? {} : { status: 'draining', expires_at: expiresAt });
    expect(isExpired(agent, nowMs)).toBe(expected);
  });
});

describe('toAgentView', () => {
  it('shows the derived status, live load and the freshest heartbeat, and never the signing secret', () => {
    const agent = agentRecord({ last_heartbeat: new Date(BEAT).toISOString(), in_flight: 1 });
    const circuit = {
      state: 'open' as const,
      recent_dispatches: 6,
      recent_failures: 5,
      window_seconds: 60,
      open_until: '2025-01-01T00:00:35.000Z',
    };
    const view = toAgentView(agent, 'healthy', { lastHeartbeatMs: BEAT + 5_000, reportedInFlight: 4 }, 4, circuit);
    expect(view).toEqual({
      id: agent.agent_id,
      name: 'cost-agent-1',
      type: 'cost',
      host: '10.0.1.12',
      port: 8080,
      scheme: 'http',
      capabilities: ['analyze_cost'],
      status: 'healthy',
      version: '1.0.0',
      registered_at: '2025-01-01T00:00:00.000Z',
      last_heartbeat: '2025-01-01T00:00:05.000Z',
      in_flight: 4,
      max_concurrency: 10,
      metadata: {},
      circuit,
    });
    expect(JSON.stringify(view)).not.toContain('whsec_');
  });
});
