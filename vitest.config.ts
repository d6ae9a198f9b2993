import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` (npm run test:unit) runs in seconds: the core, the use cases on in-memory
 * stores, the SDK in-process, the lint rules and the template assertions. `integration` runs real
 * processes and stand-ins: dynalite, fauxqs, redis-server, the local Step Functions engine, agents,
 * the whole runtime. `npm test` runs both.
 */
const UNIT = [
  'test/core/**/*.test.ts',
  'test/app/**/*.test.ts',
  'test/lint/**/*.test.ts',
  'test/adapters/memory-stores.test.ts',
  'test/adapters/http-agent-client.test.ts',
  'test/adapters/fleet-tokens.test.ts',
  'test/sdk/agent.test.ts',
  'test/sdk/dispatcher-compat.test.ts',
  'test/local/template.test.ts',
  'test/infra/orchestrator-stack.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      // Unit test files share their worker's modules (isolate: false): they keep no global state, and
      // loading the same modules once per worker instead of once per file halves the project's time.
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/support/global-setup.ts'] },
      },
    ],
  },
});
