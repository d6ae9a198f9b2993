/**
 * Middleware the local runtime puts on every AWS SDK client of the functions, which knows the calling
 * function (the runtime runs each invocation in an AsyncLocalStorage scope):
 * - a function in the VPC reaches only the services the template routes to its subnets: any other
 *   call fails as it would on AWS, by a connection timeout (made short here: CONNECT_TIMEOUT_MS per
 *   attempt, which the SDK retries as transient);
 * - with OPTIINFRA_RECORD_AWS_CALLS set to a folder, each distinct call (the function's logical id,
 *   the IAM action, the resource ARN) is appended to a file there, for test/iam to evaluate against
 *   the template's role policies.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { iamCallsOf } from './aws-iam-calls';
import { LOCAL_AWS } from './provision';
import type { CfnTemplate } from './template/cfn-template';
import { vpcFunctionRoutes } from './template/vpc-routes';

export const RECORD_AWS_CALLS_ENV = 'OPTIINFRA_RECORD_AWS_CALLS';
export const CONNECT_TIMEOUT_MS = 200;

/** One distinct call: who made it (a logical id of the template), the IAM action and the resource. */
export interface RecordedCall {
  principal: string;
  action: string;
  resource: string;
}

type Next = (args: { input: Record<string, unknown> }) => Promise<unknown>;
interface MiddlewareStack {
  add(
    middleware: (next: Next, context: { commandName?: string }) => Next,
    options: { step: 'build' | 'finalizeRequest'; name: string; priority?: 'low' | 'high' },
  ): void;
}
interface SdkClient {
  middlewareStack: unknown;
  config: unknown;
}

export class AwsCallGuard {
  private readonly scope = new AsyncLocalStorage<string>();
  /** For each function in the VPC, the services it may reach ('all' through NAT). */
  private readonly reachable: Map<string, 'all' | Set<string>>;
  private readonly seen = new Set<string>();
  private readonly file?: string;

  constructor(template: CfnTemplate, recordDir = process.env[RECORD_AWS_CALLS_ENV]) {
    this.reachable = new Map(vpcFunctionRoutes(template).map((r) => [r.logicalId, r.reachable === 'all' ? 'all' : new Set(r.reachable)]));
    if (recordDir) {
      mkdirSync(recordDir, { recursive: true });
      this.file = path.join(recordDir, `calls-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`);
    }
  }

  /** Runs one invocation of function `logicalId`: its AWS calls are attributed to it. */
  wrap<E, C, R>(logicalId: string, handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
    return (event, context) => this.scope.run(logicalId, () => handler(event, context));
  }

  /** Whether the function's network reaches `service` (functions outside a VPC reach every service). */
  reaches(logicalId: string, service: string): boolean {
    const reachable = this.reachable.get(logicalId);
    return reachable === undefined || reachable === 'all' || reachable.has(service);
  }

  record(principal: string, action: string, resource: string): void {
    if (!this.file) return;
    const line = JSON.stringify({ principal, action, resource } satisfies RecordedCall);
    if (this.seen.has(line)) return;
    this.seen.add(line);
    appendFileSync(this.file, `${line}\n`);
  }

  /**
   * Adds the route check and the recording to a client. `as` names the function for a client the
   * Lambda service uses on its behalf (the SQS event source's poller): its role, outside the VPC.
   */
  hook = (client: SdkClient, as?: string): void => {
    const stack = client.middlewareStack as MiddlewareStack;
    const service = String((client.config as { defaultSigningName?: string }).defaultSigningName);
    // At the build step the input is as sent: the document client has marshalled it.
    stack.add(
      (next, context) => async (args) => {
        const principal = as ?? this.scope.getStore() ?? '(no function)';
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        for (const call of iamCallsOf(service, operation, args.input, LOCAL_AWS)) this.record(principal, call.action, call.resource);
        return next(args);
      },
      { step: 'build', name: 'localAwsCallRecord' },
    );
    // Inside the SDK's retry middleware: every attempt meets the closed network, as on AWS.
    stack.add(
      (next) => async (args) => {
        const fn = as === undefined ? this.scope.getStore() : undefined;
        if (fn !== undefined && !this.reaches(fn, service)) {
          await sleep(CONNECT_TIMEOUT_MS);
          throw Object.assign(
            new Error(
              `Socket timed out without establishing a connection within ${CONNECT_TIMEOUT_MS} ms (local: the template routes no ${service} endpoint to ${fn}'s subnets)`,
            ),
            { name: 'TimeoutError' },
          );
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'localVpcRoute', priority: 'low' },
    );
  };
}
