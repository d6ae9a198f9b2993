/**
 * The one place every AWS client the functions make passes through (dynamodb-stores.ts,
 * intake-queue.ts, workflow.ts), so a measurement can hook them all. Types only from the SDK: a
 * function loads just the clients its own modules make.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** Anything with the AWS SDK's middleware stack: the DynamoDB, SQS and Step Functions clients. */
export type AwsClient = DynamoDBClient | SQSClient | SFNClient;
let clientHook: ((client: AwsClient) => void) | undefined;

/**
 * Lets a measurement (bench/cost.ts) add middleware to every AWS client made by the functions,
 * before the first is made. Nothing in a deployment calls it: the clients are then exactly as before.
 */
export function onAwsClient(hook: ((client: AwsClient) => void) | undefined): void {
  clientHook = hook;
}

export const hooked = <T extends AwsClient>(client: T): T => {
  clientHook?.(client);
  return client;
};
