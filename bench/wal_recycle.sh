#!/usr/bin/env bash
# POST /api/v1/notifications alone on a fresh cluster, whose WAL goes to new segment files,
# then after CHECKPOINTs have recycled the segments (renamed, their blocks allocated):
#   bench/wal_recycle.sh [seconds per run, default 10]
# Writes bench/results/wal-recycle-<date>.md: req/s of each run, the WAL files before and after
# it and the WAL it wrote. BENCH_CHANNELS names the request (default in_app,email here).
set -euo pipefail
DUR=${1-10} # an empty argument is refused, not taken for the default
[[ $# -le 1 && $DUR =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/wal_recycle.sh [seconds > 0]" >&2; exit 2; }
export BENCH_CHANNELS=${BENCH_CHANNELS:-in_app,email} # before lib.sh, which checks it
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_stack
bench_start_api "${BENCH_PORT:-18391}" # sets BASE
bench_post_fixtures "$BASE"
export HERALD_BENCH_IDEMPOTENCY=0
wrk -t2 -c64 -d3s -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null

rows=()
run() { # run LABEL: one POST run, its row in rows
  local files0 lsn0 rps files1 wal
  files0=$(sql "SELECT count(*) FROM pg_ls_waldir()")
  lsn0=$(sql "SELECT pg_current_wal_lsn()")
  rps=$(wrk -t2 -c64 -d"${DUR}s" -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" |
    awk '/^RESULT/ {print $2}')
  files1=$(sql "SELECT count(*) FROM pg_ls_waldir()")
  wal=$(sql "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0'))")
  rows+=("| $1 | $rps | $files0 -> $files1 | $wal |")
}
run "fresh cluster, first run"
run "fresh cluster, second run"
sql "CHECKPOINT" >/dev/null
sql "CHECKPOINT" >/dev/null # the second recycles what the first left behind
run "after two CHECKPOINTs"
run "the next run, no CHECKPOINT between"
sql "CHECKPOINT" >/dev/null
run "after another CHECKPOINT"

report="$ROOT/bench/results/wal-recycle-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# POST /api/v1/notifications and the WAL's segment files ($(date -u +%FT%H:%MZ))"
  echo
  bench_header
  echo "Command: \`BENCH_CHANNELS=$BENCH_CHANNELS bench/wal_recycle.sh $DUR\`. Request: channels"
  echo "$BENCH_CHANNELS, 64 connections, ${DUR} s per run, one stack; PostgreSQL as scripts/stack.sh"
  echo "starts it (max_wal_size $(sql "SHOW max_wal_size"), wal_init_zero $(sql "SHOW wal_init_zero"))."
  echo
  echo "| run | req/s | WAL files (pg_ls_waldir) | WAL written |"
  echo "|---|---:|---|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "A new segment file's blocks are allocated as the WAL is written into it, so each commit's"
  echo "fdatasync carries the file's metadata too; a segment a checkpoint recycled is renamed with"
  echo "its blocks in place. A fresh cluster writes its first WAL to new files until checkpoints"
  echo "have recycled enough of them."
} >"$report"
echo "bench: wrote $report"
