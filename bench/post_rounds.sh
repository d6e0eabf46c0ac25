#!/usr/bin/env bash
# POST /api/v1/notifications in consecutive rounds on one stack (64 connections, the request of
# notifications_post.sh: the channels of BENCH_CHANNELS, in-app, e-mail and SMS unless set), each
# round with its req/s, p50, p99 and CPU per POST beside what PostgreSQL's own maintenance did
# in it: checkpoints (started, ended) and autovacuum's VACUUM and ANALYZE of each table with the
# CPU PostgreSQL's log gives them (log_checkpoints, log_autovacuum_min_duration = 0). Then
# ANALYZE notifications, timed.
# What it shows: how much of a run's p99 and CPU per POST is the application and how much is
# PostgreSQL's maintenance falling into the window (it recurs as the tables grow).
# Each round also gives the WAL the cluster wrote in it, per POST, and the full-page images in
# that WAL (pg_stat_wal): the first change of a page after a checkpoint logs the whole page;
# and, from the API's /metrics, the group-commit batches whose write (statement, COMMIT, WAL
# flush) took over 25 ms and over 100 ms, and the POSTs the API answered in over 100 ms (a
# stalled write holds every POST in flight).
# Usage: bench/post_rounds.sh [rounds, default 4] [seconds per round, default 12]
#   BENCH_BUILD, BENCH_PG_SET (PostgreSQL settings to try): see bench/lib.sh.
# Writes bench/results/post-rounds-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROUNDS=${1:-4}
DUR=${2:-12}
[[ $ROUNDS =~ ^[1-9][0-9]?$ && $DUR =~ ^[1-9][0-9]{0,2}$ ]] ||
  { echo "usage: bench/post_rounds.sh [rounds 1-99] [seconds 1-999]" >&2; exit 2; }
bench_build
bench_stack
export HERALD_DB_PREPARED_STATEMENTS=true
sql "ALTER SYSTEM SET log_checkpoints = on" >/dev/null
sql "ALTER SYSTEM SET log_autovacuum_min_duration = 0" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
bench_pg_set
PORT=18341
bench_start_api $PORT
bench_post_fixtures "$BASE"

post() { # post SECONDS -> wrk's RESULT fields: req/s p50 p99 non-2xx socket-errors
  wrk -t2 -c64 -d"$1s" -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" |
    awk '/^RESULT/ {$1 = ""; print}'
}
per_post() { python3 -c "print(f'{($2 - $1) * 1e6 / $(getconf CLK_TCK) / max($3, 1):.0f}')"; }
stamp() { date -u '+%F %T.%3N'; }
wal() { sql "SELECT wal_bytes, wal_fpi FROM pg_stat_wal" | tr '|' ' '; } # counters since the stack began
per_count() { python3 -c "print(f'{($2 - $1) / max($3, 1):.$4f}')"; } # per_count A B N DIGITS
# From /metrics: batch writes over 25 ms, over 100 ms, POSTs (202) answered in over 100 ms.
slow() {
  local m
  m=$(curl -sf --retry 2 "$BASE/metrics") || { echo "bench: GET /metrics failed" >&2; exit 1; }
  echo "$m" | awk '
    /^herald_group_commit_write_seconds_bucket\{le="0.025"\}/ {w25 = $2}
    /^herald_group_commit_write_seconds_bucket\{le="0.1"\}/ {w100 = $2}
    /^herald_group_commit_write_seconds_count / {wn = $2}
    /^herald_http_request_duration_seconds_bucket\{route="\/api\/v1\/notifications",method="POST",status="202",le="0.1"\}/ {p100 = $2}
    /^herald_http_request_duration_seconds_count\{route="\/api\/v1\/notifications",method="POST",status="202"\}/ {pn = $2}
    END {print wn - w25, wn - w100, pn - p100}'
}
# What PostgreSQL's log says happened between two stamps.
maintenance() {
  awk -v a="$1" -v b="$2" '
    {t = $1 " " $2}
    t >= a && t <= b && /checkpoint starting/ {out = out sep "checkpoint started"; sep = ", "}
    t >= a && t <= b && /checkpoint complete/ {out = out sep "checkpoint ended"; sep = ", "}
    t >= a && t <= b && /automatic (vacuum|analyze) of table "herald\.public\./ {
      match($0, /automatic [a-z]+/); op = substr($0, RSTART + 10, RLENGTH - 10)
      match($0, /herald\.public\.[a-z_]+/); tbl = substr($0, RSTART + 14, RLENGTH - 14); want = 1
      next
    }
    want && /system usage: CPU:/ {
      match($0, /user: [0-9.]+ s, system: [0-9.]+ s/); cpu = substr($0, RSTART, RLENGTH)
      split(cpu, f, " "); out = out sep op " " tbl " (" f[2] + f[5] " s CPU)"; sep = ", "; want = 0
    }
    END {print out == "" ? "none" : out}' "$HERALD_PG_HOME/postgres.log"
}

post 3 >/dev/null # warm-up
out=$ROOT/bench/results/post-rounds-$(date -u +%Y%m%d-%H%M).md
{
  echo "# POST /api/v1/notifications in rounds, with PostgreSQL's maintenance ($(date -u +%FT%H:%MZ))"
  echo
  echo "Commit $(git -C "$ROOT" rev-parse --short HEAD), binary \`${BIN#"$ROOT"/}\`, $(nproc) cores;"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg). $ROUNDS rounds of $DUR s, 64"
  echo "connections, one stack (the tables grow from round to round). CPU per POST from /proc (the"
  echo "API; PostgreSQL's postmaster and the children alive at both ends: an autovacuum worker that"
  echo "ended inside the round is missing there, its CPU is in the last column)."
  echo "Command: \`BENCH_CHANNELS=$BENCH_CHANNELS ${BENCH_PG_SET:+BENCH_PG_SET=\"$BENCH_PG_SET\" }bench/post_rounds.sh $ROUNDS $DUR\`."
  echo "PostgreSQL: wal_compression $(sql "SHOW wal_compression"), shared_buffers"
  echo "$(sql "SHOW shared_buffers"), max_wal_size $(sql "SHOW max_wal_size"), synchronous_commit"
  echo "$(sql "SHOW synchronous_commit")."
  echo
  echo "| round | notifications before | req/s | p50 ms | p99 ms | non-2xx | API us/POST | PostgreSQL us/POST | WAL bytes/POST | full-page images/POST | batch writes > 25 ms (> 100 ms) | POSTs answered in > 100 ms | PostgreSQL's maintenance in the round (log) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$out"
for r in $(seq "$ROUNDS"); do
  rows=$(sql "SELECT count(*) FROM notifications")
  read -r w0 f0 < <(wal)
  read -r s25 s100 sp < <(slow)
  from=$(stamp) a0=$(ticks "$api_pid") g0=$(ticks "$pg_pid" tree)
  read -r rps p50 p99 bad _ < <(post "$DUR")
  a1=$(ticks "$api_pid") g1=$(ticks "$pg_pid" tree) to=$(stamp)
  read -r w1 f1 < <(wal)
  read -r e25 e100 ep < <(slow)
  n=$(python3 -c "print(round($rps * $DUR))")
  echo "| $r | $rows | $rps | $p50 | $p99 | $bad | $(per_post "$a0" "$a1" "$n") |" \
    "$(per_post "$g0" "$g1" "$n") | $(per_count "$w0" "$w1" "$n" 0) | $(per_count "$f0" "$f1" "$n" 2) |" \
    "$((e25 - s25)) ($((e100 - s100))) | $((ep - sp)) | $(maintenance "$from" "$to") |" >>"$out"
done
rows=$(sql "SELECT count(*) FROM notifications")
analyze_ms() { # ANALYZE notifications, its duration in ms (psql's \timing)
  psql "$HERALD_DATABASE_URL" -X -q -c '\timing on' -c "ANALYZE notifications" |
    awk '/^Time:/ {print $2}'
}
{
  echo
  echo "ANALYZE notifications at the end ($rows rows), what autovacuum runs each time a tenth of"
  echo "the table is new: $(analyze_ms) ms, then $(analyze_ms) ms."
} >>"$out"
cat "$out"
