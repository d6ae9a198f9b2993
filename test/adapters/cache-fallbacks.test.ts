/** How RedisTaskCache reports carrying on without the cache: every call counted, each cause logged once. */
import { describe, expect, it } from 'vitest';
import { CacheFallbacks, fallbackCause } from '../../functions/adapters/cache-fallbacks';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, extra);

describe('fallbackCause', () => {
  it.each([
    ['a reply error, by its code', named('ReplyError', 'WRONGTYPE Operation against a key holding the wrong kind of value'), 'WRONGTYPE'],
    ['a redirection, without its slot or address', named('ReplyError', 'MOVED 3999 10.0.1.7:6379'), 'MOVED'],
    [
      'a split multi-key command during a migration',
      named('ReplyError', 'TRYAGAIN Multiple keys request during rehashing of slot'),
      'TRYAGAIN',
    ],
    [
      'a socket error, by its code',
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.3:6379'), { code: 'ECONNREFUSED' }),
      'ECONNREFUSED',
    ],
    [
      'an ioredis error class',
      named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 1).'),
      'MaxRetriesPerRequestError',
    ],
    ['a plain error, numbers masked', new Error('no answer within 1500 ms'), 'no answer within # ms'],
    ['a thrown string', 'boom', 'non-error thrown'],
  ])('%s', (_what, err, cause) => {
    expect(fallbackCause(err)).toBe(cause);
  });
});

describe('CacheFallbacks', () => {
  const recorder = () => {
    const seen = { causes: [] as unknown[], fallbacks: 0 };
    const fallbacks = new CacheFallbacks({ warn: (_m, extra) => seen.causes.push(extra?.cause), fallback: () => seen.fallbacks++ });
    return { seen, fallbacks };
  };

  it('counts every fallback and logs a cause the first time only', () => {
    const { seen, fallbacks } = recorder();
    for (let i = 0; i < 100; i++) fallbacks.report('read load', named('ReplyError', `MOVED ${i} 10.0.0.${i % 3}:6379`));
    fallbacks.report('get result', new Error('Connection is closed.'));
    fallbacks.report('read load', named('ReplyError', 'MOVED 1 10.0.0.1:6379'));
    expect(seen).toEqual({ causes: ['MOVED', 'Connection is closed.'], fallbacks: 102 });
  });

  it('stops logging new causes past 32 in one process, and still counts them', () => {
    const { seen, fallbacks } = recorder();
    for (let i = 0; i < 40; i++) fallbacks.report('op', named(`Cause${String.fromCharCode(65 + i)}Error`, 'x'));
    expect(seen.causes).toHaveLength(32);
    expect(seen.fallbacks).toBe(40);
  });
});
