#!/usr/bin/env bash
# What each row and index of POST /api/v1/notifications' write costs its rate: POST alone at
# 64 connections on a fresh stack per run, as the schema is ("stock") and with one of the
# write's parts taken away by SQL after the migrations, the variants in turn, each round
# alternating them:
#   bench/write_levers.sh [seconds per run, default 10] [rounds, default 2]
# Variants (an experiment's schema, never a deployment's: each removes something a feature
# needs, and says which):
#   stock                    the schema as migrated
#   no-search-index          without notifications_search_idx (the feed's ?q= search)
#   no-unread-trigger        without the AFTER INSERT trigger that keeps the unread number
#   no-audit-filter-indexes  without audit_log_action_idx and audit_log_actor_idx (the audit
#                            list's filters by action and by actor)
#   no-in-app-delivery-row   the in-app delivery rows skipped by a BEFORE INSERT trigger (its
#                            call still costs: the saving shown is a lower bound)
#   no-audit-row             the notification.created audit rows skipped the same way
#   slim                     both rows skipped (../shared/pg-cost's slim.sql)
#   full-action-index        audit_log_action_idx as it was before migration 0108, with the
#                            notification.created rows (a schema of the past, not a feature)
#   no-time-indexes          without deliveries_created_at_id_idx and audit_log_created_at_id_idx
#                            (the operators' lists of deliveries and of the audit log, newest
#                            first, and their created_gte/created_lte filters)
#   no-unread-feed-index     without notifications_unread_feed_idx (the feed's ?unread=true)
#   no-delivery-notification-index
#                            without deliveries_notification_idx (a notification's deliveries:
#                            its GET, the ?notification_id= filter, the delete's cascade)
# BENCH_VARIANTS (default: the variants from no-search-index to slim) names the variants to
# run after stock, comma-separated; stock always runs first, the reference of each round. The
# last four run only when named.
# Writes bench/results/write-levers-<date>.md: per variant the req/s of each round and against
# stock's run in the same round, POST / GET /healthz of the same run, the CPU per POST of the
# API and PostgreSQL, and of PostgreSQL's two busiest backends (the group commit's committer
# and the connection that reads the recipients). BENCH_CHANNELS names the request (default
# in_app,email here).
set -euo pipefail
DUR=${1-10}   # an empty argument is refused, not taken for the default
ROUNDS=${2-2}
usage() { echo "usage: bench/write_levers.sh [seconds > 0] [rounds 1-9]" >&2; exit 2; }
[[ $# -le 2 && $DUR =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9]$ ]] || usage
export BENCH_CHANNELS=${BENCH_CHANNELS:-in_app,email} # before lib.sh, which checks it
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT=(no-search-index no-unread-trigger no-audit-filter-indexes no-in-app-delivery-row
  no-audit-row slim)
KNOWN=("${DEFAULT[@]}" full-action-index no-time-indexes no-unread-feed-index
  no-delivery-notification-index)
VARIANTS=(stock)
if [[ -v BENCH_VARIANTS ]]; then
  IFS=, read -r -a asked <<<"$BENCH_VARIANTS"
  [[ ${#asked[@]} -gt 0 ]] || { echo "bench: BENCH_VARIANTS names no variant" >&2; exit 2; }
  [[ $BENCH_VARIANTS != *, ]] || { echo "bench: BENCH_VARIANTS ends with a comma" >&2; exit 2; }
else
  asked=("${DEFAULT[@]}")
fi
for v in "${asked[@]}"; do
  [[ $v != stock ]] || { echo "bench: BENCH_VARIANTS: stock always runs; name the others" >&2; exit 2; }
  [[ " ${KNOWN[*]} " == *" $v "* ]] || {
    echo "bench: BENCH_VARIANTS: unknown variant '$v' (known: ${KNOWN[*]})" >&2
    exit 2
  }
  [[ " ${VARIANTS[*]} " != *" $v "* ]] || {
    echo "bench: BENCH_VARIANTS: '$v' named twice" >&2
    exit 2
  }
  VARIANTS+=("$v")
done
SKIP_FN="CREATE FUNCTION bench_skip_row() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN RETURN NULL; END \$\$;"
SKIP_IN_APP="CREATE TRIGGER bench_skip_in_app BEFORE INSERT ON deliveries FOR EACH ROW
  WHEN (NEW.channel = 'in_app') EXECUTE FUNCTION bench_skip_row();"
SKIP_AUDIT="CREATE TRIGGER bench_skip_audit BEFORE INSERT ON audit_log FOR EACH ROW
  WHEN (NEW.action = 'notification.created') EXECUTE FUNCTION bench_skip_row();"
variant_sql() {
  case $1 in
    stock) echo "SELECT 1" ;;
    no-search-index) echo "DROP INDEX notifications_search_idx" ;;
    no-unread-trigger) echo "ALTER TABLE notifications DISABLE TRIGGER notifications_unread_insert" ;;
    no-audit-filter-indexes) echo "DROP INDEX audit_log_action_idx; DROP INDEX audit_log_actor_idx" ;;
    no-in-app-delivery-row) echo "$SKIP_FN $SKIP_IN_APP" ;;
    no-audit-row) echo "$SKIP_FN $SKIP_AUDIT" ;;
    slim) echo "$SKIP_FN $SKIP_IN_APP $SKIP_AUDIT" ;;
    full-action-index) echo "DROP INDEX audit_log_action_idx;
      CREATE INDEX audit_log_action_idx ON audit_log (action, created_at DESC)" ;;
    no-time-indexes)
      echo "DROP INDEX deliveries_created_at_id_idx; DROP INDEX audit_log_created_at_id_idx" ;;
    no-unread-feed-index) echo "DROP INDEX notifications_unread_feed_idx" ;;
    no-delivery-notification-index) echo "DROP INDEX deliveries_notification_idx" ;;
  esac
}

bench_build
# backend_ticks: "pid ticks" of each of PostgreSQL's child processes
backend_ticks() {
  local p
  for p in $(pgrep -P "$pg_pid"); do
    echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"
  done
}
# one_run VARIANT: a fresh stack with VARIANT's schema; prints
# "req/s p99 api-us pg-us committer-us reader-us healthz-req/s"
one_run() {
  (
    bench_stack
    [[ -s $header ]] || bench_header >"$header" # with a server to ask its version
    bench_start_api "${BENCH_PORT:-18395}" # sets BASE
    bench_post_fixtures "$BASE"
    export HERALD_BENCH_IDEMPOTENCY=0
    sql "$(variant_sql "$1")" >/dev/null
    wrk -t2 -c64 -d3s -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null
    local t0 t1 rps p99 api pg hz
    t0=$(backend_ticks)
    read -r rps _ p99 _ _ api pg < <(wrk_run 64 "$DUR" notifications_post.lua \
      "$BASE/api/v1/notifications")
    t1=$(backend_ticks)
    read -r hz _ < <(wrk_run 64 "$DUR" healthz.lua "$BASE/healthz")
    python3 - "$t0" "$t1" "$rps" "$DUR" "$(getconf CLK_TCK)" <<PY
import sys
a = dict(l.split() for l in sys.argv[1].splitlines())
b = dict(l.split() for l in sys.argv[2].splitlines())
n = max(float(sys.argv[3]) * float(sys.argv[4]), 1)
top = sorted(((int(b[k]) - int(a.get(k, 0))) * 1e6 / float(sys.argv[5]) / n for k in b),
             reverse=True) + [0, 0]
print("$rps $p99 $api $pg", f"{top[0]:.1f} {top[1]:.1f}", "$hz")
PY
  )
}

header=$(mktemp)
trap 'rm -f "$header"' EXIT # each run's stack is removed by its own subshell's trap
declare -A res
for ((r = 1; r <= ROUNDS; r++)); do
  for v in "${VARIANTS[@]}"; do
    echo "bench: round $r of $ROUNDS, $v" >&2
    res[$v,$r]=$(one_run "$v")
  done
done

report="$ROOT/bench/results/write-levers-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# What POST's write costs its rate, part by part ($(date -u +%FT%H:%MZ))"
  echo
  cat "$header"
  echo "Command: \`BENCH_CHANNELS=$BENCH_CHANNELS${BENCH_VARIANTS+ BENCH_VARIANTS=$BENCH_VARIANTS} bench/write_levers.sh $DUR $ROUNDS\`. Request:"
  echo "channels $BENCH_CHANNELS, POST alone at 64 connections for $DUR s, then GET /healthz at 64"
  echo "connections for $DUR s, on a fresh stack per run; the variants alternate in each round."
  echo
  echo "| variant | req/s per round | against stock's run of the same round | POST / healthz | API us/POST | PostgreSQL us/POST | committer's backend | reader's backend | p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for v in "${VARIANTS[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do echo "$v ${res[$v,$r]} ${res[stock,$r]%% *}"; done
  done | python3 -c '
import sys
rows = {}  # variant -> its rounds: req/s p99 api pg committer reader healthz stock-req/s
for line in sys.stdin:
    v, *run = line.split()
    rows.setdefault(v, []).append(run)
for v, runs in rows.items():
    cells = [[r[0] for r in runs],
             [f"{float(r[0]) / float(r[7]):.3f}x" for r in runs],
             [f"{float(r[0]) / float(r[6]):.3f}x" for r in runs]]
    cells += [[r[i] for r in runs] for i in (2, 3, 4, 5, 1)]
    print("| " + v + " | " + " | ".join(", ".join(c) for c in cells) + " |")
'
  echo
  echo "Each variant but stock removes what a feature needs, or puts back what a migration took"
  echo "away (full-action-index; see the script's header): the figures price the parts of the"
  echo "write, they are not a configuration to run. The two"
  echo "backends' CPU is from /proc of each PostgreSQL process during the POST run, the busiest"
  echo "first."
} >"$report"
cat "$report"
echo "bench: wrote $report"
