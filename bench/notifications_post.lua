-- wrk script: POST /api/v1/notifications as an admin (bench/notifications_post.sh sets the
-- environment). Each request creates a notification with a delivery per channel: by default
-- three (in_app sent, e-mail and SMS queued and pushed to Redis after COMMIT).
--   HERALD_BENCH_TOKEN        admin access token
--   HERALD_BENCH_USER_ID      recipient (a user with a phone)
--   HERALD_BENCH_IDEMPOTENCY  "1": a unique Idempotency-Key per request
--   BENCH_CHANNELS            the request's channels, comma-separated (default
--                             "in_app,email,sms"; "in_app,email" is issue 15's request)
-- done() prints one line: "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local token = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")
local user = os.getenv("HERALD_BENCH_USER_ID") or error("HERALD_BENCH_USER_ID is not set")
local idempotency = os.getenv("HERALD_BENCH_IDEMPOTENCY") == "1"
local known = {in_app = true, email = true, sms = true, push = true}
local channels = {}
for c in string.gmatch(os.getenv("BENCH_CHANNELS") or "in_app,email,sms", "[^,]+") do
  if not known[c] then error("BENCH_CHANNELS: unknown channel '" .. c .. "'") end
  channels[#channels + 1] = '"' .. c .. '"'
end
if #channels == 0 then error("BENCH_CHANNELS: no channel") end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = string.format('{"user_id":"%s","category":"bench","priority":"normal",' ..
  '"title":"Bench","body":"A load-test notification","channels":[%s]}', user,
  table.concat(channels, ","))

local threads = 0

-- Runs in the main state: gives each thread its own key prefix (a global of its state).
function setup(thread)
  threads = threads + 1
  thread:set("prefix", string.format("bench-%d-%d-", os.time(), threads))
end

-- Without a key the request is static: wrk sends the same bytes every time and runs no Lua
-- per request (as healthz.lua and the Django peer's post.lua do), so the client's CPU, which
-- shares the machine, is not counted against the POST. With a key each request is the same
-- bytes with a counter spliced in: one concatenation per request, not a wrk.format.
if idempotency then
  local head, tail, counter
  function init(args)
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Idempotency-Key"] = (prefix or "bench-") .. "\0"
    local text = wrk.format(nil, nil, headers, nil)
    local at = string.find(text, "\0", 1, true)
    head, tail, counter = string.sub(text, 1, at - 1), string.sub(text, at + 1), 0
  end

  function request()
    counter = counter + 1
    return head .. counter .. tail
  end
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
