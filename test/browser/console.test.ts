/**
 * The console (/ui/) in headless Chromium against the local runtime as `npm start` runs it: its two
 * example cost agents, and fault agents as real processes (one that answers 500 to everything, one
 * that accepts and works until cancelled, one to be killed). API_TOKENS is set from the start, so
 * every test gives the token through the page's own form, as a user does, and one runtime serves the
 * whole file. The pages are found by their data-testid hooks (the console contract); every wait is
 * for something the page shows, and a marker set in the page proves it was never reloaded.
 * Screenshots of each page go to test-results/console/.
 */
import { CONSOLE_SERIES_IDS } from '@optiinfra/contract/dashboard-metrics';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startFaultAgent } from '../../harness/agents';
import { type LocalOrchestrator, startLocalOrchestrator } from '../../harness/local-orchestrator';
import { waitUntil } from '../../harness/wait';
import { type ConsoleBrowser, type ConsolePage, startConsoleBrowser } from '../support/browser';
import { call } from '../support/checked-call';
import { startCliConsole } from '../support/cli-console';

const TOKEN = 'console-token-0123456789abcdef';
const BEARER = { authorization: `Bearer ${TOKEN}` };
/** How long a check of the page waits for what it expects (vitest's expect.poll waits 1 s by default). */
const POLL = { timeout: 20_000 };
const METRIC_IDS = CONSOLE_SERIES_IDS;

let orch: LocalOrchestrator;
let browser: ConsoleBrowser;
let flaky: AgentProcess;
let slow: AgentProcess;
let doomed: AgentProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  // Heartbeats every second: an agent that stops is unhealthy 3 s later.
  orch = await startLocalOrchestrator({ API_TOKENS: TOKEN, HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_PERSIST_SECONDS: '1' }, []);
  const fault = (options: Parameters<typeof startFaultAgent>[1]) => startFaultAgent(orch.url, { apiToken: TOKEN, ...options });
  let chromium: ConsoleBrowser;
  [chromium, flaky, slow, doomed] = await Promise.all([
    startConsoleBrowser(),
    fault({ mode: 'fail500', type: 'console-flaky', name: 'console-flaky-agent' }),
    fault({ mode: 'hang', type: 'console-slow', async: true, progressEveryMs: 500 }),
    fault({ mode: 'ok', type: 'console-doomed' }),
  ]);
  browser = chromium;
  agents.push(flaky, slow, doomed);
  await waitUntil(
    'both example cost agents are healthy',
    async () => (await call<{ count: number }>(orch.url, 'GET', '/agents?type=cost&status=healthy', undefined, BEARER)).body.count,
    (count) => count === 2,
    { timeoutMs: 30_000 },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(agents.map((a) => a.stop()));
  await orch?.dispose();
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id: string }>(orch.url, 'POST', '/tasks', body, BEARER);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.task_id;
}

/** The element `testId` inside `scope` once its whole text is `text`. */
const showing = (scope: Page | Locator, testId: string, text: string) =>
  scope.getByTestId(testId).filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) });

const taskRow = (page: Page, id: string) => page.locator(`[data-testid="task-row"][data-task-id="${id}"]`);

/** Opens `route` in a new session, gives the token the page asks for, and marks the document (see `notReloaded`). */
async function openConsole(route: string): Promise<ConsolePage> {
  const opened = await browser.newPage(orch.url);
  const { page } = opened;
  await page.goto(`/ui/#${route}`);
  await page.getByTestId('token-form').waitFor();
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('token-submit').click();
  await page.getByTestId('token-form').waitFor({ state: 'hidden' });
  await page.evaluate('window.__sameDocument = true');
  return opened;
}

/** True while the page is the document `openConsole` marked: it changed without a reload. */
const notReloaded = (page: Page) => page.evaluate('window.__sameDocument === true');

/** Each timeline-attempt's data-attempt and data-outcome, in the page's order. */
async function attemptsShown(page: Page): Promise<Array<[string | null, string | null]>> {
  const entries = page.getByTestId('timeline-attempt');
  const shown: Array<[string | null, string | null]> = [];
  for (let i = 0; i < (await entries.count()); i++) {
    const entry = entries.nth(i);
    shown.push([await entry.getAttribute('data-attempt'), await entry.getAttribute('data-outcome')]);
  }
  return shown;
}

/** Fills an input or textarea, or picks the option of a select. */
async function setField(page: Page, testId: string, value: string): Promise<void> {
  const field = page.getByTestId(testId);
  if ((await page.locator(`select[data-testid="${testId}"]`).count()) > 0) await field.selectOption(value);
  else await field.fill(value);
}

// Concurrent tests take their own `expect` (expect.poll needs to know its test).
describe.concurrent('the console in a real browser', () => {
  it('asks for the token, keeps it in sessionStorage only, sends it on every call, and asks again in a new session', async ({ expect }) => {
    const id = await submit({ task_type: 'right_size', agent_type: 'cost', parameters: { instance_ids: ['i-1'] } });
    const { page, errors, screenshot } = await browser.newPage(orch.url);
    await page.goto('/ui/');
    await page.getByTestId('token-form').waitFor();
    await screenshot('token');

    const wrong = 'not-the-token-0123456789';
    const refused = page.waitForResponse((r) => r.status() === 401 && r.request().headers().authorization === `Bearer ${wrong}`);
    await page.getByTestId('token-input').fill(wrong);
    await page.getByTestId('token-submit').click();
    await refused;
    await page.getByTestId('token-form').waitFor();

    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('token-form').waitFor({ state: 'hidden' });
    const calls: Array<string | undefined> = [];
    page.on('request', (r) => {
      if (!new URL(r.url()).pathname.startsWith('/ui/')) calls.push(r.headers().authorization);
    });
    await showing(taskRow(page, id), 'task-status', 'completed').waitFor();

    expect(await page.evaluate('JSON.stringify(Object.values(sessionStorage))')).toContain(TOKEN);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(TOKEN);
    expect(JSON.stringify(await page.context().cookies())).not.toContain(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    // The session outlives a reload of the tab ...
    await page.reload();
    await taskRow(page, id).waitFor();
    expect(await page.getByTestId('token-form').isVisible()).toBe(false);
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls)).toEqual(new Set([`Bearer ${TOKEN}`]));
    // ... but not the tab: a new session is asked again.
    const other = await browser.newPage(orch.url);
    await other.page.goto('/ui/#/agents');
    await other.page.getByTestId('token-form').waitFor();
    expect([...errors, ...other.errors]).toEqual([]);
  });

  it('submits a task with its form, and shows it turn completed with one attempt, without a reload', async ({ expect }) => {
    const { page, errors } = await openConsole('/tasks');
    await page.getByTestId('tasks-page').waitFor();
    if ((await page.getByTestId('submit-form').count()) === 0) await page.evaluate("location.hash = '#/submit'");
    await setField(page, 'submit-agent-type', 'cost');
    if ((await page.getByTestId('submit-action').count()) > 0) await setField(page, 'submit-action', 'analyze_cost');
    await setField(page, 'submit-parameters', JSON.stringify({ account_id: 'acme-42' }));
    await page.getByTestId('submit-button').click();

    const taskPage = page.getByTestId('task-page');
    await taskPage.waitFor();
    const id = await taskPage.getAttribute('data-task-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await showing(page, 'task-status', 'completed').waitFor();
    await expect.poll(() => attemptsShown(page), POLL).toEqual([['1', 'completed']]);
    await expect.poll(() => page.getByTestId('task-result').textContent(), POLL).toContain('acme-42');
    expect(await page.getByTestId('cancel-task').isVisible()).toBe(false);

    await page.getByTestId('nav-tasks').click();
    await showing(taskRow(page, id!), 'task-status', 'completed').waitFor();
    expect(await notReloaded(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows a task submitted elsewhere appear in the list and turn completed, without a reload', async ({ expect }) => {
    const { page, errors } = await openConsole('/tasks');
    await page.getByTestId('tasks-page').waitFor();
    const id = await submit({ task_type: 'migrate_to_spot', agent_type: 'cost', parameters: { instance_ids: ['i-2', 'i-3'] } });
    await showing(taskRow(page, id), 'task-status', 'completed').waitFor();
    expect(await notReloaded(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('does not ask again for the token it was just given when a read sent before it answers 401', async ({ expect }) => {
    const id = await submit({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: 'stale-401' } });
    const { page, errors } = await browser.newPage(orch.url);
    // The page reads the task without a token (401: it asks for one), then again 2 s later: that
    // second read is held until the token has been given, and the API then answers it 401, for the
    // token it did not carry.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let withoutToken = 0;
    let held = false;
    await page.route(
      (url) => url.pathname === `/tasks/${id}`,
      async (route) => {
        if (route.request().headers().authorization === undefined && ++withoutToken === 2) {
          held = true;
          await released;
        }
        await route.continue();
      },
    );
    await page.goto(`/ui/#/tasks/${id}`);
    await page.getByTestId('token-form').waitFor();
    await expect.poll(() => held, { timeout: 10_000 }).toBe(true);
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('token-form').waitFor({ state: 'hidden' });
    const stale = page.waitForResponse((res) => new URL(res.url()).pathname === `/tasks/${id}` && res.status() === 401);
    release();
    await stale;
    await showing(page, 'task-status', 'completed').waitFor();
    expect(await page.getByTestId('token-form').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('gives up a read of the list that gets no answer, and reads again', async ({ expect }) => {
    const { page, errors } = await openConsole('/tasks');
    await page.getByTestId('tasks-page').waitFor();
    // The next read of the list gets no answer at all, as on a connection that stalled; the reads
    // after it go through. Without a deadline of its own the page would wait on it for good, and
    // never show the task below (it reads one list at a time).
    let reads = 0;
    await page.route(
      (url) => url.pathname === '/tasks',
      async (route) => {
        reads += 1;
        if (reads > 1) return route.continue();
      },
    );
    const id = await submit({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: 'held-read' } });
    await showing(taskRow(page, id), 'task-status', 'completed').waitFor();
    expect(reads).toBeGreaterThan(1);
    expect(await notReloaded(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it("shows a failing task's three attempts on its timeline, each an HTTP 500", async ({ expect }) => {
    const id = await submit({ task_type: 'work', agent_type: 'console-flaky', max_retries: 2, retry_delay_seconds: 0 });
    const { page, errors, screenshot } = await openConsole(`/tasks/${id}`);
    await page.locator(`[data-testid="task-page"][data-task-id="${id}"]`).waitFor();
    await showing(page, 'task-status', 'failed').waitFor();
    await expect
      .poll(() => attemptsShown(page), POLL)
      .toEqual([
        ['1', 'http_error'],
        ['2', 'http_error'],
        ['3', 'http_error'],
      ]);
    for (let i = 0; i < 3; i++) {
      const entry = page.getByTestId('timeline-attempt').nth(i);
      const text = await entry.textContent();
      expect(text).toContain('500');
      // The agent, by its name or its id.
      expect(text).toMatch(new RegExp(`console-flaky-agent|${flaky.id.slice(0, 8)}`));
    }
    await expect.poll(() => page.getByTestId('task-error').textContent(), POLL).toContain('500');
    expect(await notReloaded(page)).toBe(true);
    await screenshot('task-timeline');

    // The list, filtered to failed tasks, has it, and only failed ones.
    await page.getByTestId('nav-tasks').click();
    await page.getByTestId('filter-status').selectOption('failed');
    await showing(taskRow(page, id), 'task-status', 'failed').waitFor();
    // The row shows failed in the list read before the filter too: polled until the filtered read is shown.
    await expect
      .poll(async () => new Set((await page.getByTestId('task-status').allTextContents()).map((s) => s.trim())), POLL)
      .toEqual(new Set(['failed']));
    expect(errors).toEqual([]);
  });

  it('cancels a running task with its cancel button, and the agent hears of it', async ({ expect }) => {
    const id = await submit({ task_type: 'work', agent_type: 'console-slow', timeout_seconds: 600 });
    const { page, errors, requested } = await openConsole(`/tasks/${id}`);
    await showing(page, 'task-status', 'running').waitFor();
    // A running task is followed with waiting reads, not polled.
    await expect.poll(() => requested.includes(`/tasks/${id}?wait=20`), POLL).toBe(true);
    await page.getByTestId('cancel-task').click();
    await showing(page, 'task-status', 'cancelled').waitFor();
    await page.getByTestId('cancel-task').waitFor({ state: 'hidden' });
    await expect.poll(() => attemptsShown(page), POLL).toEqual([['1', 'cancelled']]);
    await slow.proc.waitFor(new RegExp(`^ABORTED \\{"task_id":"${id}"`, 'm'), 20_000);
    expect((await call(orch.url, 'GET', `/tasks/${id}`, undefined, BEARER)).body.status).toBe('cancelled');
    expect(await notReloaded(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows an agent that stops heartbeating turn unhealthy on the agents page, without a reload', async ({ expect }) => {
    const { page, errors, screenshot } = await openConsole('/agents');
    await page.getByTestId('agents-page').waitFor();
    const row = page.locator(`[data-testid="agent-row"][data-agent-id="${doomed.id}"]`);
    await showing(row, 'agent-status', 'healthy').waitFor();
    for (const shown of await page.getByTestId('agent-inflight').allTextContents()) expect(shown).toMatch(/^\s*\d+\s*\/\s*\d+\s*$/);
    // Killed outright, by its pid: it cannot unregister, it just goes quiet.
    process.kill(doomed.proc.child.pid!, 'SIGKILL');
    await showing(row, 'agent-status', 'unhealthy').waitFor();
    expect(await row.getByTestId('agent-heartbeat').textContent()).not.toBe('');
    expect(await notReloaded(page)).toBe(true);
    await screenshot('agents');
    expect(errors).toEqual([]);
  });
});

// After the tasks above: the list has every kind of ending, and the metrics have counted them.
describe('the other pages, for a reviewer', () => {
  it('lists the tasks of every test', async () => {
    const { page, errors, screenshot } = await openConsole('/tasks');
    await page.getByTestId('tasks-page').waitFor();
    for (const status of ['completed', 'failed', 'cancelled']) await showing(page, 'task-status', status).first().waitFor();
    await screenshot('tasks');
    expect(errors).toEqual([]);
  });

  it("shows every series of the dashboard's metrics, the submitted tasks counted", async () => {
    const { page, errors, screenshot } = await openConsole('/tasks');
    const asked = page.waitForRequest((r) => new URL(r.url()).pathname === '/ui/metrics');
    await page.getByTestId('nav-metrics').click();
    // Behind the API's token, like every other call.
    expect((await asked).headers().authorization).toBe(`Bearer ${TOKEN}`);
    await page.getByTestId('metrics-page').waitFor();
    for (const id of METRIC_IDS) await page.locator(`[data-testid="metric"][data-metric-id="${id}"]`).waitFor();
    expect(await page.getByTestId('metric').count()).toBe(METRIC_IDS.length);
    const submitted = page.locator('[data-testid="metric"][data-metric-id="submitted"]');
    await expect.poll(() => submitted.textContent(), POLL).toMatch(/[1-9]/);
    expect(await notReloaded(page)).toBe(true);
    await screenshot('metrics');
    expect(errors).toEqual([]);
  });

  it('works the same served by optiinfra console, which holds the token: the page never asks for one', async () => {
    const cli = await startCliConsole(orch.url, ['--token', TOKEN]);
    try {
      const { page, errors, screenshot } = await browser.newPage(cli.url);
      const sent: Array<string | undefined> = [];
      page.on('request', (r) => {
        if (!new URL(r.url()).pathname.startsWith('/ui/')) sent.push(r.headers().authorization);
      });
      await page.goto('/ui/#/tasks');
      await page.getByTestId('tasks-page').waitFor();
      await showing(page, 'task-status', 'completed').first().waitFor();
      if ((await page.getByTestId('submit-form').count()) === 0) await page.evaluate("location.hash = '#/submit'");
      await setField(page, 'submit-agent-type', 'cost');
      if ((await page.getByTestId('submit-action').count()) > 0) await setField(page, 'submit-action', 'analyze_cost');
      await setField(page, 'submit-parameters', JSON.stringify({ account_id: 'through-cli' }));
      await page.getByTestId('submit-button').click();
      await page.getByTestId('task-page').waitFor();
      await showing(page, 'task-status', 'completed').waitFor();
      await expect.poll(() => page.getByTestId('task-result').textContent(), POLL).toContain('through-cli');
      await screenshot('through-optiinfra-console');
      expect(await page.getByTestId('token-form').count()).toBe(0);
      expect(sent.length).toBeGreaterThan(0);
      expect(new Set(sent)).toEqual(new Set([undefined]));
      expect(errors).toEqual([]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
