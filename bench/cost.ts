/**
 * `npm run cost`: what a task costs on AWS, measured. Runs tasks through the local runtime in this
 * process and counts every billed unit (see bench/cost/meter.ts), then prices them with
 * bench/prices.ts, for seven scenarios of tasks and the waiting reads.
 *
 *   npm run cost                          # 200 tasks per scenario, 5 tasks that wait 60 s, agents that accept and report after 60 s,
 *                                         # 20 waiting reads (GET /tasks/{id}?wait=N) held 1, 10 and 20 s
 *   npm run cost -- --tasks 20 --wait-seconds 10 --json
 */
import { parseArgs } from 'node:util';
import { MAX_WAIT_SECONDS } from '@optiinfra/contract';
import { formatReport, priced } from './cost/report';
import { measureCost } from './cost/run';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '200' },
    'wait-seconds': { type: 'string', default: '60' },
    'waiting-tasks': { type: 'string', default: '5' },
    'accepted-seconds': { type: 'string', default: '60' },
    'read-waits': { type: 'string', default: '1,10,20' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    `usage: npm run cost -- [--tasks 200] [--wait-seconds 60] [--waiting-tasks 5] [--accepted-seconds 60] [--read-waits 1,10,20] [--json]`,
  );
  process.exit(0);
}

const positive = (name: string, text: string, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be a whole number from 1 to ${max}, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const tasks = positive('tasks', values.tasks, 5000);
const waitSeconds = positive('wait-seconds', values['wait-seconds'], 240);
const waitingTasks = positive('waiting-tasks', values['waiting-tasks'], 50);
const acceptedSeconds = positive('accepted-seconds', values['accepted-seconds'], 600);
const readWaits = values['read-waits'].split(',').map((n) => positive('read-waits', n.trim(), MAX_WAIT_SECONDS));

const started = Date.now();
const measured = await measureCost({
  tasks,
  waitSeconds,
  waitingTasks,
  acceptedSeconds,
  readWaits,
  log: (line) => console.error(`[cost] ${((Date.now() - started) / 1000).toFixed(1)} s ${line}`),
});
const reports = measured.map(priced);
if (values.json) console.log(JSON.stringify({ tasks, waitSeconds, waitingTasks, scenarios: reports }, null, 2));
else
  console.log(
    formatReport(
      reports,
      `npm run cost -- --tasks ${tasks} --wait-seconds ${waitSeconds} --waiting-tasks ${waitingTasks} --accepted-seconds ${acceptedSeconds} --read-waits ${readWaits.join(',')}`,
    ),
  );
process.exit(0);
