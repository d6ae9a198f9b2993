import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type BrowserServer, chromium } from 'playwright-core';

/** The names Debian (`chromium`) and other distributions (`chromium-browser`) give the browser. */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser'];

/**
 * The system's Chromium, found on PATH: playwright-core downloads no browser of its own, and the
 * machines that run the tests reach Debian's packages, not a browser download site.
 */
export function findChromium(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of CHROMIUM_NAMES) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // Not here: the next folder of PATH.
      }
    }
  }
  throw new Error(
    `no Chromium on PATH (looked for ${CHROMIUM_NAMES.join(', ')}): install it with \`apt-get install chromium\` (.ci/run does so where it is missing)`,
  );
}

export interface ChromiumHandle {
  browser: Browser;
  /** The browser process's pid, to kill it if closing hangs. */
  pid: number;
  /** A fresh context (its own cookies and storage, so its own session) with one page viewed at 1280x800. */
  newContext(baseURL: string): Promise<BrowserContext>;
  /** Closes the browser; a browser that does not close within 10 s is killed (SIGKILL) by its pid. */
  close(): Promise<void>;
}

export const VIEWPORT = { width: 1280, height: 800 };

/**
 * Launches headless Chromium from PATH. It is started as a server (launchServer) rather than with
 * launch() only because a server tells the process's pid, which close() needs when a wedged browser
 * does not answer.
 */
export async function launchChromium(): Promise<ChromiumHandle> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: findChromium(),
    headless: true,
    // Chromium refuses to start its sandbox as root, and CI runs as root: without the sandbox it
    // starts (--no-sandbox). The pages it opens are the project's own console on 127.0.0.1.
    chromiumSandbox: false,
    // Containers often give /dev/shm 64 MB, which Chromium's renderers outgrow; /tmp has room.
    args: ['--disable-dev-shm-usage'],
  });
  const pid = server.process().pid;
  if (pid === undefined) {
    await server.kill();
    throw new Error('Chromium started without a pid');
  }
  const browser = await chromium.connect(server.wsEndpoint());
  return {
    browser,
    pid,
    newContext: (baseURL) => browser.newContext({ baseURL, viewport: VIEWPORT }),
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000)));
      const closed = (async () => {
        await browser.close();
        await server.close();
      })();
      const outcome = await Promise.race([closed.then(() => 'closed' as const), hung]);
      clearTimeout(timer);
      if (outcome === 'hung') killGroup(pid);
    },
  };
}

/** Playwright starts Chromium in a process group of its own: killing the group takes its renderers too. */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return;
    } catch {
      // Already gone, or no group of that id: try the process alone.
    }
  }
}
