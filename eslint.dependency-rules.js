/**
 * Which folder may import which: a wrong import fails `npm run lint`. Inward only: handlers and the
 * composition root may use everything in functions/, use cases only the core, the core nothing of
 * the project's outside itself; the CDK app no adapters (the table keys are in the core).
 */
const AWS_RUNTIME = [
  '@aws-sdk/*',
  'aws-lambda',
  '@aws-lambda-powertools/*',
  '@middy/*',
  'ioredis',
  'aws-cdk-lib',
  'aws-cdk-lib/*',
  'constructs',
];
const restrict = (message, group) => ({ group, message });
export const dependencyRules = [
  {
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('functions/core is the domain: it imports only other core modules (./x), never outward.', ['../*', '../**']),
            restrict('functions/core has no AWS, Lambda or cache imports: put them behind a port (core/ports.ts).', AWS_RUNTIME),
          ],
        },
      ],
    },
  },
  {
    files: ['functions/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('Use cases depend on the core and its ports only: adapters are chosen by the composition root.', [
              '../adapters/*',
              '../composition/*',
              '../handlers/*',
              '../api/*',
              '**/local/**',
              '**/lib/**',
              '**/sdk/**',
              '@optiinfra/sdk',
            ]),
            restrict('Use cases have no AWS, Lambda or cache imports: use a port (core/ports.ts).', AWS_RUNTIME),
          ],
        },
      ],
    },
  },
  {
    files: ['functions/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict("Adapters implement the core's ports; they import no use case, handler or composition code.", [
              '../app/*',
              '../composition/*',
              '../handlers/*',
              '**/local/**',
              '**/lib/**',
            ]),
          ],
        },
      ],
    },
  },
  {
    files: ['functions/handlers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('Handlers get their adapters from the composition root (functions/composition/: one module per adapter).', [
              '../adapters/*',
            ]),
          ],
        },
      ],
    },
  },
  {
    files: ['functions/**/*.ts'],
    ignores: ['functions/core/**', 'functions/app/**', 'functions/adapters/**', 'functions/handlers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('functions/ is what deploys: it imports nothing from the local runtime, the CDK app, the SDK or the tests.', [
              '**/local/**',
              '**/lib/**',
              '**/sdk/**',
              '@optiinfra/sdk',
              '**/test/**',
              '**/harness/**',
            ]),
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict(
              'The CDK app names handlers by path and takes shared constants from functions/core or functions/api; it imports no runtime code.',
              [
                '**/functions/adapters/**',
                '**/functions/app/**',
                '**/functions/composition/**',
                '**/functions/handlers/**',
                '**/local/**',
                '**/test/**',
                '**/harness/**',
              ],
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['packages/contract/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('The wire contract is a package of its own: it imports only its own modules (./x.js), zod and node:.', [
              '../*',
              '../**',
              '@optiinfra/*',
            ]),
            restrict('The wire contract has no AWS, Lambda or cache imports: clients and agents install it.', AWS_RUNTIME),
          ],
        },
      ],
    },
  },
  {
    files: ['packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict(
              'The client is a package of its own: it imports its own modules (./x.js) and the wire contract (@optiinfra/contract).',
              ['../*', '../**', '@optiinfra/client', '@optiinfra/cli', '@optiinfra/sdk'],
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['packages/cli/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('The CLI is a package of its own: it talks to the API only through @optiinfra/client.', [
              '../*',
              '../**',
              '@optiinfra/cli',
              '@optiinfra/sdk',
            ]),
          ],
        },
      ],
    },
  },
  {
    files: ['packages/sdk/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict(
              'The agent SDK is a package of its own: of the orchestrator it imports only the wire contract (@optiinfra/contract).',
              ['../*', '../**', '@optiinfra/*', '!@optiinfra/contract'],
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'harness/**/*.ts', 'local/**/*.ts', 'examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            restrict('Tests are not a library: what scripts need from them belongs in harness/.', ['../test/**', '../../test/**']),
          ],
        },
      ],
    },
  },
];
