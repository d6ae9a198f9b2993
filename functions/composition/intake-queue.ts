/** The intake queue on SQS. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsTaskQueue } from '../adapters/sqs-task-queue';
import { hooked } from './aws-client-hook';
import { config, once } from './composition-root';
import { required } from './config';

// An explicit endpoint: the SDK would otherwise send to the host in the queue URL.
const sqs = once(() =>
  hooked(new SQSClient(config.AWS_ENDPOINT_URL_SQS ? { endpoint: config.AWS_ENDPOINT_URL_SQS, useQueueUrlAsEndpoint: false } : {})),
);

export const queue = once(() => new SqsTaskQueue(sqs(), required(config, 'INTAKE_QUEUE_URL')));
