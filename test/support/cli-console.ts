import { runCli } from '../../packages/cli/src/index';

export interface CliConsole {
  /** The console's origin, such as http://127.0.0.1:40123. */
  url: string;
  /** What the command printed, stdout and stderr, line by line. */
  lines: string[];
  /** Stops it as Ctrl-C does; answers its exit code. */
  stop(): Promise<number>;
}

/** `optiinfra console --api <apiUrl> --port 0 ...args`, run in-process until stop(). */
export async function startCliConsole(apiUrl: string, args: string[]): Promise<CliConsole> {
  const stop = new AbortController();
  const lines: string[] = [];
  const io = {
    out: (t: string) => void lines.push(t),
    err: (t: string) => void lines.push(t),
    progress() {},
    endProgress() {},
    stderrIsTty: false,
    now: Date.now,
  };
  const exit = runCli(['console', '--api', apiUrl, '--port', '0', ...args], {}, io, stop.signal);
  const started = () => lines.find((l) => l.startsWith('Console '));
  for (let i = 0; i < 400 && !started(); i++) await new Promise((r) => setTimeout(r, 50));
  const url = /^Console (http:\/\/127\.0\.0\.1:\d+)\/ui\/ -> /.exec(started() ?? '')?.[1];
  if (!url) {
    stop.abort();
    throw new Error(`optiinfra console did not start: ${lines.join('\n')}`);
  }
  return {
    url,
    lines,
    stop: async () => {
      stop.abort();
      return exit;
    },
  };
}
