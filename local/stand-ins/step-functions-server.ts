import { randomUUID } from 'node:crypto';
import http from 'node:http';
import getRawBody from 'raw-body';
import { listen } from './listen';
import { type ExecutionInfo, localExecutions, type StepFunctionsOptions } from './step-functions-engine';
import { ApiError } from './step-functions-wire';

export type { ExecutionInfo, ExecutionStatus, LocalStateMachine, TaskStateHandler } from './step-functions-engine';

export interface StepFunctionsServerOptions extends StepFunctionsOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface StepFunctionsServer {
  endpoint: string;
  /** Snapshot of every execution recorded since start, oldest first. */
  executions(): ExecutionInfo[];
  /** Aborts every running execution and closes the server. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return getRawBody(req, { limit: MAX_BODY_BYTES, encoding: 'utf8' }).catch((err: { type?: string; message: string }) => {
    throw new ApiError('ValidationException', err.type === 'entity.too.large' ? 'request body too large' : err.message);
  });
}

/**
 * A Step Functions API endpoint (JSON 1.0 protocol) for `@aws-sdk/client-sfn`, running each
 * execution with aws-local-stepfunctions. On a Standard machine execution names are unique for as
 * long as this server runs (AWS: 90 days), and starting a running execution again with the same
 * name and input returns it instead of failing; on an Express machine, as on AWS, every start runs
 * a new execution.
 *
 * Known limitation of the engine: a Task handler is never cancelled. After StopExecution, a Task
 * timeout or an execution timeout, the handler that was running keeps running to its end in the
 * background; only its result is ignored.
 */
export async function startStepFunctionsServer(options: StepFunctionsServerOptions): Promise<StepFunctionsServer> {
  const log = options.logger ?? (() => undefined);
  const { actions, executions, stopAll } = localExecutions(options);

  const reply = (res: http.ServerResponse, status: number, body: unknown, errorType?: string) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST') throw new ApiError('UnknownOperationException', `${req.method ?? ''} is not supported`);
        const target = String(req.headers['x-amz-target'] ?? '');
        const action = target.startsWith('AWSStepFunctions.') ? actions[target.slice('AWSStepFunctions.'.length)] : undefined;
        if (!action) throw new ApiError('UnknownOperationException', `unsupported operation: ${target || '(no X-Amz-Target)'}`);
        const raw = await readBody(req);
        let body: unknown;
        try {
          body = raw === '' ? {} : JSON.parse(raw);
        } catch {
          throw new ApiError('SerializationException', 'request body is not JSON');
        }
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw new ApiError('SerializationException', 'request body must be a JSON object');
        reply(res, 200, action(body as Record<string, unknown>));
      } catch (err) {
        if (err instanceof ApiError) {
          reply(res, 400, { __type: err.type, message: err.message }, err.type);
        } else {
          log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          reply(res, 500, { __type: 'InternalFailure', message: 'internal error in the local Step Functions server' }, 'InternalFailure');
        }
      }
    })();
  });

  const port = await listen(server, options.port);
  let stopping: Promise<void> | undefined;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    executions,
    stop() {
      stopping ??= (async () => {
        await stopAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return stopping;
    },
  };
}
