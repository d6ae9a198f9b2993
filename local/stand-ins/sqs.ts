import { buildApp } from './node22/fauxqs';

export interface SqsOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  region?: string;
}

interface FastifyLike {
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<unknown>;
}

export interface SqsStandIn {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * SQS on 127.0.0.1 through fauxqs, in this process, in memory. Not `startFauxqs`: it listens on
 * every interface. Queue URLs it returns have `sqs.<region>.localhost` hosts, which do not resolve
 * everywhere, so clients need `endpoint` set explicitly (and `useQueueUrlAsEndpoint: false` when
 * the endpoint comes from `AWS_ENDPOINT_URL_SQS`).
 */
export async function startSqs(options: SqsOptions = {}): Promise<SqsStandIn> {
  // fauxqs's declarations import `.ts` paths it does not ship, so its Fastify type does not resolve for every tool.
  const app = buildApp({ logger: false, ...(options.region ? { defaultRegion: options.region } : {}) }) as unknown as FastifyLike;
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  let stopped: Promise<void> | undefined;
  return {
    endpoint: address,
    stop() {
      stopped ??= (async () => {
        await app.close();
      })();
      return stopped;
    },
  };
}
