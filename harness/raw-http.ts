import net from 'node:net';

/**
 * Writes `head` (and then, if asked, one byte at a time) on a raw connection and resolves with the
 * status line of the answer, or rejects when none comes within `withinMs`. For checks that a
 * server answers on the headers alone, or cuts off a slow sender, which fetch cannot express.
 */
export function statusLine(port: number, head: string, withinMs: number, trickle?: { byte: string; everyMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    let drip: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      clearInterval(drip);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer within ${withinMs} ms`))), withinMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n')) finish(() => resolve(got.split('\r\n')[0]!));
    });
    socket.on('close', () => finish(() => (got ? resolve(got.split('\r\n')[0]!) : reject(new Error('closed without an answer')))));
    socket.write(head);
    if (trickle) drip = setInterval(() => socket.write(trickle.byte), trickle.everyMs);
  });
}
