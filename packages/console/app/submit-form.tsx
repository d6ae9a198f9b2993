import type { TaskSubmitResponse } from '@optiinfra/contract';
import { useState } from 'preact/hooks';
import { call, problemOf } from './api';
import { ErrorText, Field } from './parts';
import { hrefOf } from './route';
import { type Draft, EMPTY_DRAFT, submitBody } from './submit-body';

/**
 * POST /tasks. One Idempotency-Key per draft: sending the same draft again (after a network failure)
 * cannot submit it twice, and any change to the draft makes it a new submission.
 */
export function SubmitForm() {
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [problem, setProblem] = useState<string>();
  const [sending, setSending] = useState(false);
  const edit = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setKey(crypto.randomUUID());
  };
  const submit = async () => {
    const built = submitBody(draft);
    if ('problem' in built) return setProblem(built.problem);
    setSending(true);
    try {
      const answer = await call<TaskSubmitResponse>('/tasks', { method: 'POST', body: built.body, headers: { 'idempotency-key': key } });
      setProblem(undefined);
      location.hash = hrefOf({ page: 'task', id: answer.task_id });
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setSending(false);
    }
  };
  const text = (testId: string, field: keyof Draft, placeholder: string) => (
    <input
      data-testid={testId}
      type="text"
      placeholder={placeholder}
      value={draft[field]}
      onInput={(e) => edit({ [field]: e.currentTarget.value })}
    />
  );
  const number = (testId: string, field: keyof Draft, placeholder: string) => (
    <input
      data-testid={testId}
      type="number"
      placeholder={placeholder}
      value={draft[field]}
      onInput={(e) => edit({ [field]: e.currentTarget.value })}
    />
  );
  return (
    <form
      class="submit-form"
      data-testid="submit-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Submit a task</h2>
      <Field label="Agent type">{text('submit-agent-type', 'agentType', 'cost')}</Field>
      <Field label="Action (task type)">{text('submit-action', 'action', 'analyze_cost')}</Field>
      <Field label="Parameters (JSON object)">
        <textarea
          data-testid="submit-parameters"
          rows={4}
          value={draft.parameters}
          onInput={(e) => edit({ parameters: e.currentTarget.value })}
        />
      </Field>
      <div class="row">
        <Field label="Priority 1-15">{number('submit-priority', 'priority', '5')}</Field>
        <Field label="Max retries">{number('submit-max-retries', 'maxRetries', '3')}</Field>
        <Field label="Timeout (s)">{number('submit-timeout', 'timeout', '30')}</Field>
      </div>
      <ErrorText text={problem} testId="submit-error" />
      <button type="submit" data-testid="submit-button" disabled={sending}>
        {sending ? 'Submitting…' : 'Submit'}
      </button>
    </form>
  );
}
