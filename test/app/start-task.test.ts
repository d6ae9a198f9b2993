/**
 * The starter's use case (functions/app/start-task.ts) on the in-memory task store, a recording
 * workflow and a fake clock: which state machine a task gets, and its move to `queued`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { startTask } from '../../functions/app/start-task';
import { TERMINAL_STATUSES } from '../../functions/core/task-model';
import { EXPRESS_LIMIT_SECONDS, EXPRESS_SAFETY_SECONDS, STEP_OVERHEAD_SECONDS } from '../../functions/core/workflow-choice';
import { type World, world } from './world';

let w: World;
beforeEach(() => {
  w = world();
});

describe('startTask', () => {
  it('answers unknown_task for a task that does not exist, and starts nothing', async () => {
    expect(await startTask(w.deps, 'f0000000-0000-4000-8000-000000000000')).toBe('unknown_task');
    expect(w.workflow.starts).toEqual([]);
  });

  it('answers finished for a finished task, and starts nothing', async () => {
    for (const status of TERMINAL_STATUSES) {
      const t = await w.task({ status, attempts: 1 });
      expect(await startTask(w.deps, t.task_id)).toBe('finished');
      expect(await w.tasks.get(t.task_id)).toStrictEqual(t);
    }
    expect(w.workflow.starts).toEqual([]);
  });

  it('starts a pending task on Standard when there is no Express machine, named by its id, and marks it queued', async () => {
    expect(w.settings.workflowMode).toBe('standard');
    const t = await w.task({ status: 'pending', queued_at: undefined, timeout_seconds: 30 });
    w.clock.advance(2_000);
    expect(await startTask(w.deps, t.task_id)).toBe('started');
    expect(w.workflow.starts).toEqual([
      { kind: 'standard', name: t.task_id, input: { task_id: t.task_id, state_timeout_seconds: 30 + STEP_OVERHEAD_SECONDS } },
    ]);
    expect(await w.tasks.get(t.task_id)).toMatchObject({
      status: 'queued',
      queued_at: w.clock.iso(),
      updated_at: w.clock.iso(),
      workflow: 'standard',
      attempts: 0,
    });
  });

  it('in auto mode, a task whose attempts and retries fit in Express goes there, with its hand-over deadline; a longer one to Standard', async () => {
    w = world({ workflowMode: 'auto' });
    const short = await w.task({ status: 'pending', timeout_seconds: 30, max_retries: 3 });
    const long = await w.task({ status: 'pending', timeout_seconds: 60, max_retries: 3 });
    expect(await startTask(w.deps, short.task_id)).toBe('started');
    expect(await startTask(w.deps, long.task_id)).toBe('started');
    expect(w.workflow.starts).toEqual([
      {
        kind: 'express',
        name: short.task_id,
        input: {
          task_id: short.task_id,
          state_timeout_seconds: 50,
          express_deadline_ms: w.clock.now() + (EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS) * 1000,
        },
      },
      { kind: 'standard', name: long.task_id, input: { task_id: long.task_id, state_timeout_seconds: 80 } },
    ]);
    expect(await w.tasks.get(short.task_id)).toMatchObject({ status: 'queued', workflow: 'express' });
    expect(await w.tasks.get(long.task_id)).toMatchObject({ status: 'queued', workflow: 'standard' });
  });

  it('a task driven again with an attempt in flight goes to Standard, and its stored state is left alone', async () => {
    w = world({ workflowMode: 'auto' });
    for (const status of ['sent', 'running'] as const) {
      const t = await w.task({ status, attempts: 1, workflow: 'express' });
      expect(await startTask(w.deps, t.task_id)).toBe('started');
      expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'standard', name: t.task_id });
      expect(w.workflow.starts.at(-1)!.input.express_deadline_ms).toBeUndefined();
      expect(await w.tasks.get(t.task_id)).toStrictEqual(t);
    }
  });

  it('a task with no attempt in flight (a parked task woken by a freed slot) may go to Express, as a first start, its state left alone', async () => {
    w = world({ workflowMode: 'auto' });
    for (const status of ['queued', 'retrying'] as const) {
      const t = await w.task({ status, attempts: status === 'queued' ? 0 : 1, workflow: 'express' });
      expect(await startTask(w.deps, t.task_id)).toBe('started');
      expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'express', name: t.task_id });
      expect(w.workflow.starts.at(-1)!.input.express_deadline_ms).toBe(w.clock.now() + 270_000);
      expect(await w.tasks.get(t.task_id)).toStrictEqual(t);
    }
    // One whose attempts would not fit in an Express execution still goes to Standard.
    const long = await w.task({ status: 'queued', timeout_seconds: 600 });
    await startTask(w.deps, long.task_id);
    expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'standard', name: long.task_id });
  });

  it('answers already_running when the execution runs already, and still marks a pending task queued', async () => {
    const t = await w.task({ status: 'pending' });
    w.workflow.outcome = 'already_running';
    expect(await startTask(w.deps, t.task_id)).toBe('already_running');
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'queued' });
  });

  it('answers started when the first execution had closed and another was started under a new name', async () => {
    const t = await w.task({ status: 'retrying', attempts: 1 });
    w.workflow.outcome = 'already_closed';
    expect(await startTask(w.deps, t.task_id)).toBe('started');
  });

  it('leaves a task cancelled while its execution was starting cancelled', async () => {
    const t = await w.task({ status: 'pending' });
    const start = w.workflow.start.bind(w.workflow);
    w.workflow.start = async (...args) => {
      await w.tasks.transition(t.task_id, 'cancelled', {});
      return start(...args);
    };
    expect(await startTask(w.deps, t.task_id)).toBe('started');
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'cancelled' });
  });
});
