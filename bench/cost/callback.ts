/**
 * Tasks submitted with a `callback_url`, to a receiver in this process that answers 204 at once:
 * the Express happy path plus its callback (the intake message that carries it, the starter's read,
 * the claim and the write that records it sent, the callbacks index entry), counted until the
 * receiver has every callback, less what the same tasks cost without one.
 */
import { startCallbackReceiver } from '../../harness/callback-receiver';
import type { AcceptedDeps, AcceptedMeasure } from './accepted';
import type { Counts } from './meter';

export async function callbackScenario(
  tasks: number,
  body: Record<string, unknown>,
  happy: Counts,
  deps: Omit<AcceptedDeps, 'url'>,
): Promise<AcceptedMeasure> {
  const receiver = await startCallbackReceiver();
  deps.stops.push(() => receiver.stop());
  deps.log(`callback: ${tasks} task(s) with a callback_url`);
  const m = await deps.measure(async () => {
    await deps.settle(await deps.submitAll(tasks, { ...body, callback_url: receiver.url('/cost') }), 120_000);
    await receiver.waitFor(tasks, 120_000, '/cost');
    return tasks;
  });
  return {
    name: 'callback',
    description: 'happy path on Express with a callback_url: what the callback adds',
    tasks,
    perTask: Object.fromEntries(Object.entries(m.perTask).map(([unit, v]) => [unit, Math.max(0, v - (happy[unit] ?? 0))])),
    fleet: m.fleet,
  };
}
