import { apiEndpoint, type ClientOptions, type RequestSigner } from '@optiinfra/client';
import { consoleAssets } from '@optiinfra/console';
import type { CliIo } from './commands.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage.js';
import { cloudWatchMetrics } from './cloudwatch-source.js';
import { startConsoleProxy } from './console-proxy.js';

export interface ConsoleTarget {
  apiUrl: URL;
  signer?: RequestSigner;
  token?: string;
  /** Where the metrics are read (a deployed API's region); without it GET /ui/metrics goes to the API. */
  metricsRegion?: string;
  /** How the calls are authenticated, for the start line. */
  auth: string;
}

/**
 * Where the console's calls go and how, decided as the client decides for its own calls: a signed
 * API (a stack, an execute-api URL) with CloudWatch metrics; any other with the bearer token (or the
 * page's own), and its own /ui/metrics.
 */
export function consoleTarget(options: ClientOptions): ConsoleTarget {
  const { url: apiUrl, signer, region } = apiEndpoint(options);
  if (signer) return { apiUrl, signer, metricsRegion: region!, auth: `signed with SigV4 (${region})` };
  if (options.token) return { apiUrl, token: options.token, auth: 'with the bearer token' };
  return { apiUrl, auth: "with the page's own token, if any" };
}

/** `optiinfra console`: serves the page and forwards its calls until the signal (Ctrl-C). */
export async function runConsole(
  port: number,
  target: ConsoleTarget,
  io: Pick<CliIo, 'out' | 'err'>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const assets = await consoleAssets();
  const warn = (line: string) => io.err(`optiinfra console: ${line}`);
  const source = target.metricsRegion ? cloudWatchMetrics({ region: target.metricsRegion, warn }) : undefined;
  let proxy: Awaited<ReturnType<typeof startConsoleProxy>>;
  try {
    proxy = await startConsoleProxy({
      apiUrl: target.apiUrl,
      assets,
      port,
      warn,
      ...(target.signer ? { signer: target.signer } : {}),
      ...(target.token ? { token: target.token } : {}),
      ...(source ? { metrics: source.metrics } : {}),
    });
  } catch (err) {
    source?.close();
    if ((err as { code?: unknown }).code === 'EADDRINUSE')
      throw new UsageError(`port ${port} on 127.0.0.1 is taken: pass --port with a free one (0 picks one)`, 'console');
    throw err;
  }
  io.out(`Console ${proxy.url}/ui/ -> ${target.apiUrl.href} (${target.auth})`);
  io.out(target.metricsRegion ? `Metrics from CloudWatch in ${target.metricsRegion}. Ctrl-C stops it.` : 'Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await proxy.stop();
  source?.close();
  return EXIT.ok;
}
