/** Prices the measured units (bench/prices.ts) and prints them, with the targets beside. */
import { PRICES } from '../prices';
import type { Counts } from './meter';
import type { ScenarioMeasure } from './run';

export const SERVICES = ['API Gateway', 'Lambda', 'Step Functions', 'DynamoDB', 'SQS', 'ElastiCache', 'CloudWatch Logs'] as const;
export type Service = (typeof SERVICES)[number];

/** Billed units per task (or task-minute), by name, in the order printed. */
export const UNITS: Array<{ key: string; label: string; of: (c: Counts) => number }> = [
  { key: 'apiRequests', label: 'API requests (512 KB steps)', of: (c) => c['api.requests'] ?? 0 },
  { key: 'lambdaInvocations', label: 'Lambda invocations', of: (c) => c['lambda.invocations'] ?? 0 },
  { key: 'lambdaGbSeconds', label: 'Lambda GB-seconds (measured duration x memory)', of: (c) => c['lambda.gbSeconds'] ?? 0 },
  { key: 'standardTransitions', label: 'Step Functions Standard transitions', of: (c) => c['sfn.standard.transitions'] ?? 0 },
  { key: 'expressExecutions', label: 'Step Functions Express executions', of: (c) => c['sfn.express.requests'] ?? 0 },
  { key: 'expressGbSeconds', label: 'Step Functions Express GB-seconds', of: (c) => c['sfn.express.gbSeconds'] ?? 0 },
  { key: 'tableWriteUnits', label: 'DynamoDB write units, table', of: (c) => c['dynamodb.writeUnits.table'] ?? 0 },
  { key: 'indexWriteUnits', label: 'DynamoDB write units, indexes', of: (c) => c['dynamodb.writeUnits.index'] ?? 0 },
  {
    key: 'writeUnits',
    label: 'DynamoDB write units, total',
    of: (c) => (c['dynamodb.writeUnits.table'] ?? 0) + (c['dynamodb.writeUnits.index'] ?? 0),
  },
  { key: 'readUnits', label: 'DynamoDB read units', of: (c) => c['dynamodb.readUnits'] ?? 0 },
  { key: 'sqsRequests', label: 'SQS requests (64 KB steps)', of: (c) => c['sqs.requests'] ?? 0 },
  { key: 'cacheCommands', label: 'cache commands (scripts count each command they run)', of: (c) => c['cache.commands'] ?? 0 },
  { key: 'cacheEcpus', label: 'cache ECPUs (1 per command, or per KB moved if more)', of: (c) => ecpus(c) },
  { key: 'lambdaLogKb', label: 'Lambda log KB (application, EMF metrics, platform lines)', of: (c) => (c['logs.lambdaBytes'] ?? 0) / 1024 },
  {
    key: 'workflowLogKb',
    label: "Step Functions log KB (at the template's level, no execution data)",
    of: (c) => (c['logs.sfnBytes'] ?? 0) / 1024,
  },
  { key: 'logKb', label: 'log KB, total', of: (c) => ((c['logs.lambdaBytes'] ?? 0) + (c['logs.sfnBytes'] ?? 0)) / 1024 },
];

function ecpus(c: Counts): number {
  return Math.max(c['cache.commands'] ?? 0, (c['cache.bytes'] ?? 0) / 1024);
}

export const unitsOf = (c: Counts): Record<string, number> => Object.fromEntries(UNITS.map((u) => [u.key, u.of(c)]));

/** Dollars per million tasks (or task-minutes), per service. */
export function dollarsPerMillion(c: Counts): Record<Service, number> {
  const u = unitsOf(c);
  const p = PRICES;
  const usd: Record<Service, number> = {
    'API Gateway': u.apiRequests! * p.apiRequest.usd,
    Lambda: u.lambdaInvocations! * p.lambdaRequest.usd + u.lambdaGbSeconds! * p.lambdaArmGbSecond.usd,
    'Step Functions':
      u.standardTransitions! * p.sfnStandardTransition.usd +
      u.expressExecutions! * p.sfnExpressRequest.usd +
      u.expressGbSeconds! * p.sfnExpressGbSecond.usd,
    DynamoDB: u.writeUnits! * p.dynamoWriteUnit.usd + u.readUnits! * p.dynamoReadUnit.usd,
    SQS: u.sqsRequests! * p.sqsRequest.usd,
    ElastiCache: u.cacheEcpus! * p.cacheEcpu.usd,
    'CloudWatch Logs': (u.logKb! / (1024 * 1024)) * p.logsIngestedGb.usd,
  };
  return Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, v * 1e6])) as Record<Service, number>;
}

export const totalOf = (usd: Record<Service, number>) => Object.values(usd).reduce((a, b) => a + b, 0);

/** Where later work should bring the figures (issue 13); printed beside the measured ones. */
export const TARGETS: Record<string, Record<string, number>> = {
  express: { total: 8, writeUnits: 6, readUnits: 3, logKb: 2.5 },
  waiting: { total: 5 },
};

export interface ScenarioReport extends ScenarioMeasure {
  units: Record<string, number>;
  usdPerMillion: Record<Service, number>;
  total: number;
  targets?: Record<string, number>;
}

export function priced(m: ScenarioMeasure): ScenarioReport {
  const usdPerMillion = dollarsPerMillion(m.perTask);
  return { ...m, units: unitsOf(m.perTask), usdPerMillion, total: totalOf(usdPerMillion), targets: TARGETS[m.name] };
}

const fmt = (n: number) =>
  n === 0 ? '0' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 0.01 ? n.toFixed(2) : n.toExponential(1);

/** The per-task table of every scenario, as Markdown. */
export function formatReport(reports: ScenarioReport[], command: string): string {
  const head = `| | ${reports.map((r) => r.name).join(' | ')} |\n|---|${reports.map(() => '---:').join('|')}|`;
  const cell = (r: ScenarioReport, key: string, value: number) => {
    const target = r.targets?.[key];
    return target === undefined ? fmt(value) : `${fmt(value)} (target ≤ ${target})`;
  };
  const rows = [
    `**Billed units per task** (waiting: per task-minute; wait-read: per waiting request)`,
    '',
    head,
    ...UNITS.map((u) => `| ${u.label} | ${reports.map((r) => cell(r, u.key, r.units[u.key]!)).join(' | ')} |`),
    '',
    `**$ per million tasks** (waiting: per million task-minutes; wait-read: per million waiting requests)`,
    '',
    head,
    ...SERVICES.map((s) => `| ${s} | ${reports.map((r) => fmt(r.usdPerMillion[s])).join(' | ')} |`),
    `| **Total** | ${reports.map((r) => `**${cell(r, 'total', r.total)}**`).join(' | ')} |`,
    '',
    ...reports.map((r) => `- \`${r.name}\` (${r.tasks} task${r.tasks === 1 ? '' : 's'}): ${r.description}${r.note ? `. ${r.note}` : ''}.`),
    '',
    `Made by \`${command}\` on the local runtime (same handlers, template and state machines), prices from bench/prices.ts.`,
    'Not per task, so not above: cache storage (per GB-hour, with a monthly minimum), and what agents cost by registering and heartbeating (`fleet` in --json).',
  ];
  return rows.join('\n');
}
