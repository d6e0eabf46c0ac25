-- wrk script: GET /api/v1/notifications as the bench user (bench/feed.sh sets the environment).
--   HERALD_BENCH_TOKEN    the user's access token
--   HERALD_BENCH_CURSORS  optional: a file of notification ids, one a line; each request then
--                         asks for the page after a random one (?starting_after=<id>: keyset
--                         pagination anywhere in the feed, not only its first page)
-- The URL's path and query are used as given (e.g. /api/v1/notifications?limit=20).
-- done() prints one line: "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
local token = os.getenv("HERALD_BENCH_TOKEN") or error("HERALD_BENCH_TOKEN is not set")
local cursor_file = os.getenv("HERALD_BENCH_CURSORS")
local cursors = {}

wrk.headers["Authorization"] = "Bearer " .. token

-- Runs in each thread's state.
function init(args)
  if cursor_file and cursor_file ~= "" then
    for line in io.lines(cursor_file) do
      if #line > 0 then cursors[#cursors + 1] = line end
    end
    if #cursors == 0 then error("no ids in " .. cursor_file) end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  if #cursors == 0 then
    return wrk.format()
  end
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "starting_after=" .. cursors[math.random(#cursors)])
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
