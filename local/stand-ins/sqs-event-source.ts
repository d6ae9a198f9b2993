import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export type SqsLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  queueUrl: string;
  /** The SQS endpoint; queue URLs of the local stand-in do not resolve, so it is never taken from them. */
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  handler: SqsLambdaHandler;
  functionName?: string;
  /** Like the function's timeout: a batch whose handler has not settled by then counts as failed. Default 30 s. */
  functionTimeoutMs?: number;
  /** 1–10, default 10. */
  batchSize?: number;
  /** Long-poll length, 0–20 s, default 20. */
  waitTimeSeconds?: number;
  /** The queue's ARN for `eventSourceARN`; asked from the queue when absent. */
  queueArn?: string;
  log?: (line: string) => void;
  /** Called once with the poller's SQS client (its requests are billed on AWS too): bench/cost.ts counts them. */
  onClient?: (client: SQSClient) => void;
}

export interface SqsEventSource {
  /** Ends the long poll at once and waits for the batch in hand to finish. */
  stop(): Promise<void>;
}

const DEFAULT_ACCOUNT = '000000000000';

/** A Lambda context as the runtime builds it, with a deadline `timeoutMs` from now. */
export function fakeLambdaContext(functionName: string, timeoutMs: number, env: { region?: string; account?: string } = {}): Context {
  const region = env.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const account = env.account ?? DEFAULT_ACCOUNT;
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function recordAttributes(message: Message): SQSRecordAttributes {
  const a = message.Attributes ?? {};
  return {
    ...a,
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? DEFAULT_ACCOUNT,
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
}

function recordMessageAttributes(message: Message): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

/** One SQS message as Lambda's SQS event source mapping hands it to the function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: recordAttributes(message),
    messageAttributes: recordMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch to delete after the handler returned `response`, with
 * ReportBatchItemFailures on: all but the listed ones; none if the response is malformed or names
 * a message that is not in the batch (Lambda then treats the whole batch as failed).
 */
export function messagesToDelete(records: SQSRecord[], response: unknown): SQSRecord[] {
  if (response === undefined || response === null) return records;
  if (typeof response !== 'object') return [];
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return records;
  if (!Array.isArray(failures)) return [];
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return [];
    failed.add(id);
  }
  return records.filter((r) => !failed.has(r.messageId));
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'AbortError' || name === 'RequestAbortedError';
}

/**
 * Emulates a Lambda SQS event source mapping with ReportBatchItemFailures: long-polls the queue,
 * hands each batch to the handler as an SQSEvent, and deletes the messages the handler did not
 * report as failed. A batch whose handler throws or runs past the timeout is left alone, so its
 * messages come back after the visibility timeout (and reach the DLQ by the queue's redrive policy).
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const log = options.log ?? (() => undefined);
  const functionName = options.functionName ?? 'local-sqs-consumer';
  const batchSize = Math.min(10, Math.max(1, options.batchSize ?? 10));
  const waitTimeSeconds = Math.min(20, Math.max(0, options.waitTimeSeconds ?? 20));
  const timeoutMs = options.functionTimeoutMs ?? 30_000;
  const sqs = new SQSClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
  });
  options.onClient?.(sqs);
  let stopped = false;
  // One controller per request: a long-lived signal would collect a listener per call.
  let inFlight: AbortController | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const abortable = <T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    inFlight = controller;
    return call(controller.signal).finally(() => {
      if (inFlight === controller) inFlight = undefined;
    });
  };

  const queueArn = async (): Promise<string> => {
    if (options.queueArn) return options.queueArn;
    const out = await abortable((abortSignal) =>
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }), { abortSignal }),
    );
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new Error(`queue ${options.queueUrl} reported no QueueArn`);
    return arn;
  };

  const invoke = async (event: SQSEvent): Promise<{ ok: true; response: unknown } | { ok: false; reason: string }> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `timed out after ${timeoutMs} ms` }), timeoutMs);
    });
    const run = (async () => options.handler(event, fakeLambdaContext(functionName, timeoutMs, { region: options.region })))().then(
      (response) => ({ ok: true as const, response }),
      (err: unknown) => ({ ok: false as const, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
    try {
      return await Promise.race([run, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  const handleBatch = async (messages: Message[], arn: string) => {
    const records = messages.map((m) => toSqsRecord(m, arn, options.region));
    const outcome = await invoke({ Records: records });
    if (!outcome.ok) {
      log(`${functionName} failed on a batch of ${records.length}; the messages return after the visibility timeout: ${outcome.reason}`);
      return;
    }
    const done = messagesToDelete(records, outcome.response);
    if (done.length < records.length)
      log(`${functionName} reported ${records.length - done.length} of ${records.length} messages as failed`);
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      try {
        const out = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
          }),
        );
        for (const f of out.Failed ?? []) log(`could not delete a message: ${f.Code ?? ''} ${f.Message ?? ''}`);
      } catch (err) {
        log(`could not delete ${chunk.length} handled message(s), they will be delivered again: ${String(err)}`);
      }
    }
  };

  const loop = (async () => {
    let arn: string | undefined;
    while (!stopped) {
      try {
        arn ??= await queueArn();
        const out = await abortable((abortSignal) =>
          sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: options.queueUrl,
              MaxNumberOfMessages: batchSize,
              WaitTimeSeconds: waitTimeSeconds,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
            }),
            { abortSignal },
          ),
        );
        if (out.Messages && out.Messages.length > 0) await handleBatch(out.Messages, arn);
      } catch (err) {
        if (stopped || isAbort(err)) break;
        log(`polling ${options.queueUrl} failed, trying again in 1 s: ${String(err)}`);
        await pause(1000);
      }
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        stopped = true;
        inFlight?.abort();
        wake?.();
        await loop;
        sqs.destroy();
      })();
      return stopping;
    },
  };
}
