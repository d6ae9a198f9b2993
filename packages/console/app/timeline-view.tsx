import type { AttemptLogEntry } from '@optiinfra/contract';
import { shortId } from './format';
import { Status } from './parts';
import { timelineOf } from './timeline';

/** attempts_log as a list, oldest first: where each attempt went, why, when, and how it ended. */
export function Timeline({ log, now }: { log: AttemptLogEntry[] | undefined; now: number }) {
  const rows = timelineOf(log, now);
  return (
    <ol class="timeline" data-testid="timeline">
      {rows.length === 0 && <li class="hint">No attempt yet: the task waits for an agent.</li>}
      {rows.map((row) => (
        <li
          key={row.attempt}
          class={`tone-${row.tone}`}
          data-testid="timeline-attempt"
          data-attempt={row.attempt}
          data-outcome={row.outcome}
        >
          {row.waitedBefore && <p class="hint">retried after {row.waitedBefore}</p>}
          <div class="attempt-head">
            <strong>Attempt {row.attempt}</strong>
            <Status value={row.outcome === 'in_flight' ? 'in flight' : row.outcome} />
            {row.outcomeText !== row.outcome && <span>{row.outcomeText}</span>}
          </div>
          <dl>
            <dt>Agent</dt>
            <dd title={row.agentId}>
              {row.agentName} <span class="mono hint">{shortId(row.agentId)}</span>
            </dd>
            <dt>Why this agent</dt>
            <dd>{row.reason}</dd>
            <dt>Started / ended (UTC)</dt>
            <dd>
              {row.started} → {row.ended ?? '…'}
            </dd>
            {row.latency && (
              <>
                <dt>Latency</dt>
                <dd>{row.latency}</dd>
              </>
            )}
            {row.error && (
              <>
                <dt>Error</dt>
                <dd class="error-text">{row.error}</dd>
              </>
            )}
          </dl>
        </li>
      ))}
    </ol>
  );
}
