import type http from 'node:http';

export function sendJson(res: http.ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...extraHeaders });
  res.end(text);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
