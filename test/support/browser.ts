/**
 * The browser tests' Chromium (harness/browser.ts): one browser per test file, a fresh context and
 * page per test (so each test starts a session of its own: no token, no storage), screenshots in
 * test-results/console/ (git-ignored) for a reviewer to look at.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type ChromiumHandle, launchChromium } from '../../harness/browser';
import { ROOT } from '../../harness/processes';

export const SCREENSHOTS = path.join(ROOT, 'test-results', 'console');

export interface ConsoleBrowser {
  /** A page in a new session on `baseURL`; it records the page's uncaught errors in `errors`. */
  newPage(baseURL: string): Promise<ConsolePage>;
  /** Closes the browser and so every page it opened (killed by its pid if closing hangs). */
  close(): Promise<void>;
}

export interface ConsolePage {
  page: Page;
  /** Uncaught exceptions thrown in the page (its console's red lines), in order. */
  errors: string[];
  /** The path and query of every request the page sent, in order. */
  requested: string[];
  /** Saves the whole page as test-results/console/<name>.png and returns the file's path. */
  screenshot: (name: string) => Promise<string>;
}

export async function startConsoleBrowser(): Promise<ConsoleBrowser> {
  const chromium: ChromiumHandle = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    async newPage(baseURL) {
      const context = await chromium.newContext(baseURL);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.stack ?? err.message));
      const requested: string[] = [];
      page.on('request', (req) => {
        const url = new URL(req.url());
        requested.push(url.pathname + url.search);
      });
      // A confirm() (are you sure you want to cancel?) is answered yes, as the user of the test means it.
      page.on('dialog', (dialog) => void dialog.accept());
      return {
        page,
        errors,
        requested,
        screenshot: async (name) => {
          const file = path.join(SCREENSHOTS, `${name}.png`);
          await page.screenshot({ path: file, fullPage: true });
          return file;
        },
      };
    },
    // Closing the browser closes its contexts and pages; one that hangs gets it killed by its pid.
    close: () => chromium.close(),
  };
}
