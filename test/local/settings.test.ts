import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/composition/config';
import { localSettings, ownTargets, publicHost, reconcileIntervalSeconds, redactedUrl } from '../../local/settings';

/** Each wrong value, and the message both the functions' cold start and `npm start` stop with. */
const WRONG: Array<[Record<string, string>, string]> = [
  [
    { ALLOWED_AGENT_NETWORKS: 'this-is-not-a-cidr' },
    'ALLOWED_AGENT_NETWORKS has "this-is-not-a-cidr", which is not a CIDR such as 10.0.0.0/16',
  ],
  [{ ALLOWED_AGENT_NETWORKS: '127.0.0.0/8,maybe' }, 'ALLOWED_AGENT_NETWORKS has "maybe", which is not a CIDR such as 10.0.0.0/16'],
  [{ ALLOW_PUBLIC_AGENTS: 'maybe' }, 'ALLOW_PUBLIC_AGENTS must be true or false (or 1 or 0), got "maybe"'],
  [{ RETRY_BASE_DELAY_SECONDS: 'abc' }, 'RETRY_BASE_DELAY_SECONDS must be a whole number of seconds from 0 to 600, got "abc"'],
  // Number() reads these as 0, 16 and 1000: a setting that is not written as a number is not one.
  [{ RETRY_BASE_DELAY_SECONDS: '' }, 'RETRY_BASE_DELAY_SECONDS must be a whole number of seconds from 0 to 600, got ""'],
  [{ QUEUE_TIMEOUT_SECONDS: '0x10' }, 'QUEUE_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 86400, got "0x10"'],
  [{ MAX_BODY_BYTES: '1e6' }, 'MAX_BODY_BYTES must be a whole number of bytes from 1024 to 1048576, got "1e6"'],
  [{ BREAKER_FAILURE_RATIO: '1.5' }, 'BREAKER_FAILURE_RATIO must be a number greater than 0 and at most 1, such as 0.5, got "1.5"'],
  [{ WORKFLOW_MODE: 'fast' }, 'WORKFLOW_MODE must be auto or standard, got "fast"'],
  // AWS fails a Standard execution at 25 000 events: a budget beyond that would never hand over in time.
  [{ WORKFLOW_HISTORY_BUDGET: '30000' }, 'WORKFLOW_HISTORY_BUDGET must be a whole number of events from 200 to 25000, got "30000"'],
  [{ CACHE_URL: 'http://127.0.0.1:6379' }, 'CACHE_URL must be a redis://, rediss:// or memory:// URL, got "http://127.0.0.1:6379"'],
  [{ DENIED_AGENT_TARGETS: '127.0.0.1' }, 'DENIED_AGENT_TARGETS has "127.0.0.1", which is not host:port'],
  [{ FLEET_TOKENS: 'short' }, 'FLEET_TOKENS must list tokens of at least 16 characters without spaces, separated by commas'],
];

describe('loadConfig: the functions refuse a wrong setting at cold start, naming it and what it accepts', () => {
  it.each(WRONG)('%o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(`invalid configuration: ${message}`);
  });

  it('takes values written as numbers, with the defaults for what is not set', () => {
    const c = loadConfig({ RETRY_BASE_DELAY_SECONDS: ' 7 ', BREAKER_FAILURE_RATIO: '0.25', ALLOW_PUBLIC_AGENTS: '0' });
    expect(c.settings.retryBaseDelaySeconds).toBe(7);
    expect(c.settings.breaker.failureRatio).toBe(0.25);
    expect(c.settings.networkPolicy.allowPublic).toBe(false);
    expect(c.settings.queueTimeoutSeconds).toBe(300);
  });

  it('the cache in CACHE_URL is never an agent target, by the host and port written there', () => {
    const c = loadConfig({
      CACHE_URL: 'rediss://my-cache.serverless.use1.cache.amazonaws.com:6379',
      DENIED_AGENT_TARGETS: '10.0.0.9:8080',
    });
    expect(c.settings.networkPolicy.denied?.map((d) => [d.name ?? d.net?.[0].toString(), d.port, d.what])).toEqual([
      ['10.0.0.9', 8080, 'listed in DENIED_AGENT_TARGETS'],
      ['my-cache.serverless.use1.cache.amazonaws.com', 6379, 'the cache (CACHE_URL)'],
    ]);
    expect(loadConfig({ CACHE_URL: 'redis://:secret@127.0.0.1' }).settings.networkPolicy.denied?.[0]).toMatchObject({ port: 6379 });
    expect(loadConfig({ CACHE_URL: 'memory://local' }).settings.networkPolicy.denied).toEqual([]);
  });
});

describe('localSettings: npm start applies the settings as given, or stops', () => {
  it.each(WRONG)('stops on %o with the same message as the functions', (env, message) => {
    expect(() => localSettings(env)).toThrow(message);
  });

  it.each(['0', '3601', '1.5', 'abc', ''])('refuses RECONCILE_INTERVAL_SECONDS=%j, naming it', (value) => {
    expect(() => localSettings({ RECONCILE_INTERVAL_SECONDS: value })).toThrow(
      /^RECONCILE_INTERVAL_SECONDS must be a whole number of seconds from 1 to 3600/,
    );
  });

  it('runs the reconciler every 30 s unless RECONCILE_INTERVAL_SECONDS says otherwise', () => {
    expect(reconcileIntervalSeconds({})).toBe(30);
    expect(reconcileIntervalSeconds({ RECONCILE_INTERVAL_SECONDS: '2' })).toBe(2);
  });

  it('names the API to agents by an address they can reach: the loopback for an any-address bind', () => {
    expect([publicHost('0.0.0.0'), publicHost('::'), publicHost('127.0.0.1'), publicHost('::1'), publicHost('api.local')]).toEqual([
      '127.0.0.1',
      '[::1]',
      '127.0.0.1',
      '[::1]',
      'api.local',
    ]);
  });

  it('keeps agents on loopback when the network settings are not set', () => {
    expect(localSettings({})).toMatchObject({ ALLOWED_AGENT_NETWORKS: '127.0.0.0/8,::1/128', ALLOW_PUBLIC_AGENTS: 'false' });
  });

  it('passes the network settings through as given, even empty', () => {
    expect(localSettings({ ALLOWED_AGENT_NETWORKS: '127.0.0.2/32' })).toMatchObject({ ALLOWED_AGENT_NETWORKS: '127.0.0.2/32' });
    expect(localSettings({ ALLOWED_AGENT_NETWORKS: '', ALLOW_PUBLIC_AGENTS: 'true' })).toMatchObject({
      ALLOWED_AGENT_NETWORKS: '',
      ALLOW_PUBLIC_AGENTS: 'true',
    });
    expect(localSettings({ POWERTOOLS_LOG_LEVEL: 'DEBUG', LOG_LEVEL: 'info' })).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    expect(localSettings({ LOG_LEVEL: 'info' })).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'INFO' });
  });

  it('uses REDIS_URL or CACHE_URL as given', () => {
    expect(localSettings({ REDIS_URL: 'redis://:pw@127.0.0.1:7000' }).CACHE_URL).toBe('redis://:pw@127.0.0.1:7000');
    expect(localSettings({ CACHE_URL: 'memory://local' }).CACHE_URL).toBe('memory://local');
    expect(localSettings({}).CACHE_URL).toBeUndefined();
    // An empty REDIS_URL clears an inherited one: the runtime starts its own redis-server.
    expect(localSettings({ REDIS_URL: '' }).CACHE_URL).toBeUndefined();
    // A cluster of one's own, as on AWS.
    expect(localSettings({ REDIS_URL: 'rediss://:pw@127.0.0.1:7000', CACHE_CLUSTER: 'true' })).toMatchObject({ CACHE_CLUSTER: 'true' });
  });

  it.each([
    [{ TASKS_TABLE: 'prod-tasks' }, 'TASKS_TABLE is set by npm start itself'],
    [{ INTAKE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, 'INTAKE_QUEUE_URL is set by npm start itself'],
    [{ FLEET_TOKENS_SECRET_ARN: 'arn:aws:secretsmanager:x' }, 'FLEET_TOKENS_SECRET_ARN is set by npm start itself'],
    [{ REDIS_URL: 'redis://127.0.0.1:1', CACHE_URL: 'memory://local' }, 'CACHE_URL and REDIS_URL are both set and differ'],
    [{ LOG_LEVEL: 'LOUD' }, 'LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, got "LOUD"'],
    [{ CACHE_CLUSTER: 'true' }, 'CACHE_CLUSTER=true needs REDIS_URL naming a Redis Cluster'],
    [{ CACHE_CLUSTER: '1', CACHE_URL: 'memory://local' }, 'CACHE_CLUSTER=true needs REDIS_URL naming a Redis Cluster'],
  ])('stops rather than override %o', (env, message) => {
    expect(() => localSettings(env)).toThrow(message);
  });

  it('names every address of this machine for each of its own ports', () => {
    const targets = ownTargets([4566, 8080]);
    expect(targets).toEqual(expect.arrayContaining(['127.0.0.0/8:4566', '[::1]:4566', '127.0.0.0/8:8080', '[::1]:8080']));
    expect(() => loadConfig({ DENIED_AGENT_TARGETS: targets.join(',') })).not.toThrow();
  });

  it('never prints a password', () => {
    expect(redactedUrl('redis://:0123456789abcdef@127.0.0.1:7000')).toBe('redis://:***@127.0.0.1:7000');
    expect(redactedUrl('rediss://user:pw@cache:6379/0')).toBe('rediss://user:***@cache:6379/0');
    expect(redactedUrl('redis://127.0.0.1:7000')).toBe('redis://127.0.0.1:7000');
  });
});
