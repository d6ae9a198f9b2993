import path, { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * `npm test` runs three projects. `unit` (npm run test:unit) runs in seconds: the core, the use cases
 * on in-memory stores, the SDK in-process, the lint rules and the template assertions. `integration`
 * runs real processes and stand-ins: dynalite, fauxqs, redis-server, the local Step Functions
 * engine, agents, the whole runtime, and records every AWS call the functions make. `iam`, once both
 * are done, evaluates those calls against the synthesized role policies (test/iam).
 *
 * Three checks run beside them in CI, as typecheck and lint do: `docs` (npm run test:docs), the
 * walkthrough that runs every command of the README and docs/ against a real orchestrator, `build`
 * (npm run test:build), the deployment's own `cdk synth` with bundling, validation and cdk-nag, and
 * the packages built, packed and installed as users get them, and `cost` (npm run test:cost), `npm
 * run cost` on a few tasks against its budgets. Each takes 20 s of CPU or more on a 2-core machine.
 * `long` (npm run test:long), run by CI after them, holds the checks that take minutes or load the
 * machine by nature: a 90 s asynchronous task, 1 000 asynchronous tasks in flight at once, routing
 * under load (many agents and tasks at once, an agent killed mid-task), which needs the machine to
 * itself to measure spread and order.
 */
const BUILD = ['test/infra/offline-synth.test.ts', 'test/integration/packed-packages.test.ts'];
const DOCS = ['test/docs/**/*.test.ts'];
const COST = ['test/integration/cost-budget.test.ts'];
const LONG = ['test/long/**/*.test.ts', 'test/integration/routing-under-load.test.ts'];
/**
 * The fuzzing file runs in both: `npm test` sends the first 500 requests of its fixed seed's
 * sequence (a regression check, about 10 s), `long` the first 5 000 (and 2 000 targeted ones).
 */
const FUZZ = 'test/integration/fuzz.test.ts';
const IAM = ['test/iam/**/*.test.ts'];
/** Every local runtime of the integration project records its AWS calls here; the iam project, run after it, evaluates them. */
const RECORD_AWS_CALLS = { OPTIINFRA_RECORD_AWS_CALLS: path.join(import.meta.dirname, 'node_modules', '.cache', 'optiinfra-aws-calls') };

const UNIT = [
  'test/core/**/*.test.ts',
  'test/app/**/*.test.ts',
  'test/lint/**/*.test.ts',
  'test/adapters/memory-stores.test.ts',
  'test/adapters/http-agent-client.test.ts',
  'test/adapters/http-callback-client.test.ts',
  'test/adapters/fleet-tokens.test.ts',
  'test/adapters/cache-fallbacks.test.ts',
  'test/sdk/agent.test.ts',
  'test/sdk/dispatcher-compat.test.ts',
  'test/local/template.test.ts',
  'test/local/api-server.test.ts',
  'test/local/feed.test.ts',
  'test/local/metrics-recorder.test.ts',
  'test/sdk/task-server.test.ts',
  'test/sdk/replay-guard.test.ts',
  'test/sdk/long-running.test.ts',
  'test/infra/orchestrator-stack.test.ts',
  'test/infra/function-bundles.test.ts',
  'test/composition/observability.test.ts',
  'test/bench/**/*.test.ts',
  'test/api/**/*.test.ts',
  'test/client/client.test.ts',
  'test/cli/**/*.test.ts',
  'test/console/page-format.test.ts',
  'test/console/page-model.test.ts',
  'test/local/console-routes.test.ts',
];

/**
 * Seconds each slow file took, its hooks included, in a full run on this 2-core machine. Vitest
 * orders a run by the durations it cached from the last one; on a fresh clone (as in CI) it has
 * none and starts the largest files first, so short files that take long (a restart waits out
 * leases, a synth bundles functions) would run last, alone, and stretch the run. These start first
 * instead.
 */
const MEASURED_SECONDS: Record<string, number> = {
  'test/browser/console.test.ts': 42,
  'test/integration/waiting.test.ts': 36,
  'test/integration/task-callbacks.test.ts': 35,
  'test/integration/task-wait.test.ts': 30,
  'test/integration/cli.test.ts': 24,
  'test/integration/restart.test.ts': 19,
  'test/integration/fuzz.test.ts': 8,
  'test/integration/runtime-settings.test.ts': 17,
  'test/integration/task-routing.test.ts': 15,
  'test/integration/attempts-log.test.ts': 15,
  'test/integration/async-agents.test.ts': 15,
  'test/integration/api-auth.test.ts': 15,
  'test/integration/async-delivery.test.ts': 14,
  'test/integration/live-feed.test.ts': 13,
  'test/integration/agent-health.test.ts': 13,
  'test/adapters/dynamo-stores.test.ts': 13,
  'test/integration/circuit-breaker.test.ts': 12,
  'test/sdk/example-agents.test.ts': 11,
  'test/integration/slow-uploads.test.ts': 11,
  'test/integration/unstorable-results.test.ts': 9,
  'test/integration/redis-outage.test.ts': 9,
  'test/integration/private-network.test.ts': 8,
  'test/integration/live-feed-formats.test.ts': 8,
  'test/integration/bad-input.test.ts': 8,
  'test/integration/workflow-limits.test.ts': 6,
  'test/integration/without-redis.test.ts': 6,
  'test/integration/self-targets.test.ts': 6,
  'test/integration/https-agents.test.ts': 6,
  'test/integration/console.test.ts': 6,
  'test/handlers/lambda-handlers.test.ts': 6,
  'test/client/sigv4.test.ts': 6,
  'test/adapters/task-cache-cluster.test.ts': 6,
  'test/infra/task-workflow-engine.test.ts': 5,
};

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const cached = (f: TestSpecification) => this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`);
    // With durations of a previous run for every file, Vitest's own order is the better one.
    if (sorted.every(cached)) return sorted;
    const seconds = (f: TestSpecification) => MEASURED_SECONDS[relative(root, f.moduleId)] ?? 0;
    // Within each project (Vitest runs projects in its order), slowest first; the sort is stable.
    const projects = [...new Set(sorted.map((f) => f.project.name))];
    return projects.flatMap((name) => sorted.filter((f) => f.project.name === name).sort((a, b) => seconds(b) - seconds(a)));
  }
}

export default defineConfig({
  // The workspace packages run from their sources, as tsconfig.json's paths say (no build needed).
  // The subpath first: an alias also takes what starts with its name and a slash.
  resolve: {
    alias: {
      '@optiinfra/contract/responses': path.join(import.meta.dirname, 'packages/contract/src/api-responses.ts'),
      '@optiinfra/contract/dashboard-metrics': path.join(import.meta.dirname, 'packages/contract/src/dashboard-metrics.ts'),
      '@optiinfra/contract': path.join(import.meta.dirname, 'packages/contract/src/index.ts'),
      '@optiinfra/sdk': path.join(import.meta.dirname, 'packages/sdk/src/index.ts'),
      '@optiinfra/client': path.join(import.meta.dirname, 'packages/client/src/index.ts'),
      '@optiinfra/cli': path.join(import.meta.dirname, 'packages/cli/src/index.ts'),
      '@optiinfra/console': path.join(import.meta.dirname, 'packages/console/src/index.ts'),
    },
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    // Three test files at once on two cores: integration tests spend much of their time waiting on
    // processes (heartbeats, timeouts, agents' work), and a third file fills that time.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      // Unit test files share their worker's modules (isolate: false): they keep no global state, and
      // loading the same modules once per worker instead of once per file halves the project's time.
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...UNIT, ...BUILD, ...DOCS, ...COST, ...IAM, ...LONG],
          globalSetup: ['test/support/global-setup.ts', 'test/support/aws-calls-setup.ts'],
          env: RECORD_AWS_CALLS,
        },
      },
      // After the unit and integration projects (a higher group order): it reads what the integration runs recorded.
      { extends: true, test: { name: 'iam', include: IAM, env: RECORD_AWS_CALLS, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'build', include: BUILD } },
      { extends: true, test: { name: 'cost', include: COST } },
      { extends: true, test: { name: 'long', include: [...LONG, FUZZ], env: { FUZZ_RUNS: '5000' } } },
      { extends: true, test: { name: 'docs', include: DOCS, globalSetup: ['test/support/global-setup.ts'] } },
    ],
  },
});
