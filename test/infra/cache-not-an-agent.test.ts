import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { buildOrchestrator, DEFAULT_DEPLOYMENT } from '../../lib/app-builder';

/**
 * The functions refuse the host and port of CACHE_URL as an agent; the cache's reader endpoint (the
 * same host, port 6380, also open to the functions' security group) comes in DENIED_AGENT_TARGETS.
 */
it('every function that knows the cache refuses both its endpoints as agents', () => {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:defaultCrossStackReferences': 'strong' },
  });
  const stacks = buildOrchestrator(app, { ...DEFAULT_DEPLOYMENT, nag: false });
  const functions = Template.fromStack(stacks.stateless).findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
  >;
  const withCache = Object.entries(functions).filter(([, f]) => f.Properties.Environment?.Variables?.CACHE_URL !== undefined);
  expect(withCache.length).toBeGreaterThan(0);
  for (const [id, f] of withCache) {
    const denied = JSON.stringify(f.Properties.Environment?.Variables?.DENIED_AGENT_TARGETS);
    expect(denied, id).toMatch(/ReaderEndpointAddress/);
    expect(denied, id).toMatch(/ReaderEndpointPort/);
  }
});
