/**
 * The submitter's callback: where a finished task is POSTed, how its answer is read, and when a
 * failed attempt is tried again. Pure: the sending is functions/app/task-callbacks.ts's.
 */
import { randomBytes } from 'node:crypto';

/** Where a callback stands: `pending` from the terminal write until the receiver answers 2xx (`sent`) or attempts run out (`failed`). */
export type CallbackStatus = 'pending' | 'sent' | 'failed';

export interface CallbackPolicy {
  /** Attempts in all, the first included (CALLBACK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The wait after the first failed attempt; each later one doubles it, capped at MAX_CALLBACK_DELAY_SECONDS (CALLBACK_RETRY_BASE_SECONDS). */
  retryBaseSeconds: number;
}

export const DEFAULT_CALLBACK_POLICY: CallbackPolicy = { maxAttempts: 8, retryBaseSeconds: 5 };

/** SQS's longest message delay: the wait between two attempts never exceeds it, so one delayed message carries it. */
export const MAX_CALLBACK_DELAY_SECONDS = 900;

/** How long the receiver has to answer one attempt. */
export const CALLBACK_TIMEOUT_MS = 10_000;

/**
 * How long a claimed attempt keeps others off: its send, and a margin for the write that records the
 * outcome. A sender that died holding it is taken over once it ends.
 */
export const CALLBACK_LEASE_MS = CALLBACK_TIMEOUT_MS + 5_000;

/** Host (brackets removed), port and path of a URL that `callbackUrlProblem` accepted. */
export function callbackTargetOf(text: string): { scheme: 'http' | 'https'; host: string; port: number; path: string } {
  const url = new URL(text);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { scheme, host, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80, path: `${url.pathname}${url.search}` };
}

/**
 * The Standard Webhooks secret that signs one task's callback, returned once in the submit answer:
 * a secret per task, so a receiver trusts only the callbacks of tasks it submitted.
 */
export function newCallbackSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `webhook-id` of a task's callback: the same on every attempt, so a receiver can drop a repeat. */
export function callbackWebhookId(taskId: string): string {
  return `${taskId}:callback`;
}

/** How one attempt ended. */
export type CallbackAnswer = { kind: 'delivered' } | { kind: 'failed'; error: string; retryable: boolean };

/**
 * The receiver's HTTP status: 2xx delivered; 408, 429 and 5xx are passing trouble, tried again; any
 * other status (a 4xx refusal, a redirect, which is never followed) would be answered the same next time.
 */
export function readCallbackStatus(status: number): CallbackAnswer {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const retryable = status >= 500 || status === 408 || status === 429;
  return { kind: 'failed', error: `the callback URL answered HTTP ${status}${retryable ? '' : ' (not retried)'}`, retryable };
}

export type AfterCallbackFailure = { retry: true; delaySeconds: number } | { retry: false };

/**
 * After failed attempt `attempt`: another one while attempts remain and the failure is retryable,
 * after an exponential backoff with equal jitter (half fixed, half random), so a receiver that was
 * down is not hit by every waiting callback at the same second when it comes back.
 */
export function afterCallbackFailure(
  attempt: number,
  answer: Extract<CallbackAnswer, { kind: 'failed' }>,
  policy: CallbackPolicy,
  random: () => number = Math.random,
): AfterCallbackFailure {
  if (!answer.retryable || attempt >= policy.maxAttempts) return { retry: false };
  const ceiling = Math.min(MAX_CALLBACK_DELAY_SECONDS, policy.retryBaseSeconds * 2 ** Math.max(0, attempt - 1));
  return { retry: true, delaySeconds: Math.ceil(ceiling / 2 + random() * (ceiling / 2)) };
}
