import { ApiError, ConfigurationError, NetworkError } from '@optiinfra/client';
import { UsageError } from './usage.js';

export const EXIT = {
  /** Done; for `run --wait`, the task completed. */
  ok: 0,
  /** The task failed, timed out or was cancelled, the wait gave up, or the API refused the call. */
  failed: 1,
  /** The command line (or what it sent, refused by the API as bad input) cannot work as typed. */
  usage: 2,
  /** No answer from the API (or from CloudFormation, for --stack). */
  unreachable: 3,
} as const;

/** What the API refuses as bad input of the caller: the user changes the command line. */
const INPUT_STATUSES = new Set([400, 413, 415, 422]);

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigurationError) return EXIT.usage;
  if (err instanceof NetworkError) return EXIT.unreachable;
  if (err instanceof ApiError && INPUT_STATUSES.has(err.status)) return EXIT.usage;
  return EXIT.failed;
}

/** One line for the terminal: the API's own message says what to send, its code lets scripts match. */
export function errorLine(err: unknown): string {
  if (err instanceof ApiError) {
    const details = err.details.length > 0 ? ` [${err.details.map((d) => `${d.field}: ${d.message}`).join('; ')}]` : '';
    return `${err.message}${details} (${err.code}, HTTP ${err.status})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
