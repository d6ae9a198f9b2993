import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** Listens on `host` (loopback unless told otherwise) and resolves with the port, 0 meaning any free one. */
export async function listen(server: Server | net.Server, port = 0, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A port that was free a moment ago on 127.0.0.1, for a process that must be told its port before it starts. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
