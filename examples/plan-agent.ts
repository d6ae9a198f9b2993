/**
 * A long-running agent: `plan_migration` drafts a cloud migration plan in steps, as an LLM-backed
 * agent would (each step a simulated model call of --step-ms), reporting progress after each one.
 * It answers the delivery 202 at once and reports the plan itself (asynchronous delivery), so the
 * orchestrator holds nothing while it works; a cancel stops it between (and during) model calls.
 *
 *   node --import tsx examples/plan-agent.ts --name plan-agent-1 --port 8011 --orchestrator http://127.0.0.1:8080
 *
 * Parameters: `goal` (text, required), `steps` (1-8, default 5). Options also come from AGENT_NAME,
 * AGENT_PORT, ORCHESTRATOR_URL, STEP_MS, API_TOKEN, FLEET_TOKEN and LOG_FORMAT (text or json, the local
 * runtime's line format). `createPlanAgent()` builds the same agent in-process. Nothing starts it by default.
 */
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { Agent, type AgentOptions, NonRetryableTaskError, type TaskContext } from '@optiinfra/sdk';
import { createLogOutput } from '../local/feed/log-output';
import { parseLogFormat } from '../local/feed/log-record';
import { runIfMain } from './run-main';

const STEPS = [
  'inventory the workloads and their dependencies',
  'estimate the current and target monthly cost',
  'choose target instance families and sizes',
  'group the workloads into migration waves',
  'write the cut-over runbook',
  'write the rollback plan',
  'list the risks and their owners',
  'summarize the plan for review',
] as const;

const planParams = z.object({
  goal: z.string({ error: 'goal must be a text such as "move the batch fleet to Graviton"' }).min(1).max(500),
  steps: z.number().int().min(1).max(STEPS.length).default(5),
});

export interface PlanAgentOptions extends Partial<Omit<AgentOptions, 'type' | 'capabilities'>> {
  /** How long each simulated model call takes. Default 2 000 ms. */
  stepMs?: number;
}

/** A simulated model call: takes `ms`, or rejects as soon as the task's signal aborts (cancel, deadline, 409). */
function callModel(ms: number, ctx: TaskContext): Promise<number> {
  return new Promise((resolve, reject) => {
    ctx.signal.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(ctx.signal.reason as Error);
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(400 + Math.floor(Math.random() * 400));
    }, ms);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createPlanAgent(options: PlanAgentOptions = {}): Agent {
  const { stepMs = 2_000, ...agentOptions } = options;
  const agent = new Agent({ name: 'plan-agent-1', version: '1.0.0', ...agentOptions, type: 'planner' });

  agent.handle(
    'plan_migration',
    async (params, ctx) => {
      const parsed = planParams.safeParse(params);
      // Another attempt would fail the same way: say so, so the task fails at once.
      if (!parsed.success) throw new NonRetryableTaskError(`invalid parameters: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const { goal, steps } = parsed.data;
      const plan: Array<{ step: number; title: string; detail: string }> = [];
      let tokens = 0;
      for (const [i, title] of STEPS.slice(0, steps).entries()) {
        tokens += await callModel(stepMs, ctx);
        plan.push({ step: i + 1, title, detail: `${title} for: ${goal}` });
        await ctx.progress(Math.round(((i + 1) / steps) * 100), `step ${i + 1}/${steps}: ${title}`);
      }
      return { goal, plan, tokens_used: tokens };
    },
    { longRunning: true },
  );
  return agent;
}

async function main(): Promise<void> {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      name: { type: 'string', default: env.AGENT_NAME ?? 'plan-agent-1' },
      port: { type: 'string', default: env.AGENT_PORT ?? '8011' },
      orchestrator: { type: 'string', default: env.ORCHESTRATOR_URL ?? 'http://127.0.0.1:8080' },
      'step-ms': { type: 'string', default: env.STEP_MS ?? '2000' },
      'api-token': { type: 'string', default: env.API_TOKEN },
      'fleet-token': { type: 'string', default: env.FLEET_TOKEN },
      'log-format': { type: 'string', default: env.LOG_FORMAT },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number from 0 to 65535, got "${values.port}"`);
  const stepMs = Number(values['step-ms']);
  if (!(Number.isFinite(stepMs) && stepMs >= 0)) throw new Error(`--step-ms must be a number of milliseconds, got "${values['step-ms']}"`);

  const logger = createLogOutput({ format: parseLogFormat(values['log-format']) }).logger(values.name);
  const agent = createPlanAgent({
    name: values.name,
    port,
    orchestratorUrl: values.orchestrator,
    stepMs,
    apiToken: values['api-token'],
    fleetToken: values['fleet-token'],
    logger,
  });
  const stopping = new AbortController();
  process.once('SIGINT', () => stopping.abort());
  process.once('SIGTERM', () => stopping.abort());
  try {
    await agent.start({ signal: stopping.signal });
  } catch (err) {
    if (stopping.signal.aborted) return;
    throw err;
  }
  logger.info(`ready: ${agent.url}, agent id ${agent.id}`);
  await new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  await agent.stop();
}

runIfMain(import.meta.url, 'plan-agent', main);
