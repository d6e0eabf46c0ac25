-- wrk script: GET /api/v1/users/me as HERALD_BENCH_TOKEN, ending with the RESULT line of
-- result.lua.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("HERALD_BENCH_TOKEN") or
  error("HERALD_BENCH_TOKEN is not set"))

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
