-- wrk script: scenario 3 of issue 9, POST /api/v1/notifications as an admin with a template and
-- data, channels in_app and e-mail, to a random recipient (bench/feed.sh sets the environment).
--   HERALD_BENCH_TOKEN       admin access token
--   HERALD_BENCH_RECIPIENTS  a file of user ids, one a line
--   HERALD_BENCH_TEMPLATE    the template's key (in_app and e-mail content using name and order)
-- done() prints one line: "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local token = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")
local file = os.getenv("HERALD_BENCH_RECIPIENTS") or error("HERALD_BENCH_RECIPIENTS is not set")
local template = os.getenv("HERALD_BENCH_TEMPLATE") or error("HERALD_BENCH_TEMPLATE is not set")
local recipients = {}
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function init(args)
  for line in io.lines(file) do
    if #line > 0 then recipients[#recipients + 1] = line end
  end
  if #recipients == 0 then error("no user ids in " .. file) end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  counter = counter + 1
  local body = string.format('{"user_id":"%s","category":"bench","template":"%s",' ..
    '"data":{"name":"Ada","order":"B-%d","total":"49.90 EUR"},"channels":["in_app","email"]}',
    recipients[math.random(#recipients)], template, counter)
  return wrk.format(nil, nil, nil, body)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
