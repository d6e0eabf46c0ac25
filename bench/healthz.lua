-- wrk script: GET /healthz, ending with the RESULT line of result.lua.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua") -- done(): RESULT
