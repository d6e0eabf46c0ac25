#!/usr/bin/env bash
# Foundation and auth figures, measured in one run on one machine:
#   1. GET /healthz: the server as configured (epoll thread pool) beside the same binary in
#      ulfius's default mode (HERALD_HTTP_MODE=select, thread per connection);
#   2. GET /api/v1/users/me with a valid JWT beside GET /healthz (both epoll);
#   3. GET /healthz on a new connection per request (Connection: close): the accepting thread
#      (api/http/listener.c) and the pool's hand-over;
# each at 64 and at 256 connections (BENCH_CONNECTIONS).
# Usage: bench/http_baseline.sh [seconds per run, default 10]. Needs wrk and a Release build in
# BENCH_BUILD (default build-rel/, built if missing); starts its own ephemeral stack.
# Writes bench/results/http-baseline-<date>.md and prints it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
CONNS=${BENCH_CONNECTIONS:-64 256}
BUILD=${BENCH_BUILD:-build-rel}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
BIN=$BUILD/bin/herald-api
if [[ ! -x $BIN ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 >/dev/null
fi
stack=$(mktemp -d "${BENCH_STACK_PREFIX:-/tmp/herald-bench}-XXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done # gone before a next run
  "$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
# shellcheck disable=SC1091
. "$stack/stack.env"
# Same-host PostgreSQL through its Unix socket (BENCH_PG_SOCKET=0: loopback TCP, as the tests).
if [[ ${BENCH_PG_SOCKET:-1} == 1 ]]; then
  export HERALD_DATABASE_URL="postgresql://herald@/herald?host=$HERALD_PG_HOME/run&port=$HERALD_PG_PORT"
fi
export HERALD_LOG_LEVEL=warning HERALD_HTTP_BIND=127.0.0.1 HERALD_AUTH_RATE_LIMIT=1000000 \
  HERALD_RATE_LIMIT_WRITE_USER=100000000 HERALD_RATE_LIMIT_WRITE_IP=100000000 \
  HERALD_RATE_LIMIT_READ_USER=100000000 HERALD_RATE_LIMIT_READ_IP=100000000
export HERALD_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
"$BIN" migrate >/dev/null

start_api() { # start_api PORT MODE
  HERALD_HTTP_PORT=$1 HERALD_HTTP_MODE=$2 "$BIN" serve 2>>"$stack/api.log" &
  pids+=($!)
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "API on $1 did not start" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
pg_ticks() { # PostgreSQL: the postmaster, its children (the backends) and those that ended
  local t p
  t=$(awk '{print $16 + $17}' "/proc/$pg_pid/stat")
  for p in "$pg_pid" $(pgrep -P "$pg_pid"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
run_wrk() { # run_wrk CONNECTIONS PID URL [header] -> "req/s p50 p99 non2xx cpu-us-per-request pg-us-per-request"
  local c=$1 pid=$2 out before after g0 g1
  shift 2
  before=$(cpu_ticks "$pid") g0=$(pg_ticks)
  if [[ $# -gt 1 ]]; then
    out=$(wrk -t2 -c"$c" -d"${DUR}s" --latency -H "$2" "$1")
  else
    out=$(wrk -t2 -c"$c" -d"${DUR}s" --latency "$1")
  fi
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  after=$(cpu_ticks "$pid") g1=$(pg_ticks)
  local total cpu pg
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(python3 -c "print(f'{($after - $before) * 1e6 / $(getconf CLK_TCK) / $total:.1f}')")
  pg=$(python3 -c "print(f'{($g1 - $g0) * 1e6 / $(getconf CLK_TCK) / $total:.1f}')")
  echo "$rps ${p50:-?} ${p99:-?} ${bad:-0} $cpu $pg"
}

start_api 18301 epoll
start_api 18302 select
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' \
  http://127.0.0.1:18301/api/v1/auth/register # 202, then sign in
token=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' \
  http://127.0.0.1:18301/api/v1/auth/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Warm-up, then the measured runs back to back.
wrk -t2 -c64 -d2s http://127.0.0.1:18301/healthz >/dev/null
wrk -t2 -c64 -d2s http://127.0.0.1:18302/healthz >/dev/null
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
rows=""
for c in $CONNS; do
  read -r e_rps e_p50 e_p99 e_bad e_cpu e_pg < <(run_wrk "$c" "${pids[0]}" http://127.0.0.1:18301/healthz)
  read -r s_rps s_p50 s_p99 s_bad s_cpu s_pg < <(run_wrk "$c" "${pids[1]}" http://127.0.0.1:18302/healthz)
  read -r m_rps m_p50 m_p99 m_bad m_cpu m_pg < <(run_wrk "$c" "${pids[0]}" \
    http://127.0.0.1:18301/api/v1/users/me "Authorization: Bearer $token")
  read -r n_rps n_p50 n_p99 n_bad n_cpu n_pg < <(run_wrk "$c" "${pids[0]}" \
    http://127.0.0.1:18301/healthz "Connection: close")
  rows+="| GET /healthz, epoll thread pool (as configured) | $c | $e_rps | $e_p50 | $e_p99 | $e_bad | $e_cpu us | $e_pg us | 1.00 |
| GET /healthz, ulfius default (select, thread per connection) | $c | $s_rps | $s_p50 | $s_p99 | $s_bad | $s_cpu us | $s_pg us | $(ratio "$s_rps" "$e_rps") |
| GET /api/v1/users/me with a JWT (epoll) | $c | $m_rps | $m_p50 | $m_p99 | $m_bad | $m_cpu us | $m_pg us | $(ratio "$m_rps" "$e_rps") |
| GET /healthz, a new connection per request (epoll) | $c | $n_rps | $n_p50 | $n_p99 | $n_bad | $n_cpu us | $n_pg us | $(ratio "$n_rps" "$e_rps") |
"
done

report="$ROOT/bench/results/http-baseline-$(date -u +%Y%m%d-%H%M%S).md"
cat >"$report" <<MD
# HTTP baseline ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r).
Commit: $(git -C "$ROOT" rev-parse --short HEAD). wrk -t2 -d${DUR}s at $CONNS connections, same
binary (Release, $BUILD), HERALD_HTTP_THREADS=${HERALD_HTTP_THREADS:-0 (twice the CPUs online, 4 to 64)}, log level warning.
req/s ratio: against GET /healthz (epoll) at the same connection count.

| scenario | connections | req/s | p50 | p99 | non-2xx | server CPU per request | PostgreSQL CPU per request | req/s ratio |
|---|---|---|---|---|---|---|---|---|
$rows
wrk shares the machine's cores with the server, so req/s is bounded by both; the server's own
CPU time per request (from /proc/PID/stat) is the cost the server mode decides; PostgreSQL's
(the postmaster and its backends, from /proc too) is what a request costs the database.
MD
cat "$report"
