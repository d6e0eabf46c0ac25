#!/usr/bin/env bash
# Where the CPU of the read endpoints goes: GET /api/v1/users/me and the feed's first page
# (GET /api/v1/notifications?limit=20 for a user with BENCH_FEED_ROWS notifications, default
# 100,000), one run each at 64 connections with perf sampling herald-api and the PostgreSQL
# backends and pg_stat_statements counting every statement; GET /healthz of the same stack
# beside them.
#   bench/profile_reads.sh [seconds per run, default 8]
# BENCH_BUILD defaults to build-prof (Release with -g -fno-omit-frame-pointer, configured here).
# Writes bench/results/profile-reads-<date>.md: req/s, p99 and CPU per request (API, PostgreSQL,
# from /proc), the statements per request, the top symbols of both processes.
set -euo pipefail
export BENCH_BUILD=${BENCH_BUILD:-build-prof}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-8}
FEED_ROWS=${BENCH_FEED_ROWS:-100000}
[[ -f $BUILD/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-g -fno-omit-frame-pointer" -DHERALD_BUILD_TESTS=OFF >/dev/null
bench_build
bench_stack
bench_pgss
"$BIN" migrate >/dev/null 2>&1
"$BIN" create-admin >/dev/null 2>&1
PORT=${BENCH_PORT:-18331}
BASE=http://127.0.0.1:$PORT
bench_api "$PORT"
bench_fixtures "$BASE"
sql "SET session_replication_role = replica; SET synchronous_commit = off;
     SELECT bench_seed_notifications(0, $FEED_ROWS, 1000, '$user_id'::uuid, 0.9998)" >/dev/null
bench_recount # the rows went in with triggers off
sql "VACUUM (ANALYZE) notifications" >/dev/null
export HERALD_BENCH_TOKEN=$user

# profile NAME LUA URL: one perf'd run; prints the report's section for it.
profile() {
  local name=$1 rps p50 p99 bad err api_us pg_us n
  wrk -t2 -c64 -d3s -s "$HERE/$2" "$3" >/dev/null
  sql "SELECT pg_stat_statements_reset()" >/dev/null
  bench_perf_start "$DUR" "$name"
  read -r rps p50 p99 bad err api_us pg_us < <(wrk_run 64 "$DUR" "$2" "$3")
  wait "${perf_pids[@]}" || true
  n=$(python3 -c "print(max(round($rps * $DUR), 1))")
  echo "# $name: ${3#"$BASE"}"
  echo
  echo "$rps req/s ($(ratio "$rps" "$hz_rps")x GET /healthz), p50 $p50 ms, p99 $p99 ms, non-2xx $bad,"
  echo "socket errors $err; CPU per request: API $api_us us, PostgreSQL $pg_us us (from /proc, perf running)."
  echo
  echo "## Statements (pg_stat_statements, per request)"
  echo
  bench_pgss_table "$n" req
  echo
  bench_perf_report "$name" | sed 's/^## /## '"$name"': /'
  echo
}

wrk -t2 -c64 -d3s -s "$HERE/healthz.lua" "$BASE/healthz" >/dev/null
read -r hz_rps _ hz_p99 _ _ hz_api _ < <(wrk_run 64 "$DUR" healthz.lua "$BASE/healthz")
report="$ROOT/bench/results/profile-reads-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# Profile of the read endpoints ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_header
  echo "Command: \`bench/profile_reads.sh $DUR\`. The feed's user has $FEED_ROWS notifications."
  echo "GET /healthz of the same stack, no perf: $hz_rps req/s, p99 $hz_p99 ms, API $hz_api us per request."
  echo
  profile users-me feed_page.lua "$BASE/api/v1/users/me"
  profile feed feed_page.lua "$BASE/api/v1/notifications?limit=20"
} >"$report"
cat "$report"
