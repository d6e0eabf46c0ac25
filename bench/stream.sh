#!/usr/bin/env bash
# bench/stream.sh [seconds]: the notification stream (issue 18, docs/streaming.md) on one API
# instance, with its report in bench/results/stream-<date>.md:
#   1. BENCH_STREAMS (10,000) idle streams, one per user: RSS of herald-api before, with them
#      open and after they closed (KB per stream);
#   2. POST /api/v1/notifications (wrk, 32 connections, to a user without a stream) without and
#      with the streams open: req/s and API CPU per request;
#   3. with the streams open, BENCH_STREAM_RATE (1,000) notifications per second to random
#      streamed users for [seconds]: time from the POST's send, and from its 202 (after the
#      COMMIT), to the event on the stream; p50/p99/max and how many arrived.
# The client is bench/stream_client.py (asyncio, one process). ulimit -n is raised to the hard
# limit for the API and the client (each needs one descriptor per stream).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ulimit -n "$(ulimit -Hn)"
streams=${BENCH_STREAMS:-10000}
secs=${1:-${BENCH_SECONDS:-10}}
rate=${BENCH_STREAM_RATE:-1000}
if (($(ulimit -n) < streams + 1024)); then
  echo "bench: ulimit -n is $(ulimit -n); $streams streams need at least $((streams + 1024))" >&2
  exit 1
fi
bench_build
bench_stack
export HERALD_HTTP_MAX_CONNECTIONS=$((streams + 2000)) HERALD_STREAM_MAX=$((streams + 2000)) \
  HERALD_RATE_LIMIT_SERVICE=100000000 HERALD_RATE_LIMIT_ADMIN_USER=100000000 \
  HERALD_RATE_LIMIT_ADMIN_IP=100000000
# An open stream keeps its connection's memory pool (HERALD_HTTP_CONNECTION_MEMORY_BYTES, 8 KB;
# MHD's own default of 32 KB costs about 12 KB more RSS per stream; docs/streaming.md).
"$BIN" migrate >/dev/null 2>&1
"$BIN" create-admin >/dev/null 2>&1
port=$((20000 + RANDOM % 20000))
bench_api "$port"
base=http://127.0.0.1:$port
bench_fixtures "$base"
sql "UPDATE users SET phone = '+14155550100' WHERE id = '$user_id'" >/dev/null # the POSTs' SMS
sql "SELECT bench_seed_users($streams)" >/dev/null
sql "SELECT id FROM bench_seed_users WHERE idx < $streams ORDER BY idx" >"$stack/stream-users"
# One access token per user, signed here with the bench's HS256 key (no sign-in: 10,000 scrypt
# hashes would dominate the run).
python3 - "$stack/stream-users" "$HERALD_JWT_SECRET" >"$stack/tokens" <<'PY'
import base64, hashlib, hmac, json, sys, time, uuid
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = sys.argv[2].encode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
for uid in open(sys.argv[1]).read().split():
    body = b64(json.dumps({"iss": "herald", "aud": "herald-api", "sub": uid, "role": "user",
                           "jti": str(uuid.uuid4()), "iat": now, "exp": now + 86400, "ep": 0}).encode())
    sig = b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    print(uid, f"{head}.{body}.{sig}")
PY
rss() { awk '/^VmRSS/ {print $2}' "/proc/$api_pid/status"; }
export HERALD_BENCH_TOKEN=$admin HERALD_BENCH_USER_ID=$user_id
post=$base/api/v1/notifications
wrk -t2 -c32 -d3s -s "$HERE/notifications_post.lua" "$post" >/dev/null # warm-up
echo "bench: POST without streams"
post_without=$(wrk_run 32 "$secs" notifications_post.lua "$post")
rss0=$(rss)

# start_client NAME: the stream client on every token, in the background, its stdin on fd 7;
# sets OPEN_LINE (its "OPEN ..." report once every stream is open).
start_client() {
  local fifo=$stack/$1.stdin
  mkfifo "$fifo"
  python3 "$HERE/stream_client.py" hold --port "$port" --tokens "$stack/tokens" --seconds 100000 \
    <"$fifo" >"$stack/$1.out" 2>"$stack/$1.err" &
  client_pid=$!
  pids+=("$client_pid")
  exec 7>"$fifo"
  echo "bench: opening $streams streams"
  for _ in $(seq 600); do grep -q '^OPEN' "$stack/$1.out" && break; sleep 0.5; done
  OPEN_LINE=$(grep '^OPEN' "$stack/$1.out" || echo "OPEN failed: $(tail -3 "$stack/$1.err")")
}
stop_client() { # stop_client NAME: closes its stdin, waits; sets RESULT_LINE (its report)
  exec 7>&-
  wait "$client_pid" || true
  RESULT_LINE=$(grep '^RESULT' "$stack/$1.out" || echo "RESULT none: $(tail -3 "$stack/$1.err")")
}

start_client hold
open_line=$OPEN_LINE
echo "bench: $open_line"
sleep 5
rss1=$(rss)
echo "bench: POST with $streams idle streams open"
post_with=$(wrk_run 32 "$secs" notifications_post.lua "$post")
rss2=$(rss)
stop_client hold
hold_result=$RESULT_LINE
sleep 3
rss3=$(rss)
echo "bench: POST again, the streams closed"
post_after=$(wrk_run 32 "$secs" notifications_post.lua "$post")

# 3. about $rate/s: 20 connections, each pausing 20 ms minus its request's time (wrk's delay()).
echo "bench: about $rate notifications/s to the $streams streamed users for $secs s"
start_client lat
open2=$OPEN_LINE
conns=20
export HERALD_BENCH_USERS=$stack/stream-users HERALD_BENCH_DELAY_MS=$((conns * 1000 / rate))
lat_post=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s -s "$HERE/stream_post.lua" "$base" |
  awk '/^RESULT/ {$1 = ""; print}')
sleep 2
stop_client lat
lat=$RESULT_LINE
rss4=$(rss)

read -r wo_rps wo_p50 wo_p99 wo_non2xx wo_err wo_api wo_pg <<<"$post_without"
read -r wi_rps wi_p50 wi_p99 wi_non2xx wi_err wi_api wi_pg <<<"$post_with"
read -r wa_rps wa_p50 wa_p99 wa_non2xx wa_err wa_api wa_pg <<<"$post_after"
per_stream=$(python3 -c "print(f'{($rss1 - $rss0) / $streams:.1f}')")
change=$(python3 -c "print(f'{($wi_rps / (($wo_rps + $wa_rps) / 2) - 1) * 100:+.1f}')")
cpu=$(python3 -c "print(f'{($wi_api / (($wo_api + $wa_api) / 2) - 1) * 100:+.1f}')")
mkdir -p "$HERE/results"
report=$HERE/results/stream-$(date -u +%Y%m%d-%H%M).md
{
  echo "# Notification stream: $streams streams, POST beside them, latency at $rate events/s"
  echo
  bench_header
  echo "Streams: HERALD_STREAM_HEARTBEAT_S=${HERALD_STREAM_HEARTBEAT_S:-20}, buffer ${HERALD_STREAM_BUFFER_BYTES:-65536} B,"
  echo "HERALD_HTTP_CONNECTION_MEMORY_BYTES=${HERALD_HTTP_CONNECTION_MEMORY_BYTES:-8192};"
  echo "client bench/stream_client.py (one asyncio process on the same machine); ulimit -n $(ulimit -n)."
  echo
  echo "## 1. Memory of herald-api (VmRSS)"
  echo
  echo "| moment | RSS (KB) |"
  echo "|---|---|"
  echo "| before the streams (after the POST runs) | $rss0 |"
  echo "| $streams streams open, idle 5 s ($open_line) | $rss1 |"
  echo "| after a POST run beside them | $rss2 |"
  echo "| 3 s after they closed | $rss3 |"
  echo "| after the latency run ($streams streams again) | $rss4 |"
  echo
  echo "**RSS per open stream: $per_stream KB** (target < 20 KB). Hold client: $hold_result."
  echo
  echo "## 2. POST /api/v1/notifications, 32 connections, ${secs} s"
  echo
  echo "| | req/s | p50 ms | p99 ms | non-2xx | API us/req | PostgreSQL us/req |"
  echo "|---|---|---|---|---|---|---|"
  echo "| no stream open | $wo_rps | $wo_p50 | $wo_p99 | $wo_non2xx | $wo_api | $wo_pg |"
  echo "| $streams idle streams open | $wi_rps | $wi_p50 | $wi_p99 | $wi_non2xx | $wi_api | $wi_pg |"
  echo "| again, the streams closed | $wa_rps | $wa_p50 | $wa_p99 | $wa_non2xx | $wa_api | $wa_pg |"
  echo
  echo "**Throughput with the streams open against the mean of the runs without: $change %**"
  echo "(target: no worse than -10 %); API CPU per POST $cpu %. The runs are back to back on a shared machine:"
  echo "compare them with the load average above in mind."
  echo
  echo "## 3. Send to client with $streams streams open, POSTs paced at about $rate/s"
  echo
  echo "wrk (bench/stream_post.lua, $conns connections, ${HERALD_BENCH_DELAY_MS} ms pause each) posted to random"
  echo "streamed users: RESULT req/s p50 p99 non-2xx errors = $lat_post"
  echo
  echo "Stream client ($open2): $lat"
  echo
  echo "p50/p99/max: milliseconds from the POST's send (wall clock in the title) to the event read"
  echo "by the client, so the request itself and its COMMIT are inside; commit to client is less."
} >"$report"
cat "$report"
echo "bench: report in $report"
