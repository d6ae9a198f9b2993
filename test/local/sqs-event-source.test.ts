import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeLambdaContext, messagesToDelete, startSqsEventSource } from '../../local/stand-ins/sqs-event-source';
import { startSqs } from '../../local/stand-ins/sqs';
import { waitUntil } from '../../harness/wait';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function queue(attributes: Record<string, string> = {}) {
  const server = await startSqs();
  cleanups.push(() => server.stop());
  const sqs = new SQSClient({ endpoint: server.endpoint, region: REGION, credentials, useQueueUrlAsEndpoint: false });
  cleanups.push(() => sqs.destroy());
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `q-${randomUUID()}`, Attributes: attributes }));
  const send = (body: string, attrs?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }>) =>
    sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, ...(attrs ? { MessageAttributes: attrs } : {}) }));
  const counts = async () => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return {
      visible: Number(out.Attributes?.ApproximateNumberOfMessages),
      inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  };
  /** Waits until the queue holds no message, visible or in flight: every handled one was deleted. */
  const drained = () =>
    waitUntil('the queue is empty', counts, (c) => c.visible === 0 && c.inFlight === 0, { timeoutMs: 5_000, intervalMs: 20 });
  return { endpoint: server.endpoint, queueUrl: QueueUrl!, send, counts, drained };
}

/** A pass-through proxy to `target` that records each request's X-Amz-Target, so a test sees a long poll under way. */
async function recordingProxy(target: string): Promise<{ endpoint: string; actions: string[] }> {
  const upstream = new URL(target);
  const actions: string[] = [];
  const server = http.createServer((req, res) => {
    actions.push(String(req.headers['x-amz-target'] ?? ''));
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    // The client gave up (an aborted long poll): so does the proxy.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, actions };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SQS event source', () => {
  it('delivers messages as Lambda SQS records and deletes them after a successful batch', async () => {
    const q = await queue();
    const events: SQSEvent[] = [];
    const remaining: number[] = [];
    const source = startSqsEventSource({
      queueUrl: q.queueUrl,
      endpoint: q.endpoint,
      region: REGION,
      functionName: 'Starter',
      waitTimeSeconds: 1,
      handler: (event, context) => {
        events.push(event);
        remaining.push(context.getRemainingTimeInMillis());
        return Promise.resolve();
      },
    });
    cleanups.push(() => source.stop());

    await q.send('{"task_id":"t-1"}', {
      kind: { DataType: 'String', StringValue: 'submit' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    });
    await until(() => events.length > 0);
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({
      body: '{"task_id":"t-1"}',
      md5OfBody: createHash('md5').update('{"task_id":"t-1"}').digest('hex'),
      eventSource: 'aws:sqs',
      awsRegion: REGION,
      messageAttributes: {
        kind: { stringValue: 'submit', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: Buffer.from([1, 2, 3]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(record.eventSourceARN).toMatch(/^arn:aws:sqs:us-east-1:\d{12}:q-/);
    expect(record.messageId).toMatch(/\S/);
    expect(record.receiptHandle).toMatch(/\S/);
    expect(record.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(record.attributes.SenderId).toMatch(/\S/);
    expect(remaining[0]).toBeGreaterThan(25_000);

    // Deleted after the handler returned (else it would be in flight for 30 s).
    await q.drained();
    expect(await q.counts()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes all but the reported failures, which come back after the visibility timeout', async () => {
    const q = await queue({ VisibilityTimeout: '1' });
    for (const body of ['a', 'b', 'c']) await q.send(body);
    const seen: Array<{ body: string; receiveCount: string }> = [];
    const source = startSqsEventSource({
      queueUrl: q.queueUrl,
      endpoint: q.endpoint,
      region: REGION,
      waitTimeSeconds: 1,
      handler: (event): Promise<SQSBatchResponse> => {
        for (const r of event.Records) seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount });
        const failures = event.Records.filter((r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1');
        return Promise.resolve({ batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) });
      },
    });
    cleanups.push(() => source.stop());

    await until(() => seen.some((s) => s.body === 'b' && s.receiveCount === '2'));
    // 'b' was deleted after its second delivery: with the queue empty, no third one can come.
    await q.drained();
    expect(seen.map((s) => s.body).sort()).toEqual(['a', 'b', 'b', 'c']);
    expect(await q.counts()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes nothing when the handler throws, so the whole batch is delivered again', async () => {
    const q = await queue({ VisibilityTimeout: '1' });
    await q.send('x');
    const counts: string[] = [];
    const lines: string[] = [];
    const source = startSqsEventSource({
      queueUrl: q.queueUrl,
      endpoint: q.endpoint,
      region: REGION,
      waitTimeSeconds: 1,
      log: (line) => lines.push(line),
      handler: (event) => {
        counts.push(event.Records[0]!.attributes.ApproximateReceiveCount);
        return counts.length === 1 ? Promise.reject(new Error('database down')) : Promise.resolve();
      },
    });
    cleanups.push(() => source.stop());
    await until(() => counts.length >= 2);
    expect(counts.slice(0, 2)).toEqual(['1', '2']);
    expect(lines.join('\n')).toContain('database down');
  });

  it('stop() ends a pending long poll at once and waits for the batch in hand', async () => {
    const q = await queue();
    let finished = false;
    let entered = false;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const source = startSqsEventSource({
      queueUrl: q.queueUrl,
      endpoint: q.endpoint,
      region: REGION,
      handler: async () => {
        entered = true;
        await released;
        finished = true;
      },
    });
    // Its requests go through a proxy, which shows when its long poll is under way.
    const proxy = await recordingProxy(q.endpoint);
    const idle = startSqsEventSource({ queueUrl: q.queueUrl, endpoint: proxy.endpoint, region: REGION, handler: () => Promise.resolve() });
    await until(() => proxy.actions.some((a) => a.endsWith('.ReceiveMessage')));
    const t0 = Date.now();
    await idle.stop();
    expect(Date.now() - t0).toBeLessThan(500);

    await q.send('slow');
    await until(() => entered);
    const t1 = Date.now();
    let stopped = false;
    const stopping = source.stop().then(() => (stopped = true));
    // stop() has run as far as it can without the batch: it is still waiting for it.
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(Date.now() - t1).toBeLessThan(1000);
    // stop() waited for the batch, and so for the delete that follows it.
    expect(await q.counts()).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('messagesToDelete', () => {
  const records = ['m1', 'm2', 'm3'].map((messageId) => ({ messageId }) as SQSRecord);
  it.each([
    ['nothing returned: all', undefined, ['m1', 'm2', 'm3']],
    ['an empty failure list: all', { batchItemFailures: [] }, ['m1', 'm2', 'm3']],
    ['some failures: the others', { batchItemFailures: [{ itemIdentifier: 'm2' }] }, ['m1', 'm3']],
    ['a failure not in the batch: none', { batchItemFailures: [{ itemIdentifier: 'zz' }] }, []],
    ['an empty identifier: none', { batchItemFailures: [{ itemIdentifier: '' }] }, []],
    ['a malformed list: none', { batchItemFailures: 'm1' }, []],
  ])('%s', (_, response, expected) => {
    expect(messagesToDelete(records, response).map((r) => r.messageId)).toEqual(expected);
  });
});

describe('fakeLambdaContext', () => {
  it('looks like the Lambda runtime context and counts down to the timeout', async () => {
    const context = fakeLambdaContext('Starter', 1000);
    expect(context).toMatchObject({
      functionName: 'Starter',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Starter',
      logGroupName: '/aws/lambda/Starter',
      memoryLimitInMB: '128',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fakeLambdaContext('Starter', 1000).awsRequestId).not.toBe(context.awsRequestId);
    // 50 ms later on a clock the test moves, rather than after sleeping 50 ms.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const counting = fakeLambdaContext('Starter', 1000);
      vi.setSystemTime(Date.now() + 50);
      expect(counting.getRemainingTimeInMillis()).toBeLessThanOrEqual(955);
      expect(counting.getRemainingTimeInMillis()).toBeGreaterThan(500);
      expect(counting.getRemainingTimeInMillis()).toBe(950);
    } finally {
      vi.useRealTimers();
    }
  });
});
