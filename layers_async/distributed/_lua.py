"""The Lua scripts of the Redis rate-limit gate: each runs atomically inside Redis.

Times are integer milliseconds. Every script takes `now` as its first argument; an empty
string means "the Redis server's clock" (`TIME`), so every process compares against one clock
whatever its own says, and tests may pass their own.

Per (key id, endpoint class) the gate keeps (contract §1.11: the API counts each key's calls
per class in fixed one-minute windows):

- `bucket` (a hash): `used` calls taken in the current window, `end` of that window, `tail`
  calls taken in its last seconds (the API may count those in its next window), and `limit`
  once a response's `X-RateLimit-Limit` reported it;
- `pause`: after a 429, the instant before which nobody sends, with a TTL of the pause itself;
- `serial`: while the running-jobs cap binds, the instant until which starts go one at a time;
- `lease`: during that time, the token of the one start in flight.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "OBSERVE", "PAUSE", "RELEASE"]

_NOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

#: KEYS: bucket, pause, serial, lease. ARGV: now, limit, window, tail, lease token, lease ms.
#: Returns {1, 0, leased (0/1), calls left} when a call may go, else {0, wait ms, reason, 0}
#: with reason `pause`, `window` or `serial`.
ACQUIRE = (
    _NOW
    + """
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now, 'pause', 0} end
local b = redis.call('HMGET', KEYS[1], 'used', 'end', 'limit', 'tail')
local used = tonumber(b[1]) or 0
local wend = tonumber(b[2]) or 0
local limit = tonumber(b[3]) or tonumber(ARGV[2])
local tail = tonumber(b[4]) or 0
local window = tonumber(ARGV[3])
if now >= wend then
  -- A new window. Calls taken in the last seconds of the old one may reach the API after
  -- its window turned, and count in the new one: they count here too.
  used = tail
  tail = 0
  wend = now + window
end
if used >= limit then return {0, wend - now, 'window', 0} end
local leased = 0
local serial = tonumber(redis.call('GET', KEYS[3]) or '0')
if serial > now then
  if not redis.call('SET', KEYS[4], ARGV[5], 'NX', 'PX', ARGV[6]) then
    return {0, 50, 'serial', 0}
  end
  leased = 1
end
used = used + 1
if now >= wend - tonumber(ARGV[4]) then tail = tail + 1 end
redis.call('HSET', KEYS[1], 'used', used, 'end', wend, 'tail', tail)
redis.call('PEXPIRE', KEYS[1], wend - now + window)
return {1, 0, leased, limit - used}
"""
)

#: KEYS: bucket. ARGV: now, limit ('' when absent), remaining, reset ms ('' when absent),
#: window, tolerance. Corrects the bucket from a response's `X-RateLimit-*` headers. Answers
#: from several processes arrive in any order, so a correction only ever lowers what may be
#: sent in the current window (`used` is the larger of ours and the server's count), and an
#: answer whose reset falls at the start of our window is from the window before: ignored.
#: Returns the calls left after it.
OBSERVE = (
    _NOW
    + """
local b = redis.call('HMGET', KEYS[1], 'used', 'end', 'limit', 'tail')
local used = tonumber(b[1]) or 0
local wend = tonumber(b[2]) or 0
local limit = tonumber(ARGV[2]) or tonumber(b[3])
if not limit then return -1 end
local tail = tonumber(b[4]) or 0
local remaining = tonumber(ARGV[3])
local reset = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local tolerance = tonumber(ARGV[6])
local seen = math.max(0, limit - remaining)
if reset then
  local server_end = now + math.min(reset, window)
  if now >= wend or server_end > wend + tolerance then
    -- Our window is over, or the API's has already turned: follow the API's.
    used = seen
    tail = 0
    wend = server_end
  elseif server_end <= wend - window + tolerance then
    return limit - used  -- an answer from the window before ours
  else
    used = math.max(used, seen)
    wend = math.min(wend, server_end)
  end
elseif now < wend then
  used = math.max(used, seen)
else
  return limit - used
end
redis.call('HSET', KEYS[1], 'used', used, 'end', wend, 'tail', tail, 'limit', limit)
redis.call('PEXPIRE', KEYS[1], math.max(1, wend - now + window))
return limit - used
"""
)

#: KEYS: pause, serial. ARGV: now, pause ms, serial ms (0: none). After a 429, nobody sends
#: in the class for `pause ms` (a later, shorter pause never shortens it); after a
#: running-jobs 429, starts also go one at a time for `serial ms`. Each key expires with it.
PAUSE = (
    _NOW
    + """
local function extend(key, ms)
  local untl = now + ms
  if untl > tonumber(redis.call('GET', key) or '0') then
    redis.call('SET', key, untl, 'PX', math.max(1, ms))
  end
end
extend(KEYS[1], tonumber(ARGV[2]))
if tonumber(ARGV[3]) > 0 then extend(KEYS[2], tonumber(ARGV[3])) end
return 1
"""
)

#: KEYS: lease. ARGV: now (unused), token. The start holding the lease has ended: free it
#: (if it is still ours: an expired lease may have gone to another start meanwhile).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
"""
