/**
 * The starter's use case (functions/app/start-task.ts) on the in-memory task store, a recording
 * workflow and a fake clock: which state machine a task gets, and that a first start touches no table.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { firstStartOf, startTask } from '../../functions/app/start-task';
import type { TaskStore } from '../../functions/core/ports';
import { TERMINAL_STATUSES } from '../../functions/core/task-model';
import { EXPRESS_LIMIT_SECONDS, EXPRESS_SAFETY_SECONDS } from '../../functions/core/workflow-choice';
import { stateOf, type World, world } from './world';

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
      expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));
    }
    expect(w.workflow.starts).toEqual([]);
  });

  it('a continuation starts its generation on Standard, named after it, carrying the generation on', async () => {
    const t = await w.task({ status: 'retrying', attempts: 2, timeout_seconds: 30 });
    expect(await startTask(w.deps, t.task_id, { generation: 3 })).toBe('started');
    expect(w.workflow.starts).toEqual([
      { kind: 'standard', name: t.task_id, input: { task_id: t.task_id, state_timeout_seconds: 50, generation: 3 } },
    ]);
    const finished = await w.task({ status: 'completed', attempts: 1 });
    expect(await startTask(w.deps, finished.task_id, { generation: 1 })).toBe('finished');
    expect(w.workflow.starts).toHaveLength(1);
  });

  it('a first start starts the execution submit chose, named by the task id, without reading or writing the task', async () => {
    // Every call of this store fails the test: a first start must not touch the table.
    const untouched = new Proxy({} as TaskStore, {
      get: (_target, method) => () => {
        throw new Error(`the starter called tasks.${String(method)}`);
      },
    });
    const deps = { ...w.deps, tasks: untouched };
    const id = 'f0000000-0000-4000-8000-000000000001';
    w.clock.advance(2_000);
    expect(await startTask(deps, id, { workflow: 'express', timeout_seconds: 30 })).toBe('started');
    expect(await startTask(deps, id, { workflow: 'standard', timeout_seconds: 60 })).toBe('started');
    w.workflow.outcome = 'already_running';
    expect(await startTask(deps, id, { workflow: 'standard', timeout_seconds: 60 })).toBe('already_running');
    expect(w.workflow.starts).toEqual([
      {
        kind: 'express',
        name: id,
        // The hand-over deadline counts from the start, not from the submit.
        input: {
          task_id: id,
          state_timeout_seconds: 50,
          express_deadline_ms: w.clock.now() + (EXPRESS_LIMIT_SECONDS - EXPRESS_SAFETY_SECONDS) * 1000,
        },
      },
      { kind: 'standard', name: id, input: { task_id: id, state_timeout_seconds: 80 } },
      { kind: 'standard', name: id, input: { task_id: id, state_timeout_seconds: 80 } },
    ]);
  });

  it('submit chooses Express for a task whose attempts and retries fit in it (auto mode), else Standard', () => {
    const auto = { workflowMode: 'auto', retryBaseDelaySeconds: 5 } as const;
    expect(firstStartOf({ timeout_seconds: 30, max_retries: 3 }, auto)).toEqual({ workflow: 'express', timeout_seconds: 30 });
    expect(firstStartOf({ timeout_seconds: 60, max_retries: 3 }, auto)).toEqual({ workflow: 'standard', timeout_seconds: 60 });
    expect(firstStartOf({ timeout_seconds: 30, max_retries: 3, retry_delay_seconds: 120 }, auto).workflow).toBe('standard');
    expect(firstStartOf({ timeout_seconds: 30, max_retries: 3 }, { ...auto, workflowMode: 'standard' }).workflow).toBe('standard');
  });

  it('a task driven again with an attempt in flight goes to Standard, and its stored state is left alone', async () => {
    w = world({ workflowMode: 'auto' });
    for (const status of ['sent', 'running'] as const) {
      const t = await w.task({ status, attempts: 1, workflow: 'express' });
      expect(await startTask(w.deps, t.task_id)).toBe('started');
      expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'standard', name: t.task_id });
      expect(w.workflow.starts.at(-1)!.input.express_deadline_ms).toBeUndefined();
      expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));
    }
  });

  it('a task with no attempt in flight (a parked task woken by a freed slot) may go to Express, as a first start, its state left alone', async () => {
    w = world({ workflowMode: 'auto' });
    for (const status of ['pending', 'queued', 'retrying'] as const) {
      const t = await w.task({ status, attempts: status === 'retrying' ? 1 : 0 });
      expect(await startTask(w.deps, t.task_id)).toBe('started');
      expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'express', name: t.task_id });
      expect(w.workflow.starts.at(-1)!.input.express_deadline_ms).toBe(w.clock.now() + 270_000);
      expect(await w.tasks.get(t.task_id)).toStrictEqual(stateOf(t));
    }
    // One whose attempts would not fit in an Express execution still goes to Standard.
    const long = await w.task({ status: 'queued', timeout_seconds: 600 });
    await startTask(w.deps, long.task_id);
    expect(w.workflow.starts.at(-1)).toMatchObject({ kind: 'standard', name: long.task_id });
  });

  it('answers already_running when the execution runs already', async () => {
    const t = await w.task({ status: 'pending' });
    w.workflow.outcome = 'already_running';
    expect(await startTask(w.deps, t.task_id)).toBe('already_running');
    expect(await w.tasks.get(t.task_id)).toMatchObject({ status: 'pending' });
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
