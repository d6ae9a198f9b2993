import type { TaskCancelResponse, TaskStatusResponse } from '@optiinfra/contract';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, problemOf } from './api';
import { durationBetween, formatClock, formatDuration, prettyJson } from './format';
import { pageProblem, REFRESH_MS, useNow } from './hooks';
import { ErrorText, Status } from './parts';
import { isTerminal } from './statuses';
import { Timeline } from './timeline-view';

/** The longest a read of the task waits for it to end (the API's limit): one request at a time, answered as soon as it ends. */
const WAIT_SECONDS = 20;

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });

/**
 * The task as it is now, then again each time a waiting read (`?wait=20`) answers, until it is
 * terminal: at most one request in flight, and no polling on the server's side.
 */
function useLiveTask(id: string, again: number): { task?: TaskStatusResponse; error?: string } {
  const [live, setLive] = useState<{ task?: TaskStatusResponse; error?: string }>({});
  useEffect(() => {
    const stop = new AbortController();
    const path = `/tasks/${encodeURIComponent(id)}`;
    void (async () => {
      let first = true;
      while (!stop.signal.aborted) {
        try {
          const task = await call<TaskStatusResponse>(path, { signal: stop.signal, waitSeconds: first ? 0 : WAIT_SECONDS });
          first = false;
          setLive({ task });
          if (isTerminal(task.status)) return;
        } catch (err) {
          if (stop.signal.aborted) return;
          setLive((before) => ({ task: before.task, error: pageProblem(err) }));
          // No such task, or an id the API refuses: asking again would answer the same.
          if (err instanceof ApiError && (err.status === 400 || err.status === 404)) return;
          await pause(REFRESH_MS, stop.signal);
        }
      }
    })();
    return () => stop.abort();
  }, [id, again]);
  return live;
}

function Progress({ task }: { task: TaskStatusResponse }) {
  if (task.progress === null)
    return (
      <p data-testid="task-progress" class="hint">
        No progress reported.
      </p>
    );
  return (
    <div data-testid="task-progress" class="progress">
      <progress max={100} value={task.progress} />
      <span>
        {task.progress}%{task.progress_message ? `: ${task.progress_message}` : ''} ({formatClock(task.last_progress_at ?? undefined)})
      </span>
    </div>
  );
}

export function TaskPage({ id }: { id: string }) {
  const [again, setAgain] = useState(0);
  const [actionProblem, setActionProblem] = useState<string>();
  const { task, error } = useLiveTask(id, again);
  const now = useNow();
  const cancel = async () => {
    try {
      await call<TaskCancelResponse>(`/tasks/${encodeURIComponent(id)}`, { method: 'DELETE' });
      setActionProblem(undefined);
    } catch (err) {
      setActionProblem(problemOf(err));
    }
    // Read at once: the waiting read also hears the end, this covers a cancel that was refused.
    setAgain(again + 1);
  };
  const ran = task && durationBetween(task.started_at ?? task.created_at, task.completed_at, now);
  return (
    <section data-testid="task-page" data-task-id={id}>
      <p>
        <a href="#/tasks">← Tasks</a>
      </p>
      <h1 class="mono">{id}</h1>
      <ErrorText text={error} testId="task-load-error" />
      {task && (
        <>
          <div class="summary">
            <Status value={task.status} testId="task-status" />
            <span>
              {task.agent_type} / {task.task_type}
            </span>
            <span>priority {task.priority}</span>
            <span>
              {task.attempts} attempt{task.attempts === 1 ? '' : 's'}
            </span>
            <span>created {formatClock(task.created_at)}</span>
            {ran !== undefined && (
              <span>
                {task.completed_at ? 'ran' : 'running for'} {formatDuration(ran)}
              </span>
            )}
            {!isTerminal(task.status) && (
              <button type="button" class="danger" data-testid="cancel-task" onClick={() => void cancel()}>
                Cancel task
              </button>
            )}
          </div>
          <ErrorText text={actionProblem} testId="action-error" />
          <Progress task={task} />
          {task.error && (
            <div class="task-error">
              <h2>Error</h2>
              <p data-testid="task-error">{task.error}</p>
            </div>
          )}
          <h2>Attempts</h2>
          <Timeline log={task.attempts_log} now={now} />
          {task.routing && (
            <p class="hint">
              Last routing: {task.routing.reason} ({task.routing.eligible} of {task.routing.candidates} agents eligible)
            </p>
          )}
          {task.result !== undefined && (
            <>
              <h2>Result</h2>
              <pre data-testid="task-result">{prettyJson(task.result)}</pre>
            </>
          )}
        </>
      )}
    </section>
  );
}
