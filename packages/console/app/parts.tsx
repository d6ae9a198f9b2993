import type { ComponentChildren } from 'preact';
import { toneOf } from './statuses';

/** A status or outcome as the API names it, coloured by how it went. */
export function Status({ value, testId }: { value: string; testId?: string }) {
  return (
    <span class={`status tone-${toneOf(value)}`} data-testid={testId}>
      {value}
    </span>
  );
}

export function ErrorText({ text, testId }: { text: string | undefined; testId?: string }) {
  if (!text) return null;
  return (
    <p class="error" role="alert" data-testid={testId}>
      {text}
    </p>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}
