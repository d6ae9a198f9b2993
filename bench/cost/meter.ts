/**
 * Counts what AWS would bill while the local runtime runs: every AWS SDK call (with the DynamoDB
 * capacity it consumed), every function invocation with its duration, the bytes each function
 * logs, every Step Functions event. Each count lands in a bucket: `task` for what tasks cost, `fleet`
 * for what agents (registration, heartbeats) and the once-a-minute reconciler cost whatever the
 * number of tasks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClient } from '../../functions/composition/composition-root';
import { LOCAL_CREDENTIALS } from '../../local/provision';
import type { Handler } from '../../local/runtime';
import { EXPRESS_BILLED_MB, EXPRESS_DURATION_STEP_MS } from '../prices';
import { indexWriteUnits, type Item, itemSize, keyOf, type TableSpec, writeUnits } from './dynamo-units';

export type Bucket = 'task' | 'fleet';
export type Counts = Record<string, number>;

const KB = 1024;
const SQS_CHUNK = 64 * KB;
const API_CHUNK = 512 * KB;

type Middleware = (
  next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
  context: { commandName?: string; clientName?: string },
) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
interface Stack {
  add(middleware: Middleware, options: { step: 'initialize' | 'build'; name: string; priority?: 'low' | 'high' }): void;
}

const CAPACITY_COMMANDS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
]);
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

export interface FunctionSpec {
  memoryMb: number;
  bucket: (event: unknown) => Bucket;
}

export class Meter {
  private readonly scope = new AsyncLocalStorage<{ fn: string; bucket: Bucket }>();
  private readonly counts: Record<Bucket, Counts> = { task: {}, fleet: {} };
  private reader?: DynamoDBClient;
  private readonly executions = new Map<string, { express: boolean; events: number; lastId: number }>();
  private restoreOutput?: () => void;

  constructor(
    private readonly tables: Map<string, TableSpec>,
    private readonly functions: Record<string, FunctionSpec>,
    /** Each state machine's log level, as the template configures it (`LoggingConfiguration.Level`). */
    private readonly workflowLogLevels: Record<'express' | 'standard', WorkflowLogLevel> = { express: 'ALL', standard: 'ALL' },
  ) {}

  add(unit: string, value: number, bucket: Bucket = this.scope.getStore()?.bucket ?? 'task'): void {
    this.counts[bucket][unit] = (this.counts[bucket][unit] ?? 0) + value;
  }

  snapshot(): Record<Bucket, Counts> {
    return { task: { ...this.counts.task }, fleet: { ...this.counts.fleet } };
  }

  /** Function output is counted as that function's log bytes (at its deployed log level) and not printed. */
  captureLogs(): void {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((s) => s.write.bind(s));
    streams.forEach((stream, i) => {
      stream.write = (chunk: string | Uint8Array, ...rest: never[]) => {
        if (this.scope.getStore() === undefined) return (originals[i] as (...a: unknown[]) => boolean)(chunk, ...rest);
        this.add('logs.lambdaBytes', typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
        return true;
      };
    });
    this.restoreOutput = () => streams.forEach((s, i) => (s.write = originals[i] as typeof s.write));
  }

  close(): void {
    this.restoreOutput?.();
    this.reader?.destroy();
  }

  /** The runtime's `instrument.handler`: invocations, billed duration x configured memory, platform log lines. */
  wrapHandler = (logicalId: string, handler: Handler): Handler => {
    const spec = this.functions[logicalId];
    if (!spec) throw new Error(`no memory size known for function ${logicalId}`);
    return (event, context) => {
      const bucket = spec.bucket(event);
      return this.scope.run({ fn: logicalId, bucket }, async () => {
        const started = performance.now();
        if (isApiEvent(event)) this.add('api.requests', Math.max(1, Math.ceil(Buffer.byteLength(event.body ?? '') / API_CHUNK)));
        try {
          return await handler(event, context);
        } finally {
          const ms = performance.now() - started;
          const billedMs = Math.max(1, Math.ceil(ms));
          this.add('lambda.invocations', 1);
          this.add(`lambda.invocations.${logicalId}`, 1);
          this.add('lambda.gbSeconds', (billedMs / 1000) * (spec.memoryMb / 1024));
          this.add(`lambda.gbSeconds.${logicalId}`, (billedMs / 1000) * (spec.memoryMb / 1024));
          // The lines Lambda itself writes to the function's log group for every invocation.
          const id = randomUUID();
          const platform =
            `START RequestId: ${id} Version: $LATEST\n` +
            `END RequestId: ${id}\n` +
            `REPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${billedMs} ms\tMemory Size: ${spec.memoryMb} MB\tMax Memory Used: ${Math.round(spec.memoryMb / 3)} MB\t\n`;
          this.add('logs.lambdaBytes', Buffer.byteLength(platform));
        }
      });
    };
  };

  /** The runtime's `instrument.awsClient`: counts each call, and for DynamoDB the units it consumed. */
  instrumentClient = (client: AwsClient): void => {
    const stack = client.middlewareStack as unknown as Stack;
    const service = client.constructor.name.replace(/Client$/, '').toLowerCase();
    if (service === 'dynamodb') {
      stack.add(
        (next, context) => async (args) => {
          if (!CAPACITY_COMMANDS.has(context.commandName ?? '')) return next(args);
          return next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'INDEXES' } });
        },
        { step: 'initialize', name: 'costMeterCapacity', priority: 'low' },
      );
    }
    // At the build step the input is marshalled (the document client's marshalling runs before serialization).
    stack.add((next, context) => async (args) => this.count(service, context.commandName ?? 'unknown', args.input, () => next(args)), {
      step: 'build',
      name: 'costMeterCount',
    });
  };

  private async count(
    service: string,
    command: string,
    input: Record<string, unknown>,
    send: () => Promise<{ output: Record<string, unknown> }>,
  ): Promise<{ output: Record<string, unknown> }> {
    this.add(`${service}.calls`, 1);
    this.add(`${service}.calls.${command.replace(/Command$/, '')}`, 1);
    if (service === 'sqs') this.add('sqs.requests', sqsRequests(command, input));
    if (service !== 'dynamodb') return send();
    const table = this.tables.get(String(input.TableName));
    const isWrite = WRITE_COMMANDS.has(command);
    if (!isWrite || !table) {
      const out = await send();
      const units = consumed(out.output.ConsumedCapacity);
      if (command === 'BatchWriteItemCommand') this.add('dynamodb.writeUnits.table', units);
      else this.add('dynamodb.readUnits', units);
      return out;
    }
    const key = command === 'PutItemCommand' ? keyOf(table, input.Item as Item) : (input.Key as Item);
    const before = await this.image(table, key);
    try {
      const out = await send();
      const after = command === 'DeleteItemCommand' ? undefined : await this.image(table, key);
      const reported = consumed(out.output.ConsumedCapacity);
      this.add('dynamodb.writeUnits.table', reported || writeUnits(Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0)));
      this.add('dynamodb.writeUnits.index', indexWriteUnits(table, before, after));
      return out;
    } catch (err) {
      // A write refused by its condition is billed too, by the size of the item it read.
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException')
        this.add('dynamodb.writeUnits.table', writeUnits(before ? itemSize(before) : 0));
      throw err;
    }
  }

  private async image(table: TableSpec, key: Item): Promise<Item | undefined> {
    // Reads the images before and after each write, on the endpoint the runtime set; not counted.
    this.reader ??= new DynamoDBClient({
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    const out = await this.reader.send(new GetItemCommand({ TableName: table.name, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  /** The runtime's `instrument.onWorkflowEvent`: transitions (Standard) and the log records the machine's level writes. */
  onWorkflowEvent = (executionArn: string, event: { type: string; state?: { name: string; type: string } }): void => {
    let execution = this.executions.get(executionArn);
    if (!execution) {
      execution = { express: executionArn.includes(':express:'), events: 0, lastId: 0 };
      this.executions.set(executionArn, execution);
    }
    const kind = execution.express ? 'express' : 'standard';
    // Step Functions' history: a Task state also records its Lambda call being scheduled, started and finished.
    const types =
      event.type === 'StateEntered' && event.state?.type === 'Task'
        ? [`${event.state.type}StateEntered`, 'LambdaFunctionScheduled', 'LambdaFunctionStarted']
        : event.type === 'StateExited' && event.state?.type === 'Task'
          ? ['LambdaFunctionSucceeded', `${event.state.type}StateExited`]
          : [event.state ? `${event.state.type}${event.type}` : event.type];
    if (event.type === 'StateEntered') this.add(`sfn.${kind}.transitions`, 1, 'task');
    for (const type of types) {
      execution.lastId++;
      if (!logged(type, this.workflowLogLevels[kind])) continue;
      // The record Step Functions writes per event logged, without execution data.
      const record = {
        id: String(execution.lastId),
        type,
        details: event.state ? { name: event.state.name } : {},
        previous_event_id: String(execution.lastId - 1),
        event_timestamp: String(Date.now()),
        execution_arn: executionArn,
        redrive_count: '0',
      };
      this.add('logs.sfnBytes', Buffer.byteLength(`${JSON.stringify(record)}\n`), 'task');
    }
  };

  /** The runtime's `instrument.onExecutionEnd`: Express bills each execution and its duration at 64 MB. */
  onExecutionEnd = (info: { executionArn: string; startDate: Date; stopDate?: Date }): void => {
    if (!info.executionArn.includes(':express:')) {
      this.add('sfn.standard.executions', 1, 'task');
      return;
    }
    const ms = (info.stopDate ?? new Date()).getTime() - info.startDate.getTime();
    const billedMs = Math.max(1, Math.ceil(ms / EXPRESS_DURATION_STEP_MS)) * EXPRESS_DURATION_STEP_MS;
    this.add('sfn.express.requests', 1, 'task');
    this.add('sfn.express.gbSeconds', (billedMs / 1000) * (EXPRESS_BILLED_MB / 1024), 'task');
  };
}

export type WorkflowLogLevel = 'ALL' | 'ERROR' | 'FATAL' | 'OFF';

/**
 * Whether Step Functions logs a history event at `level`: ALL logs every event; ERROR the events of
 * failures (a failed, timed-out or aborted execution, state or Lambda call); FATAL only the
 * execution's own failure; OFF nothing.
 */
export function logged(eventType: string, level: WorkflowLogLevel): boolean {
  if (level === 'ALL') return true;
  if (level === 'OFF') return false;
  if (level === 'FATAL') return /^Execution(Failed|TimedOut|Aborted)$/.test(eventType);
  return /(Failed|TimedOut|Aborted)$/.test(eventType) || eventType === 'FailStateEntered';
}

function isApiEvent(event: unknown): event is { body?: string; rawPath: string } {
  return typeof event === 'object' && event !== null && 'rawPath' in event;
}

/** CapacityUnits of one ConsumedCapacity or a list of them (batch calls). */
function consumed(capacity: unknown): number {
  const list = (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []) as Array<{ CapacityUnits?: number }>;
  return list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
}

/** SQS bills each request per 64 KB of payload. */
function sqsRequests(command: string, input: Record<string, unknown>): number {
  const bytes =
    command === 'SendMessageCommand'
      ? Buffer.byteLength(typeof input.MessageBody === 'string' ? input.MessageBody : '')
      : command === 'SendMessageBatchCommand'
        ? ((input.Entries as Array<{ MessageBody?: string }>) ?? []).reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0)
        : 0;
  return Math.max(1, Math.ceil(bytes / SQS_CHUNK));
}
