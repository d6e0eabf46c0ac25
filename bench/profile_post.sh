#!/usr/bin/env bash
# Where the CPU of POST /api/v1/notifications goes: one run of the POST of notifications_post.lua
# (64 connections) with perf sampling herald-api and the PostgreSQL backends, and
# pg_stat_statements counting every statement (utility ones too: BEGIN, COMMIT).
#   bench/profile_post.sh [seconds, default 10] [idempotency: 0|1, default 0]
# Writes bench/results/profile-post-<date>.md: CPU per POST (API, PostgreSQL, from /proc), the
# statements per POST with their execution time, the API's samples by library and the top
# symbols of both. Needs perf (Debian linux-perf) and root or perf_event_paranoid <= 1.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-10}
IDEM=${2:-0}
bench_build
bench_stack
bench_pgss
bench_start_api "${BENCH_PORT:-18321}" # sets BASE
bench_post_fixtures "$BASE"
export HERALD_BENCH_IDEMPOTENCY=$IDEM

wrk -t2 -c64 -d3s -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null
sql "SELECT pg_stat_statements_reset()" >/dev/null
bench_perf_start "$DUR" post
cpu0=$(cpu_snapshot)
read -r rps p50 p99 bad err api_us pg_us < <(wrk_run 64 "$DUR" notifications_post.lua \
  "$BASE/api/v1/notifications")
cpu1=$(cpu_snapshot)
wait "${perf_pids[@]}" || true
posts=$(python3 -c "print(round($rps * $DUR))")

report="$ROOT/bench/results/profile-post-$(date -u +%Y%m%d-%H%M%S)$([[ $IDEM == 1 ]] && echo -idem || true).md"
{
  echo "# Profile of POST /api/v1/notifications ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_header
  echo "Idempotency-Key per request: $IDEM. Command: \`bench/profile_post.sh $DUR $IDEM\`."
  echo
  echo "$rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $bad, socket errors $err; CPU per POST:"
  echo "API $api_us us, PostgreSQL $pg_us us (from /proc, perf running)."
  echo
  echo "## API CPU per POST by stage (share of the perf samples under each stage's functions, times the API's CPU per POST)"
  echo
  echo "| stage | functions (their samples with everything they call) | share | us/POST |"
  echo "|---|---|---:|---:|"
  perf report -i "$stack/post-api.perf" --children --sort sym --stdio -g none 2>/dev/null |
    python3 "$HERE/profile_stages.py" "$api_us"
  echo
  echo "## CPU per POST by thread (API) and process (PostgreSQL), from /proc"
  echo
  cpu_by_thread "$cpu0" "$cpu1" "$posts"
  echo
  echo "## Statements (pg_stat_statements, per POST: calls and execution time)"
  echo
  bench_pgss_table "$posts" POST
  echo
  bench_perf_report post
} >"$report"
cat "$report"
