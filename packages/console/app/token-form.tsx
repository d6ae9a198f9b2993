import { useState } from 'preact/hooks';
import { saveToken } from './api';

/** Shown when a call answered 401. The token stays in this tab's sessionStorage and goes with it. */
export function TokenForm({ problem }: { problem?: string }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="token-form"
      data-testid="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) saveToken(token);
      }}
    >
      <h2>This orchestrator needs a token</h2>
      <p>
        Enter one of its <code>API_TOKENS</code>. It is kept for this browser tab only and sent as <code>Authorization: Bearer</code>.
      </p>
      {problem && <p class="error">{problem}</p>}
      <input
        type="password"
        autocomplete="off"
        data-testid="token-input"
        aria-label="API token"
        value={token}
        onInput={(e) => setToken(e.currentTarget.value)}
      />
      <button type="submit" data-testid="token-submit">
        Use token
      </button>
    </form>
  );
}
