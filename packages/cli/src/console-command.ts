import { regionOfApiUrl, type RequestSigner, sigv4Signer } from '@optiinfra/client';
import { consoleAssets } from '@optiinfra/console';
import type { CliIo } from './commands.js';
import { EXIT } from './exit-codes.js';
import type { GlobalOptions } from './parse-command.js';
import { apiUrlOfStack } from './stack-api-url.js';
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

function urlOf(text: string, source: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new UsageError(`${source} must be a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(text.slice(0, 100))})`, 'console');
  }
}

/**
 * Where the console's calls go and how they are signed: a stack's ApiUrl (or an execute-api URL)
 * with SigV4 and CloudWatch metrics; any other URL with the bearer token, and its own /ui/metrics.
 */
export async function consoleTarget(
  global: GlobalOptions,
  env: Record<string, string | undefined>,
  defaultApiUrl: string,
): Promise<ConsoleTarget> {
  const apiUrl = global.stack
    ? urlOf(await apiUrlOfStack(global.stack, global.region), `stack ${global.stack}'s ApiUrl`)
    : urlOf(global.api ?? env.OPTIINFRA_API_URL ?? defaultApiUrl, global.api ? '--api' : 'OPTIINFRA_API_URL');
  if (global.stack || regionOfApiUrl(apiUrl)) {
    const region = global.region ?? regionOfApiUrl(apiUrl) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new UsageError(`no AWS region to sign calls to ${apiUrl.origin} for: pass --region or set AWS_REGION`, 'console');
    return { apiUrl, signer: sigv4Signer({ region }), metricsRegion: region, auth: `signed with SigV4 (${region})` };
  }
  const token = global.token ?? env.OPTIINFRA_API_TOKEN;
  if (token) return { apiUrl, token, auth: 'with the bearer token' };
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
