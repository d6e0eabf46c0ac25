-- wrk script: POST /api/v1/payments (a card payment, confirmed at once), a fresh
-- Idempotency-Key per request (bench/slow_provider.sh sets the environment).
--   HERALD_BENCH_TOKEN  a user's access token
-- done() prints one line: "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local token = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"amount":1200,"currency":"USD","payment_type":"coaching_session",' ..
  '"payment_method_id":"pm_card_visa","confirm":true}'

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", string.format("bench-pay-%d-%d-", os.time(), threads))
end

local headers, counter = {}, 0

function init(args)
  for k, v in pairs(wrk.headers) do headers[k] = v end
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = prefix .. counter
  return wrk.format(nil, nil, headers, nil)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
