-- wrk script of bench/stream.sh: POST /api/v1/notifications (in-app) to random users of a file,
-- each titled "lat <wall-clock ms at send>" so the stream client can time its arrival.
--   HERALD_BENCH_TOKEN   admin access token
--   HERALD_BENCH_USERS   file of user ids, one per line
--   HERALD_BENCH_DELAY_MS  pause of each connection between two requests (paces the rate)
-- done() prints "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } timeval_t;
  int gettimeofday(timeval_t *tv, void *tz);
]]
local tv = ffi.new("timeval_t")
local token = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")
local delay_ms = tonumber(os.getenv("HERALD_BENCH_DELAY_MS") or "0")
local users = {}
for line in io.lines(os.getenv("HERALD_BENCH_USERS") or error("HERALD_BENCH_USERS is not set")) do
  users[#users + 1] = line
end

wrk.method = "POST"
wrk.path = "/api/v1/notifications"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function delay()
  return delay_ms
end

function request()
  ffi.C.gettimeofday(tv, nil)
  local ms = tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
  local body = string.format('{"user_id":"%s","category":"bench","title":"lat %d",' ..
    '"body":"latency probe","channels":["in_app"]}', users[math.random(#users)], ms)
  return wrk.format(nil, nil, nil, body)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
