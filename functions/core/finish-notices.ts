/**
 * The notices that wake a waiting `GET /tasks/{id}?wait=N`: every terminal transition announces the
 * task's end on a channel of its own (one per task, so no channel is hot), and a waiting request
 * listens on it. The cache carries them (Redis sharded pub/sub, or in-process); a notice is never
 * stored, so a listener starts listening before it reads the task, and reads it again once woken.
 */
import type { TaskStatus } from './task-model';

/** One request's wait for one task's end. */
export interface FinishListener {
  /** Resolves when the task's end is announced; never rejects (a lost notice just leaves it pending). */
  readonly heard: Promise<void>;
  /** Stops listening; the channel is given up when its last listener closes. Never throws. */
  close(): Promise<void>;
}

export interface FinishNotices {
  /** Tells whoever listens that the task ended, as `status`. Best effort: never throws, does nothing without a cache. */
  announceFinished(taskId: string, status: TaskStatus): Promise<void>;
  /**
   * Listens for the task's end, from the moment this resolves. Undefined when notices cannot be
   * heard (no cache, or it is down): the caller then re-reads the task at FALLBACK_REREAD_MS.
   */
  listenForFinish(taskId: string): Promise<FinishListener | undefined>;
}

/** Without notices, a waiting request reads the task again this often (eventually consistent reads, at most N / 1 s per request). */
export const FALLBACK_REREAD_MS = 1_000;
