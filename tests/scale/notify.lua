-- wrk script of the scale tests: POST /api/v1/notifications (service API key) to the users
-- whose ids are in SCALE_USER_IDS (comma-separated), in turn, on the channels of
-- SCALE_CHANNELS (default email,sms,push). done() prints the same lines as reset.lua:
--   statuses 202=N ... errors connect=N read=N write=N timeout=N status=N unanswered=N
local ids = {}
for id in string.gmatch(os.getenv("SCALE_USER_IDS") or "", "[^,]+") do table.insert(ids, id) end
local channels = {}
for c in string.gmatch(os.getenv("SCALE_CHANNELS") or "email,sms,push", "[^,]+") do
  table.insert(channels, '"' .. c .. '"')
end
local channel_list = "[" .. table.concat(channels, ",") .. "]"
local headers = {["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer " .. (os.getenv("SCALE_TOKEN") or "")}
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
  local body = string.format(
    '{"user_id":"%s","category":"scale","priority":"critical","channels":%s,' ..
    '"title":"Scale %d-%d","body":"Scale test message %d of thread %d."}',
    ids[(n + id * 7) % #ids + 1], channel_list, id, n, n, id)
  return wrk.format("POST", "/api/v1/notifications", headers, body)
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
