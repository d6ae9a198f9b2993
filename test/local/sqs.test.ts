import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { startSqs } from '../../local/stand-ins/sqs';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('startSqs', () => {
  it('serves SQS on 127.0.0.1 for a client with an explicit endpoint, whatever host the queue URL names', async () => {
    const sqsServer = await startSqs();
    cleanups.push(() => sqsServer.stop());
    expect(sqsServer.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const sqs = new SQSClient({
      endpoint: sqsServer.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    cleanups.push(() => sqs.destroy());
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'stand-in-check' }));
    expect(new URL(QueueUrl!).hostname).toBe('sqs.us-east-1.localhost');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(out.Messages?.map((m) => m.Body)).toEqual(['hello']);
  });

  it('stops, closing the port', async () => {
    const sqsServer = await startSqs();
    await sqsServer.stop();
    await expect(fetch(sqsServer.endpoint, { method: 'POST' })).rejects.toThrow();
  });
});
