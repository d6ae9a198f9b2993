import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host` (loopback unless told otherwise) and resolves with the port, 0 meaning any free one. */
export async function listen(server: Pick<Server, 'once' | 'off' | 'listen' | 'address'>, port = 0, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
