#!/usr/bin/env bash
# Instructions per POST /api/v1/notifications, counted by valgrind's callgrind in the API and in
# PostgreSQL: a figure the machine's load does not move, where CPU time on shared cores does
# (the same binary has measured 135 and 359 us of CPU per POST on different days here).
#   bench/instructions_post.sh [seconds, default 30] [connections, default 16]
# Two runs, each from a fresh start: PostgreSQL under callgrind (its backends are forks of the
# postmaster: each writes its counts when it exits), herald-api serve under callgrind, wrk
# POSTing for a third of the seconds (run A) and then for all of them (run B), then both
# stopped. What both runs share (starting, connecting, shutting down) cancels in the
# difference, so (instructions B - A) / (POSTs B - A) is what one more POST costs, with the
# batches' shared statements and COMMITs, the WAL writer and the shutdown checkpoint's writes
# included; autovacuum is off in both runs (a pass falls into one run and not the other;
# post_rounds.sh shows what it costs), and the API's pool holds 4 connections
# (HERALD_DB_POOL_SIZE), which both runs open: a backend's start costs tens of millions of
# instructions here, so a pool that opens more connections in one run than in the other would
# not cancel. A request waits up to a minute for a pooled connection (HERALD_DB_ACQUIRE_TIMEOUT_MS):
# the pool's first connections open under callgrind while the first POSTs arrive, and the
# default 2 s answered a few of them 503. (callgrind_control cannot reach a forked backend, so
# counting cannot simply be switched on for a window.) Under callgrind everything runs ~50x slower: the rate and the
# batch sizes are those of a slow machine; compare two builds with the same arguments
# (HERALD_BENCH_BIN for another binary). The API's instructions are split by stage with the
# functions of profile_stages.py (inclusive: a stage's callees count in it). User space only:
# the kernel's work (system calls, scheduling, copies) is not counted.
# Writes bench/results/instructions-post-<date>.md and prints it. Needs valgrind and wrk.
# HERALD_BENCH_IDEMPOTENCY=1: a unique Idempotency-Key per request (notifications_post.lua);
# the report says which. BENCH_KEEP_CALLGRIND=<dir>: copy the runs' callgrind files (a/ and b/) and the API's log there
# before the stack is removed, for callgrind_annotate (--tree=caller shows who calls a
# PostgreSQL function).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-30}
CONNS=${2:-16}
for v in "$DUR" "$CONNS"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [seconds >= 3] [connections] (integers)" >&2; exit 2; }
done
((DUR >= 3)) || { echo "usage: $0 [seconds >= 3] [connections] (integers)" >&2; exit 2; }
IDEM=${HERALD_BENCH_IDEMPOTENCY:-0}
[[ $IDEM == [01] ]] || { echo "HERALD_BENCH_IDEMPOTENCY: 0 or 1 (got '$IDEM')" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "bench: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[[ -n ${HERALD_BENCH_BIN:-} ]] || bench_build
bench_stack
PORT=${BENCH_PORT:-18331}
# The tokens and the recipient, signed in outside callgrind (password hashing is no part of a POST).
bench_start_api "$PORT"
bench_post_fixtures "$BASE"
export HERALD_BENCH_IDEMPOTENCY=$IDEM # the fixtures set it to 0
kill "$api_pid"
wait "$api_pid" 2>/dev/null || true

pg_user=$(stat -c %U "$HERALD_PG_HOME/data")
pg_bin=$(dirname "$(readlink -f "/proc/$pg_pid/exe")")
"$ROOT/scripts/stack.sh" stop-service postgres --dir "$stack" >/dev/null
as_pg() { if ((EUID == 0)); then (cd / && runuser -u "$pg_user" -- "$@"); else "$@"; fi; }
posts() { sql "SELECT count(*) FROM notifications WHERE category = 'bench'"; }

# one_run NAME SECONDS: prints "posts batches wrk-result-fields"; the counts go to
# $HERALD_PG_HOME/callgrind/NAME (PostgreSQL's user can write there; removed with the stack).
one_run() {
  local cg=$HERALD_PG_HOME/callgrind/$1 n0 n1 batches line pgv
  as_pg mkdir -p "$cg"
  as_pg valgrind --tool=callgrind --callgrind-out-file="$cg/pg.%p" \
    "$pg_bin/postgres" -D "$HERALD_PG_HOME/data" -c autovacuum=off >"$cg/pg.log" 2>&1 &
  pgv=$!
  for _ in $(seq 240); do pg_isready -q -h 127.0.0.1 -p "$HERALD_PG_PORT" && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p "$HERALD_PG_PORT" ||
    { echo "bench: PostgreSQL did not start under callgrind" >&2; tail -5 "$cg/pg.log" >&2; exit 1; }
  n0=$(posts)
  HERALD_HTTP_PORT=$PORT HERALD_DB_POOL_SIZE=${HERALD_DB_POOL_SIZE:-4} \
    HERALD_DB_ACQUIRE_TIMEOUT_MS=60000 valgrind --tool=callgrind --callgrind-out-file="$cg/api.%p" \
    "$BIN" serve 2>>"$stack/api.log" &
  api_pid=$!
  pids+=("$api_pid")
  for _ in $(seq 600); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
  curl -sf "$BASE/healthz" >/dev/null || { echo "bench: the API did not start" >&2; exit 1; }
  line=$(wrk -t2 -c"$CONNS" -d"$2s" --timeout 30s -s "$HERE/notifications_post.lua" \
    "$BASE/api/v1/notifications" | awk '/^RESULT/ {$1 = ""; print}')
  batches=$(curl -s "$BASE/metrics" | awk '$1 == "herald_group_commit_batches_total" {print $2}')
  kill "$api_pid"
  wait "$api_pid" 2>/dev/null || true
  n1=$(posts)
  as_pg "$pg_bin/pg_ctl" -D "$HERALD_PG_HOME/data" -m fast -w -t 120 stop >/dev/null
  wait "$pgv" 2>/dev/null || true
  echo "$((n1 - n0)) ${batches:-0} $line"
}
short=$(one_run a $((DUR / 3)))
long=$(one_run b "$DUR")
if [[ -n ${BENCH_KEEP_CALLGRIND:-} ]]; then
  mkdir -p "$BENCH_KEEP_CALLGRIND"
  cp -r "$HERALD_PG_HOME/callgrind/a" "$HERALD_PG_HOME/callgrind/b" "$stack/api.log" \
    "$BENCH_KEEP_CALLGRIND/"
fi
"$ROOT/scripts/stack.sh" start-service postgres --dir "$stack" >/dev/null # for the cleanup

report="$ROOT/bench/results/instructions-post-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# Instructions per POST /api/v1/notifications ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "\`bench/instructions_post.sh $DUR $CONNS\`: $("$BIN" version 2>/dev/null | head -1 || true),"
  echo "tree $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench/results' || echo ' (with uncommitted changes)'),"
  echo "$(valgrind --version), PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'), $CONNS connections,"
  echo "Idempotency-Key per request: $IDEM, channels $BENCH_CHANNELS."
  echo
  python3 "$HERE/callgrind_stages.py" "$HERALD_PG_HOME/callgrind" "$short" "$long"
} | tee "$report"
echo "bench: report in $report" >&2
