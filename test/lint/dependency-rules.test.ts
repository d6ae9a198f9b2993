/**
 * The folder dependency rules of `npm run lint` (eslint.dependency-rules.js), applied to imports
 * written for the purpose: each wrong direction is refused with its reason, each right one passes.
 */
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../harness/processes';

let eslint: ESLint;

beforeAll(async () => {
  // Imported by path: the rules are plain JavaScript for eslint.config.js, with no type declarations.
  const { dependencyRules } = (await import(path.join(ROOT, 'eslint.dependency-rules.js'))) as { dependencyRules: Linter.Config[] };
  eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: dependencyRules });
});

async function problems(file: string, from: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${from}';\nexport const y = x;\n`, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('imports that run the wrong way fail lint', () => {
  it.each([
    ['functions/core/task-model.ts', '../adapters/dynamo-task-store', 'functions/core is the domain'],
    ['functions/core/task-model.ts', '../app/tasks', 'functions/core is the domain'],
    ['functions/core/ports.ts', 'aws-lambda', 'functions/core has no AWS, Lambda or cache imports'],
    ['functions/core/ids.ts', '@aws-sdk/client-dynamodb', 'functions/core has no AWS, Lambda or cache imports'],
    ['functions/app/dispatch.ts', '../adapters/redis-task-cache', 'Use cases depend on the core and its ports only'],
    ['functions/app/tasks.ts', '../composition/config', 'Use cases depend on the core and its ports only'],
    ['functions/app/tasks.ts', 'ioredis', 'Use cases have no AWS, Lambda or cache imports'],
    ['functions/adapters/sqs-task-queue.ts', '../app/tasks', 'Adapters implement the core'],
    ['functions/handlers/api-agents.ts', '../adapters/fleet-tokens', 'Handlers get their adapters from the composition root'],
    ['functions/composition/config.ts', '../../local/runtime', 'functions/ is what deploys'],
    ['lib/constructs/task-tables.ts', '../../functions/adapters/dynamo-task-store', 'The CDK app names handlers by path'],
    ['lib/stateless-stack.ts', '../functions/composition/config', 'The CDK app names handlers by path'],
    ['packages/sdk/src/agent.ts', '../../../functions/core/task-model', 'The agent SDK is a package of its own'],
    ['packages/sdk/src/agent.ts', '../../../functions/app/tasks', 'The agent SDK is a package of its own'],
    ['packages/sdk/src/agent.ts', '@optiinfra/client', 'The agent SDK is a package of its own'],
    ['functions/app/tasks.ts', '@optiinfra/sdk', 'Use cases depend on the core and its ports only'],
    ['packages/contract/src/index.ts', '../../../functions/core/task-model', 'The wire contract is a package of its own'],
    ['packages/contract/src/index.ts', '@aws-sdk/client-dynamodb', 'The wire contract has no AWS'],
    ['packages/client/src/create-client.ts', '../../../functions/core/task-model', 'The client is a package of its own'],
    ['packages/client/src/create-client.ts', '@optiinfra/cli', 'The client is a package of its own'],
    ['packages/cli/src/commands.ts', '../../client/src/create-client', 'The CLI is a package of its own'],
    ['scripts/chaos.ts', '../test/support/start-dynamo-process', 'what scripts need from them belongs in harness/'],
    ['bench/routing-selection.ts', '../test/support/fake-clock', 'what scripts need from them belongs in harness/'],
  ])('%s importing %s', async (file, from, reason) => {
    expect(await problems(file, from)).toEqual([expect.stringContaining(reason)]);
  });
});

describe('imports that run the right way pass', () => {
  it.each([
    ['functions/core/routing.ts', './task-model'],
    ['packages/contract/src/index.ts', 'zod'],
    ['functions/core/task-model.ts', '@optiinfra/contract'],
    ['functions/app/dispatch.ts', '../core/ports'],
    ['functions/app/dispatch.ts', './choose-agent'],
    ['functions/adapters/dynamo-task-store.ts', '../core/table-keys'],
    ['functions/adapters/dynamo-task-store.ts', '@aws-sdk/lib-dynamodb'],
    ['functions/handlers/api-tasks.ts', '../app/tasks'],
    ['functions/handlers/api-tasks.ts', '../composition/composition-root'],
    ['functions/composition/composition-root.ts', '../adapters/dynamo-task-store'],
    ['lib/constructs/task-tables.ts', '../../functions/core/table-keys'],
    ['lib/stateless-stack.ts', '../functions/api/routes'],
    ['packages/sdk/src/agent.ts', '@optiinfra/contract'],
    ['packages/sdk/src/agent.ts', './task-server.js'],
    ['packages/client/src/create-client.ts', '@optiinfra/contract'],
    ['packages/client/src/sigv4-signer.ts', '@smithy/signature-v4'],
    ['packages/cli/src/commands.ts', '@optiinfra/client'],
    ['packages/cli/src/stack-api-url.ts', '@aws-sdk/client-cloudformation'],
    ['scripts/chaos.ts', '../harness/local-orchestrator'],
    ['local/runtime.ts', '../functions/api/routes'],
  ])('%s importing %s', async (file, from) => {
    expect(await problems(file, from)).toEqual([]);
  });
});
