/**
 * The atomic scripts of RedisTaskCache's slots and waiting queues, kept apart from the adapter as
 * BullMQ keeps its Lua scripts. Every step on a queue is O(log n) in the waiters (ZADD, ZREM, ZRANK,
 * ZRANGE 0 0, ZSCORE) plus the slots it hands out: nothing reads a whole queue. Every key a script
 * touches is in its KEYS (a cluster routes by them, and a key a script names itself is unsupported
 * there), and all carry the agent type's hash tag: one cluster slot per script.
 */

/** Lua: `better(i, b)` is `pickLeastLoaded`'s rule (functions/core/routing.ts) over `loads`, capacity and tier in ARGV from `base`. */
const BETTER = `
local function cap(i) return tonumber(ARGV[base + 1 + 3 * i]) end
local function tier(i) return tonumber(ARGV[base + 2 + 3 * i]) end
local function better(i, b)
  if b == 0 then return true end
  if tier(i) ~= tier(b) then return tier(i) < tier(b) end
  local left = loads[i] * cap(b)
  local right = loads[b] * cap(i)
  if left ~= right then return left < right end
  return cap(i) - loads[i] > cap(b) - loads[b]
end
local function pick()
  local best = 0
  for i = 1, n do
    if loads[i] < cap(i) and better(i, best) then best = i end
  end
  return best
end`;

/** Waiting keys live as long as tasks may wait (a day) and then some. */
export const WAITING_KEY_TTL_MS = 2 * 86_400_000;

/**
 * The slot script: KEYS = pool queue (zset, score), parked (zset, queue deadline), woken (zset,
 * reservation end), handed slots (hash, task → "agent\\nslot"), then one pending zset per eligible agent;
 * ARGV = task id, score, now, lease end, queue deadline, slot name, '1' when the task comes back
 * after giving back a handed slot (else '0'), reservation end, then id, capacity and tier per agent
 * (base 6). Answers {code, chosen index, free slots, position, deadline, slot, newly parked, tasks
 * of the type parked now (ZCARD, O(1); -1 when the task never parked), load per agent..., then
 * woken task and score pairs}; code 2 acquired, 1 behind, 0 busy (parked either way).
 * Code 3 {3, agent, handed}: a slot was handed to the task on an agent that is not eligible now;
 * nothing changed. The caller gives it back (GIVE_BACK, with that agent's key) and asks again.
 */
export const ACQUIRE_SLOT = `
local task = ARGV[1]
local now = tonumber(ARGV[3])
local base = 6
local n = #KEYS - 4
local loads = {}
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 4], '-inf', now)
  loads[i] = redis.call('ZCARD', KEYS[i + 4])
end
${BETTER}
local came = ARGV[7] == '1'
local function answer(code, best, free, position, deadline, slot, fresh, woken)
  local waiting = -1
  if code ~= 2 or came then waiting = redis.call('ZCARD', KEYS[2]) end
  local out = {code, best, free, position, deadline, slot, fresh, waiting}
  for i = 1, n do out[#out + 1] = loads[i] end
  for i = 1, #woken do out[#out + 1] = woken[i] end
  return out
end
local function took(best, slot)
  if came then
    redis.call('ZREM', KEYS[1], task)
    redis.call('ZREM', KEYS[2], task)
    redis.call('ZREM', KEYS[3], task)
  end
  return answer(2, best, 0, 0, 0, slot, 0, {})
end
local handed = redis.call('HGET', KEYS[4], task)
if handed then
  came = true
  local sep = string.find(handed, '\\n', 1, true)
  local agent = string.sub(handed, 1, sep - 1)
  local slot = string.sub(handed, sep + 1)
  for i = 1, n do
    if ARGV[base + 3 * i] == agent then
      redis.call('HDEL', KEYS[4], task)
      if redis.call('ZSCORE', KEYS[i + 4], slot) then
        redis.call('ZADD', KEYS[i + 4], ARGV[4], slot)
        return took(i, slot)
      end
    end
  end
  -- The agent can no longer take it (drained, gone, circuit open): it must be given back first.
  if redis.call('HEXISTS', KEYS[4], task) == 1 then return {3, agent, handed} end
end
local free = 0
for i = 1, n do
  if loads[i] < cap(i) then free = free + cap(i) - loads[i] end
end
local best = pick()
-- A task not in the queue yet (the common case) is placed by counting the scores ahead of it.
local position = redis.call('ZRANK', KEYS[1], task)
if position then
  came = true
else
  position = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[2])
end
if best > 0 and position < free then
  redis.call('ZADD', KEYS[best + 4], ARGV[4], ARGV[6])
  return took(best, ARGV[6])
end
-- It parks. The task came: whatever woke it was not lost.
if came then redis.call('ZREM', KEYS[3], task) end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], task)
local fresh = redis.call('ZADD', KEYS[2], 'NX', ARGV[5], task)
position = redis.call('ZRANK', KEYS[1], task)
-- Parked. Free slots belong to the waiters ahead: hand them over, so they start now.
local woken = {}
local code = 0
if best > 0 then code = 1 end
local left = free
while left > 0 do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if not head[1] or head[1] == task then break end
  local b = pick()
  if b == 0 then break end
  local slot = head[1] .. ':w:' .. ARGV[6]
  redis.call('ZREM', KEYS[1], head[1])
  redis.call('ZADD', KEYS[b + 4], ARGV[8], slot)
  loads[b] = loads[b] + 1
  redis.call('HSET', KEYS[4], head[1], ARGV[base + 3 * b] .. '\\n' .. slot)
  redis.call('ZADD', KEYS[3], ARGV[8], head[1])
  woken[#woken + 1] = head[1]
  woken[#woken + 1] = tonumber(head[2])
  left = left - 1
end
for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ${WAITING_KEY_TTL_MS}) end
return answer(code, best, free, position, tonumber(redis.call('ZSCORE', KEYS[2], task)), '', fresh, woken)`;

/**
 * Frees a slot (ARGV[1], or none when empty) and hands the agent's free slots to the first waiters
 * of its pools, the lowest score across them first. KEYS = the agent's pending zset, woken zset,
 * handed-slots hash, the type's circuits hash, parked zset, then one queue per pool; ARGV = slot,
 * now, reservation end, capacity, agent id, a token for the reservations' names. Nothing is handed
 * while the agent's circuit is open; one slot while it is half-open. Also answers (score -1) up to
 * 10 waiters of the type past their queue deadline, each once per reservation period (marked woken
 * without a slot): started again, their dispatch step fails them. Answers task and score pairs.
 */
export const WAKE_WAITERS = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
-- Nobody of this type waits (the common case): nothing more to do.
if redis.call('ZCARD', KEYS[5]) == 0 then return {} end
local now = tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 10)) do
  local woken = redis.call('ZSCORE', KEYS[2], id)
  if not woken or tonumber(woken) <= now then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = -1
  end
end
local capacity = tonumber(ARGV[4])
local open = redis.call('HGET', KEYS[4], ARGV[5])
if open then
  local ok, circuit = pcall(cjson.decode, open)
  if ok and type(circuit) == 'table' and circuit.openUntilMs then
    if tonumber(circuit.openUntilMs) > now then return out end
    capacity = 1
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local free = capacity - redis.call('ZCARD', KEYS[1])
local handed = 0
while free > 0 do
  local key, id, score = nil, nil, nil
  for i = 6, #KEYS do
    local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if head[1] and (score == nil or tonumber(head[2]) < score) then
      key, id, score = KEYS[i], head[1], tonumber(head[2])
    end
  end
  if key == nil then break end
  handed = handed + 1
  local slot = id .. ':w:' .. ARGV[6] .. ':' .. handed
  redis.call('ZREM', key, id)
  redis.call('ZADD', KEYS[1], ARGV[3], slot)
  redis.call('HSET', KEYS[3], id, ARGV[5] .. '\\n' .. slot)
  redis.call('ZADD', KEYS[2], ARGV[3], id)
  out[#out + 1] = id
  out[#out + 1] = score
  free = free - 1
end
if handed > 0 then redis.call('PEXPIRE', KEYS[1], 3600000) end
return out`;

/**
 * The task stops waiting: KEYS = pool queue, parked, woken, handed slots; ARGV = task id. Answers the
 * slot handed to it ("agent\\nslot", for GIVE_BACK), or ''.
 */
export const LEAVE_QUEUE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('HGET', KEYS[4], ARGV[1]) or ''`;

/**
 * Gives back the slot handed to a task, if it is still the one the caller read: KEYS = handed
 * slots, the agent's pending zset; ARGV = task id, "agent\\nslot", slot. Answers 1 if given back.
 */
export const GIVE_BACK = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1`;

/**
 * One agent type's waiters for the reconciler: KEYS = parked, woken; ARGV = now, limit, the next
 * reservation end. Answers {overdue..., '', lost...}: woken waiters whose reservation ended unused
 * (their wake-up was lost), and waiters past their queue deadline; each is answered once per
 * reservation period (marked woken until its end).
 */
export const SWEEP_WAITERS = `
local now = tonumber(ARGV[1])
local lost = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(lost) do redis.call('ZADD', KEYS[2], 'XX', ARGV[3], id) end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local woken = redis.call('ZSCORE', KEYS[2], id)
  if not woken or tonumber(woken) <= now then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    out[#out + 1] = id
  end
end
out[#out + 1] = ''
for _, id in ipairs(lost) do out[#out + 1] = id end
return out`;
