/**
 * What the cache did, read from redis-server itself (INFO commandstats and stats): every command,
 * including those the slot scripts run, and the bytes in and out. The meter's own INFO calls are
 * taken out.
 */
import { Redis } from 'ioredis';

export interface CacheStats {
  commands: number;
  bytes: number;
}

export class CacheStatsReader {
  private readonly redis: Redis;
  /** Bytes of this reader's own INFO requests and replies so far. */
  private own = 0;

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  async read(): Promise<CacheStats> {
    const commandstats = await this.redis.info('commandstats');
    const stats = await this.redis.info('stats');
    // Each INFO request is about 30 bytes on the wire; its reply is the text plus the RESP framing.
    this.own += Buffer.byteLength(commandstats) + Buffer.byteLength(stats) + 2 * 50;
    let commands = 0;
    for (const match of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
      if (match[1] !== 'info' && match[1] !== 'auth' && match[1] !== 'client|setinfo') commands += Number(match[2]);
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return { commands, bytes: field('total_net_input_bytes') + field('total_net_output_bytes') - this.own };
  }

  close(): void {
    this.redis.disconnect();
  }
}
