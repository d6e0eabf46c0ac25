-- The one-line summary every wrk script of bench/ ends with (each loads this file):
-- "RESULT <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>".
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n", summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, socket))
end
