-- wrk script of the scale tests: POST /api/v1/auth/password-reset for the users
-- <SCALE_PREFIX>-0..<SCALE_USERS - 1>@scale.test in turn, counting the answers by status.
-- Each accepted request of an existing user commits one notification + delivery row and
-- pushes the delivery id onto herald:q:{email}. done() prints one line:
--   statuses 202=N 502=N ... errors connect=N read=N write=N timeout=N status=N unanswered=N
-- unanswered: requests sent whose answer wrk did not wait for (in flight when -d ran out);
-- the server may still have carried them out.
local users = tonumber(os.getenv("SCALE_USERS") or "20")
local prefix = os.getenv("SCALE_PREFIX") or "scale"
local threads = {}
local n = 0
counts = {}
sent = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  sent = sent + 1
  local body = string.format('{"email":"%s-%d@scale.test"}', prefix, (n + id * 7) % users)
  return wrk.format("POST", "/api/v1/auth/password-reset",
                    {["Content-Type"] = "application/json"}, body)
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
  line = line .. string.format(" unanswered=%d", unanswered)
  io.write(line .. "\n")
  io.write(string.format("latency p50=%.2fms p99=%.2fms requests=%d duration=%.1fs\n",
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         summary.requests, summary.duration / 1e6))
end
