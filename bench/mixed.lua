-- wrk script for bench/memory.sh: a mix of the API's requests, one after the other on each
-- connection: GET /healthz, GET /api/v1/users/me, GET /api/v1/notifications (first page and a
-- page after a random cursor), POST /api/v1/notifications (admin, template with data).
--   HERALD_BENCH_TOKEN        the bench user's access token
--   HERALD_BENCH_ADMIN_TOKEN  an admin's access token
--   HERALD_BENCH_CURSORS      a file of the bench user's notification ids, one a line
--   HERALD_BENCH_RECIPIENTS   a file of user ids, one a line (POST recipients)
--   HERALD_BENCH_TEMPLATE     the template's key
-- done() prints one line: "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local user = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")
local admin = os.getenv("HERALD_BENCH_ADMIN_TOKEN") or error("HERALD_BENCH_ADMIN_TOKEN is not set")
local template = os.getenv("HERALD_BENCH_TEMPLATE") or error("HERALD_BENCH_TEMPLATE is not set")
local cursors, recipients, n = {}, {}, 0

local function lines(name, into)
  local file = os.getenv(name) or error(name .. " is not set")
  for line in io.lines(file) do
    if #line > 0 then into[#into + 1] = line end
  end
  if #into == 0 then error("no ids in " .. file) end
end

function init(args)
  lines("HERALD_BENCH_CURSORS", cursors)
  lines("HERALD_BENCH_RECIPIENTS", recipients)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

local as_user = {Authorization = "Bearer " .. user}
local as_admin = {Authorization = "Bearer " .. admin, ["Content-Type"] = "application/json"}

function request()
  n = n + 1
  local k = n % 5
  if k == 0 then
    return wrk.format("GET", "/healthz")
  elseif k == 1 then
    return wrk.format("GET", "/api/v1/users/me", as_user)
  elseif k == 2 then
    return wrk.format("GET", "/api/v1/notifications?limit=20", as_user)
  elseif k == 3 then
    return wrk.format("GET", "/api/v1/notifications?limit=20&starting_after=" ..
      cursors[math.random(#cursors)], as_user)
  end
  return wrk.format("POST", "/api/v1/notifications", as_admin, string.format(
    '{"user_id":"%s","category":"bench","template":"%s",' ..
    '"data":{"name":"Ada","order":"M-%d","total":"49.90 EUR"},"channels":["in_app","email"]}',
    recipients[math.random(#recipients)], template, n))
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
