/**
 * The atomic slot script of RedisTaskCache.acquireSlot, kept apart from the adapter as BullMQ keeps its
 * Lua scripts: one step joins the waiting queue, drops expired slots, counts loads and takes a slot.
 */
/**
 * The slot script: KEYS = waiting zset, waiting-seen hash, then one pending zset per eligible agent;
 * ARGV = task id, score, now, staleMs, lease end, then capacity and tier per agent.
 * Answers {code, chosen index, free slots, position, load per agent}; code 2 acquired, 1 behind, 0 busy.
 * The choice is `pickLeastLoaded` (functions/core/routing.ts): lower tier, then lower load/capacity
 * (compared by cross-multiplying), then more spare slots, then list order.
 */
export const ACQUIRE_SLOT = `
local now = tonumber(ARGV[3])
local stale = now - tonumber(ARGV[4])
local seen = redis.call('HGETALL', KEYS[2])
for i = 1, #seen, 2 do
  if tonumber(seen[i + 1]) < stale then
    redis.call('ZREM', KEYS[1], seen[i])
    redis.call('HDEL', KEYS[2], seen[i])
  end
end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], 3600000)
redis.call('PEXPIRE', KEYS[2], 3600000)
local n = #KEYS - 2
local loads = {}
local free = 0
local best = 0
for i = 1, n do
  local key = KEYS[i + 2]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local load = redis.call('ZCARD', key)
  loads[i] = load
  local cap = tonumber(ARGV[4 + 2 * i])
  local tier = tonumber(ARGV[5 + 2 * i])
  if load < cap then
    free = free + cap - load
    if best == 0 then
      best = i
    else
      local bcap = tonumber(ARGV[4 + 2 * best])
      local btier = tonumber(ARGV[5 + 2 * best])
      local bload = loads[best]
      local left = load * bcap
      local right = bload * cap
      if tier < btier or (tier == btier and (left < right or (left == right and cap - load > bcap - bload))) then
        best = i
      end
    end
  end
end
local position = redis.call('ZRANK', KEYS[1], ARGV[1])
local code = 0
if best > 0 then
  if position < free then
    code = 2
    redis.call('ZADD', KEYS[best + 2], ARGV[5], ARGV[1])
    redis.call('PEXPIRE', KEYS[best + 2], 3600000)
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
  else
    code = 1
  end
end
local out = {code, best, free, position}
for i = 1, n do out[4 + i] = loads[i] end
return out`;
