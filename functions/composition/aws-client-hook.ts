/**
 * The one place every AWS client the functions make passes through (dynamodb-stores.ts,
 * intake-queue.ts, workflow.ts, fleet-tokens.ts), so a measurement can hook them all. Types only from the SDK: a
 * function loads just the clients its own modules make.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** Anything with the AWS SDK's middleware stack: the DynamoDB, SQS, Step Functions and Secrets Manager clients. */
export type AwsClient = DynamoDBClient | SQSClient | SFNClient | SecretsManagerClient;
let clientHook: ((client: AwsClient) => void) | undefined;

/**
 * Lets the local runtime (its network guard and call recorder) and a measurement (bench/cost.ts) add middleware to every AWS client made by the functions,
 * before the first is made. Nothing in a deployment calls it: the clients are then exactly as before.
 */
export function onAwsClient(hook: ((client: AwsClient) => void) | undefined): void {
  clientHook = hook;
}

export const hooked = <T extends AwsClient>(client: T): T => {
  clientHook?.(client);
  return client;
};
