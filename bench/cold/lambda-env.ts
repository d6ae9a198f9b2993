/**
 * The environment a function starts with on AWS, for `npm run bench:cold`: what Lambda sets, and a
 * value for every setting the stacks pass (so a function builds all its clients, as it does there).
 */
import { FUNCTION_ENVIRONMENT } from '../../lib/constructs/function-bundling';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

export function coldStartEnv(functionName: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    LAMBDA_TASK_ROOT: '/var/task',
    TZ: ':UTC',
    ...FUNCTION_ENVIRONMENT,
    TASKS_TABLE: 'Tasks',
    AGENTS_TABLE: 'Agents',
    IDEMPOTENCY_TABLE: 'Idempotency',
    FLEET_TOKENS_SECRET_ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:fleet-tokens-AbCdEf`,
    INTAKE_QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/intake`,
    STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:standard`,
    EXPRESS_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:express`,
    // Nothing listens there: the client is made at import and connects after, which the bench does not wait for.
    CACHE_URL: 'rediss://127.0.0.1:9/',
  };
}
