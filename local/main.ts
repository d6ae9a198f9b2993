/**
 * `npm start`: the orchestrator on one machine, on 127.0.0.1:8080, with two example cost agents.
 *   npm start -- --no-agents --port 9090 --data-dir /tmp/orchestrator
 * After `ready.` it prints a feed: one line per task or agent event (--quiet: none; --log-format json: JSON lines).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCostAgent } from '../examples/cost-agent';
import { handlerRecord } from './feed/handler-record';
import { createLogOutput } from './feed/log-output';
import { type LogFormat, parseLogFormat } from './feed/log-record';
import { startRuntime } from './runtime';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    'data-dir': { type: 'string', default: process.env.DATA_DIR ?? '.optiinfra' },
    'no-agents': { type: 'boolean', default: false },
    'log-format': { type: 'string', default: process.env.LOG_FORMAT ?? 'text' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm start -- [--port 8080] [--host 127.0.0.1] [--data-dir .optiinfra] [--no-agents] [--quiet] [--log-format text|json]

  --no-agents   do not start the two example cost agents
  --data-dir    where the local DynamoDB keeps its data (kept across restarts)
  --quiet       no feed: no line per task or agent event (start-up lines and warnings still print)
  --log-format  text (default; colour on a terminal unless NO_COLOR is set) or json (one JSON object per line); or LOG_FORMAT
Settings such as RETRY_BASE_DELAY_SECONDS or QUEUE_TIMEOUT_SECONDS are read from the environment (see docs/configuration.md).
API_TOKENS=<token>[,<token>...] requires "Authorization: Bearer <token>" on every route but GET /health.
FLEET_TOKENS=<token>[,<token>...] requires "X-Fleet-Token: <token>" to register an agent.`);
  process.exit(0);
}

let format: LogFormat;
try {
  format = parseLogFormat(values['log-format']);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const port = Number(values.port);
if (!/^\d{1,5}$/.test(values.port) || port > 65535) {
  console.error(`--port (or PORT) must be a port number from 0 to 65535 (0: any free port), got "${values.port}"`);
  process.exit(2);
}
if (!isIP(values.host) && values.host !== 'localhost') {
  console.error(`--host (or HOST) must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0, got "${values.host}"`);
  process.exit(2);
}
if (!values['data-dir'].trim()) {
  console.error('--data-dir (or DATA_DIR) must be a folder, got ""');
  process.exit(2);
}

// API_TOKENS: comma-separated; list the new token beside the old one while callers switch over.
const apiTokens = (process.env.API_TOKENS ?? '')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
const weak = apiTokens.find((t) => t.length < 16 || /\s/.test(t));
if (weak !== undefined) {
  console.error(
    'API_TOKENS must list tokens of at least 16 characters without spaces, separated by commas (for example: openssl rand -hex 32)',
  );
  process.exit(2);
}

// FLEET_TOKENS (read by the agents API the same way) gates registration; the example agents use the first.
const fleetTokens = (process.env.FLEET_TOKENS ?? '')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);

const output = createLogOutput({ format, quiet: values.quiet });
const log = (line: string) => output.line('orchestrator', line);
const dataDir = path.resolve(values['data-dir']);
const runtime = await startRuntime({
  host: values.host,
  port,
  dataDir,
  log,
  apiTokens,
  onActivity: values.quiet ? undefined : (event) => output.activity(event),
  onHandlerLog: (attributes) => output.write(handlerRecord(attributes, Date.now())),
}).catch((err: unknown) => {
  const message = `could not start: ${err instanceof Error ? err.message : String(err)}`;
  createLogOutput({ format, stream: process.stderr }).line('orchestrator', message, 'error');
  process.exit(1);
});

const agents: Array<{ stop(): Promise<void> }> = [];
if (!values['no-agents']) {
  for (const [i, name] of ['cost-agent-1', 'cost-agent-2'].entries()) {
    // The seed's ports, so the agents keep their ids across restarts; any free port if taken.
    // Their info lines (registered, task completed) would repeat the feed's: only their warnings and errors print.
    const logger = { ...output.logger(name), info: () => undefined };
    const tokens = { apiToken: apiTokens[0], fleetToken: fleetTokens[0], logger };
    let agent = createCostAgent({ name, port: 8001 + i, orchestratorUrl: runtime.url, ...tokens });
    try {
      await agent.start();
    } catch {
      agent = createCostAgent({ name, port: 0, orchestratorUrl: runtime.url, ...tokens });
      await agent.start();
    }
    agents.push(agent);
    log(`Agent     ${name} (type cost: analyze_cost, migrate_to_spot, right_size) on ${agent.url}, id ${agent.id}`);
  }
}
log(`ready. Ctrl-C stops everything.`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) {
    log('second signal: exiting now');
    process.exit(130);
  }
  stopping = true;
  log(`${signal}: stopping`);
  void (async () => {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await runtime.stop();
    log('stopped');
    process.exit(0);
  })();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
