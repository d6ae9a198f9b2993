/** The cache: ElastiCache (CACHE_URL redis:// or rediss://), the local in-process stand-in (memory://), or none. */
import { MemoryTaskCache } from '../adapters/memory-task-cache';
import { NoTaskCache } from '../adapters/no-task-cache';
import { RedisTaskCache } from '../adapters/redis-task-cache';
import type { TaskCache } from '../core/cache-port';
import { config, once } from './composition-root';
import { cacheObserver, logger } from './observability';

/** The local stand-in cache is shared by every handler in the process, like one ElastiCache endpoint. */
let memoryCache: MemoryTaskCache | undefined;
const noCache = new NoTaskCache();

export const cache = once((): TaskCache => {
  const url = config.CACHE_URL;
  if (!url) {
    logger.warn('CACHE_URL is not set: running without the cache (routing uses heartbeats stored in DynamoDB)');
    return noCache;
  }
  if (url.startsWith('memory://')) return (memoryCache ??= new MemoryTaskCache());
  return RedisTaskCache.fromUrl(url, cacheObserver, { cluster: config.CACHE_CLUSTER });
});
