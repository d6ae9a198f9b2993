import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type TaskStatusResponse } from '@optiinfra/contract';
import { CLIENT_DEFAULTS, type WaitOptions } from './client-options.js';
import { TimeoutError } from './errors.js';
import type { HttpTransport } from './http-transport.js';

/** A server that held the request less than this (an older one ignores `?wait`) is polled no faster than once per this. */
const MIN_POLL_INTERVAL_MS = 1_000;

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

/**
 * Long-polls `GET /tasks/{id}?wait=N` until the task is terminal: each request returns as soon as
 * the task ends, or after N seconds with its current state, so a waiter costs one request per N
 * seconds however long the task runs, and learns of the end at once.
 */
export async function waitForTask(
  transport: HttpTransport,
  requestTimeoutMs: number,
  taskId: string,
  options: WaitOptions = {},
): Promise<TaskStatusResponse> {
  const poll = Math.min(CLIENT_DEFAULTS.maxPollSeconds, Math.max(1, Math.floor(options.pollSeconds ?? CLIENT_DEFAULTS.pollSeconds)));
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  let last: TaskStatusResponse | undefined;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      const seen = last ? `; it was ${last.status} after ${last.attempts} attempt(s)` : '';
      throw new TimeoutError(`task ${taskId} did not end within ${options.timeoutMs} ms${seen}`, last);
    }
    const waitSeconds = Math.min(poll, Math.max(1, Math.ceil(left / 1000)));
    const started = Date.now();
    const task = (await transport.send({
      method: 'GET',
      path: `/tasks/${encodeURIComponent(taskId)}`,
      query: { wait: waitSeconds },
      idempotent: true,
      timeoutMs: waitSeconds * 1000 + requestTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    })) as TaskStatusResponse;
    if (isTerminal(task.status)) return task;
    last = task;
    options.onUpdate?.(task);
    const early = MIN_POLL_INTERVAL_MS - (Date.now() - started);
    if (early > 0) await pause(Math.min(early, Math.max(0, deadline - Date.now())), options.signal);
  }
}
