#!/usr/bin/env bash
# What a backlog behind stopped workers costs while it waits: POST /api/v1/notifications for a
# few seconds with no worker running (each POST queues an e-mail and an SMS), then the API alone
# for the outage's seconds with a short stale age, so that its sweeper (every second here) finds
# the waiting rows stale again and again. Every tenth of the outage: the ids on the e-mail list
# (nothing takes them), the copies per waiting e-mail, and the CPU the API and PostgreSQL spent
# meanwhile (the sweeper is all they do). With the back-off of migration 0105 each waiting row
# is pushed again after 1, 2, 4, 8 and then every 16 stale ages; before it, after every one.
# Usage: bench/sweep_outage.sh [outage seconds, default 120] [stale age s, default 4]
#   [POST seconds, default 5]
#   HERALD_BENCH_BIN: another herald-api to measure (its own migrations); BENCH_BUILD: see lib.sh.
# Writes bench/results/sweep-outage-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUTAGE=${1:-120}
STALE=${2:-4}
POST=${3:-5}
for v in "$OUTAGE" "$STALE" "$POST"; do
  [[ $v =~ ^[1-9][0-9]{0,4}$ ]] ||
    { echo "usage: bench/sweep_outage.sh [outage s] [stale age s] [POST s] (integers 1-99999)" >&2; exit 2; }
done
((OUTAGE >= 10)) || { echo "bench: the outage needs 10 s or more" >&2; exit 2; }
[[ -n ${HERALD_BENCH_BIN:-} ]] || bench_build
export HERALD_SWEEP_STALE_S=$STALE HERALD_SWEEP_INTERVAL_S=1 # before bench_stack: it keeps them
bench_stack
export HERALD_DB_PREPARED_STATEMENTS=true
PORT=${BENCH_PORT:-18361}
bench_start_api "$PORT"
bench_post_fixtures "$BASE"
wrk -t2 -c16 -d"${POST}s" -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null
queued=$(sql "SELECT count(*) FROM deliveries WHERE status = 'queued' AND channel = 'email'")
llen() { redis-cli -p "$HERALD_REDIS_PORT" LLEN 'herald:q:{email}'; }
out=$ROOT/bench/results/sweep-outage-$(date -u +%Y%m%d-%H%M%S).md
rows=()
api0=$(ticks "$api_pid") pg0=$(ticks "$pg_pid" tree) start=$SECONDS
step=$((OUTAGE / 10))
for _ in $(seq 10); do
  sleep "$step"
  api=$(ticks "$api_pid") pg=$(ticks "$pg_pid" tree) n=$(llen)
  rows+=("| $((SECONDS - start)) | $n | $(python3 -c "print(f'{$n / $queued:.2f}')") | $(((api - api0) * 10)) | $(((pg - pg0) * 10)) |")
done
{
  echo "# A backlog behind stopped workers ($(date -u +%FT%H:%M:%SZ))"
  echo
  bench_header
  echo
  echo "Command: \`bench/sweep_outage.sh $OUTAGE $STALE $POST\`$([[ -n ${HERALD_BENCH_BIN:-} ]] && echo " (HERALD_BENCH_BIN=$HERALD_BENCH_BIN)"). POST for $POST s at 16"
  echo "connections, no worker running: $queued e-mails waiting (and as many SMS). Then the"
  echo "API alone, HERALD_SWEEP_STALE_S=$STALE, HERALD_SWEEP_INTERVAL_S=1, HERALD_SWEEP_BATCH=${HERALD_SWEEP_BATCH:-500}."
  echo
  echo "| seconds of outage | ids on herald:q:{email} | copies per waiting e-mail | API CPU since, ms | PostgreSQL CPU since, ms |"
  echo "|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} >"$out"
cat "$out"
