#!/usr/bin/env bash
# The fan-out of an announcement to every user (POST /api/v1/announcements, target "all",
# in-app and e-mail): BENCH_FANOUT_USERS seed users (default 20,000), the time from the 202
# until the announcement is completed, and the CPU it cost the API and PostgreSQL per
# recipient (from /proc). The fan-out runs in the API, HERALD_FANOUT_BATCH recipients (100)
# per transaction. BENCH_FANOUT_QUIET=1: every seed user is inside quiet hours (00:00-23:59,
# Europe/Paris), so each e-mail is scheduled for the window's end, which PostgreSQL converts
# to UTC.
# Usage: bench/fanout.sh   BENCH_BUILD, HERALD_BENCH_BIN: see bench/lib.sh.
# Writes bench/results/fanout-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${BENCH_FANOUT_USERS:-20000}
[[ $USERS =~ ^[1-9][0-9]{0,6}$ ]] || { echo "bench: BENCH_FANOUT_USERS must be 1-9999999" >&2; exit 2; }
bench_build
bench_stack
PORT=18361
bench_start_api $PORT
psql "$HERALD_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$HERE/seed_growth.sql" >/dev/null
sql "SELECT bench_seed_users($USERS)" >/dev/null
if [[ ${BENCH_FANOUT_QUIET:-0} == 1 ]]; then
  sql "INSERT INTO notification_preferences (user_id, quiet_enabled, quiet_start, quiet_end,
       quiet_timezone) SELECT id, true, '00:00', '23:59', 'Europe/Paris' FROM bench_seed_users" \
    >/dev/null
fi
sql "VACUUM ANALYZE users" >/dev/null
admin=$(bench_token "$BASE" "$HERALD_ADMIN_EMAIL" "$HERALD_ADMIN_PASSWORD")
recipients=$(sql "SELECT count(*) FROM users WHERE status <> 'deleted'")

a0=$(ticks "$api_pid") g0=$(ticks "$pg_pid" tree) t0=$(date +%s.%N)
id=$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"target":"all","category":"bench","title":"Maintenance tonight","body":"We will be down for ten minutes.","channels":["in_app","email"]}' \
  "$BASE/api/v1/announcements" | json_field '["id"]')
status=""
for _ in $(seq 6000); do # at most 10 minutes
  status=$(curl -sf -H "Authorization: Bearer $admin" "$BASE/api/v1/announcements/$id" |
    json_field '["status"]')
  [[ $status == completed || $status == failed ]] && break
  sleep 0.1
done
t1=$(date +%s.%N) a1=$(ticks "$api_pid") g1=$(ticks "$pg_pid" tree)
created=$(sql "SELECT count(*) FROM notifications WHERE broadcast_id = '$id'")
hz=$(getconf CLK_TCK)
out=$ROOT/bench/results/fanout-$(date -u +%Y%m%d-%H%M).md
cat >"$out" <<MD
# Fan-out of an announcement to every user ($(date -u +%FT%H:%MZ))

Commit $(git -C "$ROOT" rev-parse --short HEAD), binary \`${BIN#"$ROOT"/}\`, $(nproc) cores; load
average before: $(cut -d' ' -f1-3 /proc/loadavg). Command: \`BENCH_FANOUT_USERS=$USERS
BENCH_FANOUT_QUIET=${BENCH_FANOUT_QUIET:-0} bench/fanout.sh\`.

| recipients | status | notifications created | seconds | recipients/s | API us/recipient | PostgreSQL us/recipient |
|---:|---|---:|---:|---:|---:|---:|
| $recipients | $status | $created | $(python3 -c "print(f'{$t1 - $t0:.2f}')") | $(python3 -c "print(f'{$created / ($t1 - $t0):.0f}')") | $(python3 -c "print(f'{($a1 - $a0) * 1e6 / $hz / max($created, 1):.0f}')") | $(python3 -c "print(f'{($g1 - $g0) * 1e6 / $hz / max($created, 1):.0f}')") |
MD
cat "$out"
