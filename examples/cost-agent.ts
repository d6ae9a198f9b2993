/**
 * The seed's CostAgent on the SDK: analyze_cost, migrate_to_spot and right_size with the seed's result
 * fields, after a short simulated delay.
 *
 *   node --import tsx examples/cost-agent.ts --name cost-agent-1 --port 8001 --orchestrator http://127.0.0.1:8080
 *
 * Options also come from AGENT_NAME, AGENT_HOST, AGENT_ADVERTISE_HOST, AGENT_PORT, ORCHESTRATOR_URL,
 * WORK_DELAY_MS and LOG_FORMAT. Its lines have the local runtime's format (text, or json with --log-format json). `createCostAgent()` builds the same agent in-process (the local runtime does).
 */
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { Agent, type AgentOptions, type TaskContext } from '@optiinfra/sdk';
import { createLogOutput } from '../local/feed/log-output';
import { parseLogFormat } from '../local/feed/log-record';
import { runIfMain } from './run-main';

export const COST_TASK_TYPES = ['analyze_cost', 'migrate_to_spot', 'right_size'] as const;
export type CostTaskType = (typeof COST_TASK_TYPES)[number];

/** Shorter than the seed's 1-2 s sleeps so demos stay snappy; the order of durations is kept. */
export const DEFAULT_WORK_DELAY_MS: Readonly<Record<CostTaskType, number>> = { analyze_cost: 300, migrate_to_spot: 500, right_size: 200 };

export interface CostAgentOptions extends Partial<Omit<AgentOptions, 'type' | 'capabilities'>> {
  /** Simulated work per task type, or one number for all. Default `DEFAULT_WORK_DELAY_MS`. */
  workDelayMs?: number | Partial<Record<CostTaskType, number>>;
}

const analyzeParams = z.object({
  account_id: z.string().default('default'),
  period: z.string().default('last_7_days'),
});
const instanceParams = z.object({
  instance_ids: z.array(z.string(), { error: 'instance_ids must be an array of instance id strings' }).default([]),
});

function parseParams<T>(schema: z.ZodType<T>, params: Record<string, unknown>): T {
  const parsed = schema.safeParse(params);
  if (!parsed.success)
    throw new Error(`invalid parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Sleeps like real work would, but gives up as soon as the orchestrator stops waiting. */
function work(ms: number, ctx: TaskContext): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(ctx.signal.reason as Error);
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createCostAgent(options: CostAgentOptions = {}): Agent {
  const { workDelayMs, ...agentOptions } = options;
  const delays: Record<CostTaskType, number> =
    typeof workDelayMs === 'number'
      ? { analyze_cost: workDelayMs, migrate_to_spot: workDelayMs, right_size: workDelayMs }
      : { ...DEFAULT_WORK_DELAY_MS, ...workDelayMs };
  const agent = new Agent({ name: 'cost-agent-1', version: '1.0.0', ...agentOptions, type: 'cost' });

  agent.handle('analyze_cost', async (params, ctx) => {
    const { account_id, period } = parseParams(analyzeParams, params);
    await work(delays.analyze_cost, ctx);
    return {
      account_id,
      period,
      current_spend: 15420.5,
      potential_savings: 6800.25,
      savings_percentage: 44.1,
      recommendations: [
        { type: 'spot_migration', instances: 12, monthly_savings: 4200.0 },
        { type: 'right_sizing', instances: 5, monthly_savings: 1800.25 },
        { type: 'reserved_instances', instances: 3, monthly_savings: 800.0 },
      ],
    };
  });

  agent.handle('migrate_to_spot', async (params, ctx) => {
    const { instance_ids } = parseParams(instanceParams, params);
    await work(delays.migrate_to_spot, ctx);
    return {
      total_instances: instance_ids.length,
      migrated: instance_ids.length,
      failed: 0,
      monthly_savings: instance_ids.length * 350.0,
      status: 'completed',
    };
  });

  agent.handle('right_size', async (params, ctx) => {
    const { instance_ids } = parseParams(instanceParams, params);
    await work(delays.right_size, ctx);
    return {
      total_instances: instance_ids.length,
      optimized: instance_ids.length,
      monthly_savings: instance_ids.length * 280.0,
      average_size_reduction: '38%',
      status: 'completed',
    };
  });

  return agent;
}

async function main(): Promise<void> {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      name: { type: 'string', default: env.AGENT_NAME ?? 'cost-agent-1' },
      host: { type: 'string', default: env.AGENT_HOST ?? '127.0.0.1' },
      'advertise-host': { type: 'string', default: env.AGENT_ADVERTISE_HOST },
      port: { type: 'string', default: env.AGENT_PORT ?? '8001' },
      orchestrator: { type: 'string', default: env.ORCHESTRATOR_URL ?? 'http://127.0.0.1:8080' },
      'delay-ms': { type: 'string', default: env.WORK_DELAY_MS },
      'api-token': { type: 'string', default: env.API_TOKEN },
      'fleet-token': { type: 'string', default: env.FLEET_TOKEN },
      'log-format': { type: 'string', default: env.LOG_FORMAT },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: node --import tsx examples/cost-agent.ts [--name cost-agent-1] [--port 8001] [--host 127.0.0.1]
       [--advertise-host HOST] [--orchestrator http://127.0.0.1:8080] [--delay-ms N] [--api-token T] [--fleet-token T]
       [--log-format text|json]
Environment: AGENT_NAME, AGENT_PORT, AGENT_HOST, AGENT_ADVERTISE_HOST, ORCHESTRATOR_URL, WORK_DELAY_MS, API_TOKEN, FLEET_TOKEN, LOG_FORMAT.`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number from 0 to 65535, got "${values.port}"`);
  const delay = values['delay-ms'] === undefined ? undefined : Number(values['delay-ms']);
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0))
    throw new Error(`--delay-ms must be a number of milliseconds, got "${values['delay-ms']}"`);

  const output = createLogOutput({ format: parseLogFormat(values['log-format']) });
  const logger = output.logger(values.name);
  const agent = createCostAgent({
    name: values.name,
    host: values.host,
    advertiseHost: values['advertise-host'],
    port,
    orchestratorUrl: values.orchestrator,
    workDelayMs: delay,
    apiToken: values['api-token'],
    fleetToken: values['fleet-token'],
    logger,
  });

  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      logger.info(`${signal} again: exiting now`);
      process.exit(130);
    }
    logger.info(`${signal}: stopping`);
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await agent.start({ signal: stopping.signal });
  } catch (err) {
    if (stopping.signal.aborted) return;
    throw err;
  }
  logger.info(`ready: ${agent.url}, agent id ${agent.id}`);
  await new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  await agent.stop();
  logger.info('stopped');
}

runIfMain(import.meta.url, 'cost-agent', main);
