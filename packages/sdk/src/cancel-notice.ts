import * as z from 'zod';
import type { VerifyOutcome } from './delivery-verifier.js';

/** Largest cancel notice read: `{"task_id", "attempt", "reason"}` is far below it. */
export const CANCEL_NOTICE_MAX_BYTES = 4_096;
export const CANCEL_PATH = /^\/task\/([^/]+)\/cancel$/;

const cancelNoticeSchema = z.object({
  task_id: z.string().min(1),
  attempt: z.number().int().positive(),
  reason: z.string().max(500).optional(),
});

export type CancelNotice = z.infer<typeof cancelNoticeSchema> & { key: string };
export type CancelParse = { ok: true; notice: CancelNotice } | { ok: false; status: 400 | 401; body: Record<string, unknown> };

/** The key a running attempt is found by. */
export const attemptKey = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;

const bad = (error: string, code = 'invalid_request'): CancelParse => ({ ok: false, status: 400, body: { error, code } });

/**
 * Reads a `POST /task/{id}/cancel` whose signature already checked out (or was not required). When
 * signatures are checked, only a signed notice counts, and its signed `webhook-id` must be
 * `<task_id>:<attempt>:cancel`: a delivery's own signature cannot be replayed as a cancel.
 */
export function parseCancelNotice(raw: string, pathTaskId: string, check: VerifyOutcome & { ok: true }, checking: boolean): CancelParse {
  if (checking && !check.verified)
    return {
      ok: false,
      status: 401,
      body: { error: 'cancel notices must be signed by the orchestrator (webhook-signature)', code: 'invalid_signature' },
    };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return bad('cancel notice body is not valid JSON', 'invalid_json');
  }
  const parsed = cancelNoticeSchema.safeParse(json);
  if (!parsed.success)
    return bad(`invalid cancel notice: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  const notice = parsed.data;
  if (notice.task_id !== pathTaskId) return bad(`the body's task_id ${notice.task_id} is not the task ${pathTaskId} of the path`);
  const key = attemptKey(notice.task_id, notice.attempt);
  if (check.verified && check.id !== `${key}:cancel`)
    return bad(`webhook-id ${check.id} does not name this cancel notice; expected ${key}:cancel`);
  return { ok: true, notice: { ...notice, key } };
}
