/**
 * Lets the local runtime print the handlers' Powertools log lines in its own format. Nothing in a
 * deployment sets a sink: the logger then prints exactly what Powertools prints.
 */
export type LogSink = (attributes: Record<string, unknown>) => void;
let sink: LogSink | undefined;

export function onLogLine(next: LogSink | undefined): void {
  sink = next;
}

export const logSink = (): LogSink | undefined => sink;
