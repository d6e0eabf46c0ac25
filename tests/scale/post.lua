-- wrk script of the scale tests: POST SCALE_BODY (JSON) to SCALE_PATH with
-- "Authorization: Bearer SCALE_TOKEN" and a fresh Idempotency-Key per request; done() prints
-- the lines of reset.lua.
local path = os.getenv("SCALE_PATH") or "/"
local body = os.getenv("SCALE_BODY") or "{}"
local headers = {["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer " .. (os.getenv("SCALE_TOKEN") or "")}
local threads = {}
counts = {}
sent = 0

local run = tostring(os.time()) .. "-" .. tostring(math.random(1000000))

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  headers["Idempotency-Key"] = string.format("scale-%s-%d-%d", run, id, sent)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, unanswered = {}, 0
  for _, t in ipairs(threads) do
    unanswered = unanswered + t:get("sent")
    for status, c in pairs(t:get("counts")) do
      total[status] = (total[status] or 0) + c
      unanswered = unanswered - c
    end
  end
  local line = "statuses"
  for status, c in pairs(total) do line = line .. string.format(" %d=%d", status, c) end
  local e = summary.errors
  line = line .. string.format(" errors connect=%d read=%d write=%d timeout=%d status=%d",
                               e.connect, e.read, e.write, e.timeout, e.status)
  io.write(line .. string.format(" unanswered=%d\n", unanswered))
  io.write(string.format("latency p50=%.2fms p99=%.2fms requests=%d duration=%.1fs\n",
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         summary.requests, summary.duration / 1e6))
end
