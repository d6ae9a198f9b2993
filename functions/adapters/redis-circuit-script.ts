/**
 * The circuit breaker's multi-key steps as scripts, not MULTI transactions: on a cluster whose slot
 * is being migrated, a command over several keys answers TRYAGAIN, and ioredis retries a lone
 * EVAL but not a transaction. Every key is the agent type's (one hash tag, one slot).
 */

/**
 * Counts one outcome in the agent's window: KEYS = dispatches, failures, the type's circuits hash;
 * ARGV = now, dispatch id, failed (1 or 0), window (ms), agent id. Answers {dispatches, failures,
 * open circuit JSON or false}.
 */
export const RECORD_OUTCOME = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, ARGV[2])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[2], now, ARGV[2]) end
for k = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - window)
  redis.call('PEXPIRE', KEYS[k], window)
end
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('HGET', KEYS[3], ARGV[5])}`;

/**
 * Opens the agent's circuit (ARGV[2] = OpenCircuit JSON) or, with ARGV[2] empty, closes it and
 * clears its window: KEYS = the type's circuits hash, dispatches, failures; ARGV = agent id, JSON.
 */
export const SET_CIRCUIT = `
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 86400000)
  return 1
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 0`;
