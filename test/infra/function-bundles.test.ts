/**
 * What each function's bundle may hold, from esbuild's metafile of the bundling that deploys
 * (lib/constructs/function-bundling.ts): a module that comes back where it must not fails here,
 * before it costs every cold start. Sizes and import times are `npm run bench:cold`'s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionBundles, type FunctionBundle } from '../../bench/cold/bundles';
import { tempDir } from '../../harness/processes';

const out = tempDir('optiinfra-bundles-');
let bundles: FunctionBundle[];
const holding = (pattern: RegExp) =>
  bundles
    .filter((b) => b.inputs.some((input) => pattern.test(input)))
    .map((b) => b.name)
    .sort();

beforeAll(async () => {
  bundles = await buildFunctionBundles(out.dir);
});
afterAll(() => out.remove());

describe('function bundles', () => {
  it('import from the runtime only the AWS SDK clients their handler uses', () => {
    expect(Object.fromEntries(bundles.map((b) => [b.name, b.sdkImports]))).toEqual({
      'api-agents': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
      'api-health': [],
      'api-tasks': [
        '@aws-sdk/client-dynamodb',
        '@aws-sdk/client-sfn',
        '@aws-sdk/client-sqs',
        '@aws-sdk/lib-dynamodb',
        '@aws-sdk/util-dynamodb',
      ],
      dispatcher: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
      reconciler: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
      starter: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sfn', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
    });
  });

  it('hold the cache client only where the cache is used', () => {
    expect(holding(/node_modules\/ioredis\//)).toEqual(['api-agents', 'api-tasks', 'dispatcher', 'reconciler']);
  });

  it("hold none of zod's locales but English, nor its classic API: every schema is on zod/mini", () => {
    expect(holding(/node_modules\/zod\/v4\/locales\/(?!en\.js$)/)).toEqual([]);
    expect(holding(/node_modules\/zod\/v4\/classic\//)).toEqual([]);
  });

  it('hold no X-Ray SDK, and Powertools idempotency and parameters only in the API that uses each', () => {
    expect(holding(/node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//)).toEqual([]);
    expect(holding(/node_modules\/@aws-lambda-powertools\/idempotency\//)).toEqual(['api-tasks']);
    expect(holding(/node_modules\/@aws-lambda-powertools\/parameters\//)).toEqual(['api-agents']);
  });

  it('leave the health check with its settings and the route table: no middleware, Powertools or SDK', () => {
    const health = bundles.find((b) => b.name === 'api-health')!;
    expect([...health.packages.keys()].sort()).toEqual(['@optiinfra/contract', 'functions', 'ipaddr.js', 'zod']);
  });
});
