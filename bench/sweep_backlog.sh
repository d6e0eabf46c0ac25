#!/usr/bin/env bash
# The sweeper's search for stale queued deliveries (common/queue/sweeper.c, every
# HERALD_SWEEP_INTERVAL_S, 5 s) against a backlog of queued rows, as when workers are down or
# slow: POST /api/v1/notifications fills it (no workers run), then EXPLAIN (ANALYZE, BUFFERS)
# of the statement's search in two forms, with the backlog fresh and after it is made stale:
#   by updated_at  the form before this script (due_at <= now(), ORDER BY updated_at)
#   by due_at      the sweeper's form (due before the cutoff too, ORDER BY due_at)
# Usage: bench/sweep_backlog.sh [seconds of POST, default 20]
#   BENCH_BUILD: see bench/lib.sh. Writes bench/results/sweep-backlog-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-20}
[[ $DUR =~ ^[1-9][0-9]{0,3}$ ]] || { echo "usage: bench/sweep_backlog.sh [seconds 1-9999]" >&2; exit 2; }
bench_build
bench_stack
export HERALD_DB_PREPARED_STATEMENTS=true HERALD_SWEEP_INTERVAL_S=0 # no sweeper of its own
PORT=18351
bench_start_api $PORT
bench_post_fixtures "$BASE"
wrk -t2 -c64 -d"${DUR}s" -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null
sql "VACUUM ANALYZE deliveries" >/dev/null

stale="make_interval(secs => 60)" # HERALD_SWEEP_STALE_S's default
declare -A form=(
  [by updated_at]="due_at <= now() AND updated_at < now() - $stale ORDER BY updated_at"
  [by due_at]="due_at < now() - $stale AND updated_at < now() - $stale ORDER BY due_at"
)
plan() { # plan FORM -> EXPLAIN (ANALYZE, BUFFERS) of that form of the search (batch 500)
  sql "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM deliveries WHERE status = 'queued'
       AND channel <> 'in_app' AND ${form[$1]} LIMIT 500 FOR UPDATE SKIP LOCKED"
}
out=$ROOT/bench/results/sweep-backlog-$(date -u +%Y%m%d-%H%M).md
summary=()
report() { # report WHEN: both forms' plans, and a summary row each
  local f p ms
  for f in "by updated_at" "by due_at"; do
    p=$(plan "$f")
    ms=$(awk '/Execution Time/ {print $3}' <<<"$p")
    summary+=("| $1 | $f | $ms | $(grep -cE '(^|->  )Sort \(' <<<"$p" || true) |")
    printf '\n%s, %s:\n\n```\n%s\n```\n' "$1" "$f" "$p" >>"$out"
  done
}
{
  echo "# The sweeper's search for stale queued deliveries ($(date -u +%FT%H:%MZ))"
  echo
  echo "Commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores. Command:"
  echo "\`bench/sweep_backlog.sh $DUR\`. Backlog: $(sql "SELECT count(*) FROM deliveries
    WHERE status = 'queued'") queued deliveries (e-mail and SMS) after $DUR s of POST."
} >"$out"
report "backlog queued less than a minute ago"
sql "UPDATE deliveries SET due_at = due_at - interval '2 minutes',
     updated_at = updated_at - interval '2 minutes' WHERE status = 'queued'" >/dev/null
sql "VACUUM ANALYZE deliveries" >/dev/null
report "backlog queued and untouched for 2 minutes"
{
  echo
  echo "| backlog | form | ms (EXPLAIN ANALYZE) | sort nodes |"
  echo "|---|---|---:|---:|"
  printf '%s\n' "${summary[@]}"
} >>"$out"
cat "$out"
