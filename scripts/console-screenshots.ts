/**
 * The README's two console screenshots, made from a run with the README walkthrough's kinds of
 * tasks: the example cost agents' three task types, a task of an agent that answers HTTP 500 to
 * everything (failed after 3 attempts) and a plan of the long-running plan agent, still in progress.
 *
 *   npm run screenshots      # writes docs/images/console-tasks.png and docs/images/console-task.png
 *
 * Everything is real and started here: the local runtime on a free port with a fresh data folder,
 * the agents as processes, and Debian's Chromium (headless, 1280x800).
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startFaultAgent, startPlanAgent } from '../harness/agents';
import { launchChromium } from '../harness/browser';
import { call, isTerminal, startLocalOrchestrator, waitForTask, waitForTasks } from '../harness/local-orchestrator';
import { ROOT } from '../harness/processes';

const IMAGES = path.join(ROOT, 'docs', 'images');

async function submit(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await call<{ task_id?: string; error?: string }>(base, 'POST', '/tasks', body);
  if (res.status !== 201 || !res.body.task_id) throw new Error(`POST /tasks answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.task_id;
}

async function main(): Promise<void> {
  // The example cost agents too, as `npm start` runs them.
  const orch = await startLocalOrchestrator({}, []);
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const [flaky, plan] = await Promise.all([
      startFaultAgent(orch.url, { mode: 'fail500', type: 'flaky', name: 'flaky-agent-1', capabilities: ['work'] }),
      startPlanAgent(orch.url, { name: 'plan-agent-1', stepMs: 4000 }),
    ]);
    stops.push(
      () => flaky.stop(),
      () => plan.stop(),
    );
    const done = [
      await submit(orch.url, { task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '123' } }),
      await submit(orch.url, { task_type: 'migrate_to_spot', agent_type: 'cost', parameters: { instance_ids: ['i-0a1', 'i-0b2'] } }),
      await submit(orch.url, { task_type: 'right_size', agent_type: 'cost', parameters: { instance_ids: ['i-0c3'] } }),
    ];
    const failing = await submit(orch.url, { task_type: 'work', agent_type: 'flaky', max_retries: 2, retry_delay_seconds: 1 });
    const planning = await submit(orch.url, {
      task_type: 'plan_migration',
      agent_type: 'planner',
      timeout_seconds: 900,
      heartbeat_timeout_seconds: 30,
      parameters: { goal: 'move the batch fleet to Graviton', steps: 5 },
    });
    done.push(await submit(orch.url, { task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '456' } }));
    await waitForTasks(orch.url, [...done, failing], isTerminal);
    await waitForTask(orch.url, planning, (t) => Number(t.progress ?? 0) >= 20);

    const chromium = await launchChromium();
    stops.unshift(() => chromium.close());
    const page = await (await chromium.newContext(orch.url)).newPage();
    mkdirSync(IMAGES, { recursive: true });
    await page.goto('/ui/#/tasks');
    await page.locator(`[data-testid="task-row"][data-task-id="${failing}"]`).waitFor();
    await shoot(page, 'console-tasks.png');
    await page.goto(`/ui/#/tasks/${failing}`);
    await page.getByTestId('timeline-attempt').nth(2).waitFor();
    await shoot(page, 'console-task.png');
  } finally {
    for (const stop of stops) await stop();
    await orch.dispose();
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(IMAGES, name);
  await page.screenshot({ path: file });
  console.log(`${path.relative(ROOT, file)}  ${Math.round(statSync(file).size / 1024)} KB`);
}

await main();
