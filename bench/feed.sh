#!/usr/bin/env bash
# Issue 9, scenarios 4 and 6, measured in one run on one machine, on one stack:
#   4. GET /api/v1/notifications, a page of 20, for a user with 100,000 notifications: the first
#      page, a page after a random cursor (?starting_after, anywhere in the feed) and the unread
#      page (?unread=true, the user has read all but ~20); goal p99 < 10 ms; and the first page
#      of a second user with as many notifications, half of them unread (the body's unread_count
#      counts them at every request);
#   3. POST /api/v1/notifications as an admin, in_app + e-mail, a template with data, to one of
#      1,000 recipients;
#   the first page again while BENCH_CHANGERS connections POST to the bench user (each POST
#      changes the page, so the API process's copy of it, HERALD_FEED_CACHE_MS, is dropped at
#      every send: the rate of changes and the share of pages served from a copy are reported);
#   6. both again after growing the tables to each size of BENCH_GROWTH (notifications of other
#      users, with 1.7 deliveries each, seeded inside PostgreSQL); goal: within 0.9x of the
#      figures on the tables holding only the bench user's rows; EXPLAIN (ANALYZE, BUFFERS) of
#      the queries behind both endpoints and the sequential scans counted during the runs.
# Every HTTP run at each of BENCH_CONNECTIONS, GET /healthz of the same run beside it.
# Usage: bench/feed.sh [seconds per run, default BENCH_SECONDS or 10]
#   BENCH_GROWTH       total seeded rows to grow to, in order (default "1000000 10000000")
#   BENCH_CONNECTIONS  wrk connections (default "64 256")
#   BENCH_FEED_ROWS    the bench user's notifications (default 100000)
#   BENCH_CHANGERS     connections POSTing to the bench user during the "changing" run
#                      (default 2; 0 skips the run)
#   BENCH_BUILD, BENCH_STACK_PREFIX: see bench/lib.sh
# Writes bench/results/feed-growth-<date>.md; prints a summary.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-${BENCH_SECONDS:-10}}
SIZES=${BENCH_GROWTH-1000000 10000000}
CONNS=${BENCH_CONNECTIONS:-64 256}
FEED_ROWS=${BENCH_FEED_ROWS:-100000}
CHANGERS=${BENCH_CHANGERS:-2}
if ! [[ $CHANGERS =~ ^[0-9]{1,2}$ ]] || ((10#$CHANGERS > 64)); then
  echo "feed: BENCH_CHANGERS must be 0-64, not '$CHANGERS'" >&2
  exit 2
fi
CHANGERS=$((10#$CHANGERS))
BATCH=1000000

bench_build
bench_stack
bench_pg_tune

PORT=18321
bench_start_api $PORT
bench_fixtures "$BASE"
user2=$(bench_token "$BASE" bench-unread@example.com bench-unread-password-1)
user2_id=$(curl -sf -H "Authorization: Bearer $user2" "$BASE/api/v1/users/me" | json_field '["id"]')

# ------------------------------------------------------------------ seeding
# seed FIRST COUNT USERS [USER_ID [READ_SHARE]]: COUNT notifications numbered from FIRST (for
# USER_ID, READ_SHARE of them read, or spread over USERS seed users). The secondary indexes of both tables are dropped first and built
# again after (much faster than maintaining them row by row), foreign-key triggers are off in the
# seeding sessions (the rows reference existing users by construction), then VACUUM ANALYZE.
# Sets seed_line: "users-s | insert-s | index-s | vacuum-s | total-s".
seed() {
  local first=$1 count=$2 users=$3 one=NULL t0 t1 t2 t3 t4 done_n=0 n drop
  [[ -n ${4:-} ]] && one="'$4'::uuid, ${5:-0.9998}"
  t0=$(date +%s.%N)
  sql "SELECT bench_seed_users($users)" >/dev/null
  t1=$(date +%s.%N)
  sql "SELECT indexdef FROM pg_indexes i WHERE tablename IN ('notifications', 'deliveries')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)" \
    >"$stack/indexes.sql"
  drop=$(sql "SELECT string_agg(format('DROP INDEX %I', indexname), '; ') FROM pg_indexes i
        WHERE tablename IN ('notifications', 'deliveries') AND NOT EXISTS (SELECT 1 FROM pg_constraint c
          WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)")
  [[ -z $drop ]] || sql "$drop"
  while ((done_n < count)); do
    n=$((count - done_n < BATCH ? count - done_n : BATCH))
    sql "SET session_replication_role = replica; SET synchronous_commit = off;
         SELECT bench_seed_notifications($((first + done_n)), $n, $users, $one)" >/dev/null
    done_n=$((done_n + n))
    printf '  seeded %d/%d\n' "$done_n" "$count" >&2
  done
  bench_recount # the rows went in with triggers off
  t2=$(date +%s.%N)
  sed 's/$/;/' "$stack/indexes.sql" | psql "$HERALD_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 >/dev/null
  t3=$(date +%s.%N)
  sql "VACUUM (ANALYZE) users"
  sql "VACUUM (ANALYZE) notifications"
  sql "VACUUM (ANALYZE) deliveries"
  t4=$(date +%s.%N)
  seed_line=$(python3 -c "a=[$t0,$t1,$t2,$t3,$t4]; print(' | '.join(f'{a[i+1]-a[i]:.1f}' for i in range(4)), '|', f'{a[4]-a[0]:.1f}')")
}

# ------------------------------------------------------------------ one size
f() { cut -d' ' -f"$2" <<<"$1"; }
stat_line() { # seq_scan and idx_scan of both tables: "d_seq d_idx n_seq n_idx"
  sleep 1.2 # statistics are flushed once a second
  sql "SELECT string_agg(coalesce(seq_scan, 0) || ' ' || coalesce(idx_scan, 0), ' ' ORDER BY relname)
         FROM pg_stat_user_tables WHERE relname IN ('deliveries', 'notifications')"
}
explain() { # explain TITLE SQL
  printf '\n%s\n\n```\n' "$1"
  sql "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2"
  printf '```\n'
}
# The feed query of common/notifications/notification_repo.c (h_notif_repo_feed) with the endpoint's parameters.
feed_sql() { # feed_sql UNREAD CURSOR
  cat <<SQL
SELECT id, 'notification' AS object, category, priority, title, body, action_url, data,
  (read_at IS NOT NULL) AS read, read_at, send_at, created_at
  FROM notifications WHERE user_id = '$user_id'::uuid
   AND in_app AND deleted_at IS NULL AND (send_at IS NULL OR send_at <= now())
   AND ($1::bool IS NULL OR (read_at IS NULL) = $1::bool)
   AND (NULL::text IS NULL OR category = NULL) AND (NULL::text IS NULL OR priority = NULL)
   AND ($2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = $2::uuid))
 ORDER BY notifications.created_at DESC, notifications.id DESC LIMIT 21
SQL
}
unread_sql() { # unread_sql USER_ID: H_NOTIF_UNREAD_COUNT, or the count before migration 0099
  if [[ $(sql "SELECT to_regclass('notification_unread_counts') IS NOT NULL") == t ]]; then
    echo "SELECT (COALESCE((SELECT unread FROM notification_unread_counts WHERE user_id = '$1'::uuid), 0)
   - (SELECT count(*) FROM notifications WHERE user_id = '$1'::uuid AND in_app AND deleted_at IS NULL
      AND read_at IS NULL AND send_at > now()))"
  else
    echo "SELECT count(*) FROM notifications WHERE user_id = '$1'::uuid AND in_app AND deleted_at IS NULL
   AND (send_at IS NULL OR send_at <= now()) AND read_at IS NULL"
  fi
}
recipient_sql() { # h_notif_repo_recipient
  cat <<SQL
SELECT u.locale, u.phone IS NOT NULL,
  (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active)::int,
  json_build_object('channels', COALESCE(p.channels, '{}'::jsonb), 'categories', COALESCE(p.categories, '{}'::jsonb)),
  COALESCE(p.quiet_enabled, false), p.quiet_start, p.quiet_end, COALESCE(p.quiet_timezone, u.timezone)
  FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
 WHERE u.id = '$(head -1 "$stack/recipients")'::uuid AND u.status <> 'deleted'
SQL
}

declare -A R # R[label,run,conns] = "rps p50 p99 non2xx sock api-us pg-us"
# The feed copies' hits and misses on the API's /metrics: "hits misses" (0 0 when off).
copy_lookups() {
  curl -sf "$BASE/metrics" | awk '/^herald_feed_cache_lookups_total\{result="hit"\}/ {h = $2}
    /^herald_feed_cache_lookups_total\{result="miss"\}/ {m = $2} END {print h + 0, m + 0}'
}
# changing_run CONNS: the first page at CONNS connections while CHANGERS connections POST to
# the bench user; sets R[$label,changing,CONNS] and R[$label,changes,CONNS] ("posts/s hits%",
# "none" for the share when no copy is kept).
changing_run() {
  local c=$1 m0 m1 posts
  echo "$user_id" >"$stack/bench-user"
  m0=$(copy_lookups)
  HERALD_BENCH_TOKEN=$admin HERALD_BENCH_RECIPIENTS=$stack/bench-user \
    wrk -t1 -c"$CHANGERS" -d"${DUR}s" -s "$HERE/feed_post.lua" "$BASE/api/v1/notifications" |
    awk '/^RESULT/ {print $2}' >"$stack/changes" &
  posts=$!
  R[$label,changing,$c]=$(wrk_run "$c" "$DUR" feed_page.lua "$BASE/api/v1/notifications?limit=20")
  wait "$posts"
  m1=$(copy_lookups)
  R[$label,changes,$c]=$(python3 -c "h0, s0 = $(tr ' ' , <<<"$m0"); h1, s1 = $(tr ' ' , <<<"$m1")
n = (h1 - h0) + (s1 - s0)
print('$(cat "$stack/changes")', f'{100 * (h1 - h0) / n:.1f}%' if n else 'none')")
}
labels=()
plans=""
measure() { # measure LABEL
  local label=$1 c s0 s1 cursor w0 w1
  labels+=("$label")
  sql "SELECT id FROM notifications WHERE user_id = '$user_id' AND in_app AND deleted_at IS NULL
        ORDER BY random() LIMIT 1000" >"$stack/cursors"
  export HERALD_BENCH_TOKEN=$user
  wrk -t2 -c64 -d3s -s "$HERE/feed_page.lua" "$BASE/api/v1/notifications" >/dev/null
  HERALD_BENCH_TOKEN=$admin wrk -t2 -c64 -d3s -s "$HERE/feed_post.lua" "$BASE/api/v1/notifications" >/dev/null
  s0=$(stat_line)
  for c in $CONNS; do
    R[$label,healthz,$c]=$(wrk_run "$c" "$DUR" healthz.lua "$BASE/healthz")
    R[$label,first,$c]=$(wrk_run "$c" "$DUR" feed_page.lua "$BASE/api/v1/notifications?limit=20")
    R[$label,cursor,$c]=$(HERALD_BENCH_CURSORS=$stack/cursors wrk_run "$c" "$DUR" feed_page.lua \
      "$BASE/api/v1/notifications?limit=20")
    R[$label,unread,$c]=$(wrk_run "$c" "$DUR" feed_page.lua "$BASE/api/v1/notifications?limit=20&unread=true")
    R[$label,half,$c]=$(HERALD_BENCH_TOKEN=$user2 wrk_run "$c" "$DUR" feed_page.lua \
      "$BASE/api/v1/notifications?limit=20")
    ((CHANGERS == 0)) || changing_run "$c"
    w0=$(sql "SELECT wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")
    R[$label,post,$c]=$(HERALD_BENCH_TOKEN=$admin wrk_run "$c" "$DUR" feed_post.lua "$BASE/api/v1/notifications")
    w1=$(sql "SELECT wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")
    R[$label,wal,$c]=$(python3 -c "a = '$w0'.split(); b = '$w1'.split(); n = max($(f "${R[$label,post,$c]}" 1) * $DUR, 1)
print(f'{(int(b[0]) - int(a[0])) / n:.1f} {(int(b[1]) - int(a[1])) / n / 1024:.1f}')")
    echo "  $label c=$c: healthz ${R[$label,healthz,$c]%% *} req/s, first page ${R[$label,first,$c]%% *}," \
      "POST ${R[$label,post,$c]%% *}" >&2
  done
  s1=$(stat_line)
  R[$label,scans]=$(python3 -c "a=[int(x) for x in '$s0'.split()]; b=[int(x) for x in '$s1'.split()]; print(' '.join(str(y - x) for x, y in zip(a, b)))")
  cursor=$(sed -n 500p "$stack/cursors")
  plans+="
### $label

Rows: $(sql "SELECT (SELECT count(*) FROM notifications) || ' notifications, ' ||
  (SELECT count(*) FROM deliveries) || ' deliveries, ' || (SELECT count(*) FROM users) || ' users; ' ||
  pg_size_pretty(pg_total_relation_size('notifications') + pg_total_relation_size('deliveries')) ||
  ' on disk with indexes'").
Scans counted by pg_stat_user_tables during the HTTP runs: notifications $(f "${R[$label,scans]}" 3)
sequential, $(f "${R[$label,scans]}" 4) index; deliveries $(f "${R[$label,scans]}" 1) sequential, $(f "${R[$label,scans]}" 2) index.
$(explain "First page (GET /api/v1/notifications?limit=20):" "$(feed_sql NULL NULL)")
$(explain "Page after a cursor half-way down a random sample (?starting_after=$cursor):" "$(feed_sql NULL "'$cursor'")")
$(explain "Unread page (?unread=true; the user has read all but a handful):" "$(feed_sql true NULL)")
$(explain "The body's unread_count (h_notif_repo_unread_count) for the user with half unread:" \
  "$(unread_sql "$user2_id")")
$(explain "POST: the recipient's row and preferences (h_notif_repo_recipient):" "$(recipient_sql)")
"
}

# ------------------------------------------------------------------ the run
echo "feed: seeding $FEED_ROWS notifications for the bench user" >&2
seed 0 "$FEED_ROWS" 1000 "$user_id"
seeds=("| the bench user's feed | $FEED_ROWS | $seed_line |")
seed "$FEED_ROWS" "$FEED_ROWS" 1000 "$user2_id" 0.5
seeds+=("| a second user, half unread | $FEED_ROWS | $seed_line |")
measure "bench user only"
have=0
for size in $SIZES; do
  ((size > have)) || continue
  users=$((size / 100 > 1000 ? size / 100 : 1000))
  echo "feed: growing to $size seeded notifications ($users users)" >&2
  seed $((2 * FEED_ROWS + have)) $((size - have)) "$users"
  seeds+=("| grow to $size ($users users) | $((size - have)) | $seed_line |")
  have=$size
  measure "$size rows"
done

# ------------------------------------------------------------------ report
vs_base() { # vs_base LABEL RUN CONNS: (run / healthz at LABEL) / (run / healthz before growth)
  local b=${labels[0]}
  python3 -c "x = $(f "${R[$1,$2,$3]}" 1) / $(f "${R[$1,healthz,$3]}" 1)
y = $(f "${R[$b,$2,$3]}" 1) / $(f "${R[$b,healthz,$3]}" 1)
print(f'{x / y:.2f}' if y else '?')"
}
row() { # row LABEL RUN CONNS TITLE
  local v=${R[$1,$2,$3]}
  printf '| %s | %s | %s | %s | %s ms | %s ms | %s | %s us | %s us | %s | %s |\n' "$1" "$4" "$3" \
    "$(f "$v" 1)" "$(f "$v" 2)" "$(f "$v" 3)" "$(($(f "$v" 4) + $(f "$v" 5)))" "$(f "$v" 6)" \
    "$(f "$v" 7)" "$(ratio "$(f "$v" 1)" "$(f "${R[$1,healthz,$3]}" 1)")" "$(vs_base "$1" "$2" "$3")"
}
table() {
  echo "| tables | request | conns | req/s | p50 | p99 | non-2xx + socket errors | API CPU/req | PostgreSQL CPU/req | ratio to /healthz | vs bench user only |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  local l c
  for c in $CONNS; do
    for l in "${labels[@]}"; do
      row "$l" healthz "$c" "GET /healthz"
      row "$l" first "$c" "feed, first page"
      row "$l" cursor "$c" "feed, page after a random cursor"
      row "$l" unread "$c" "feed, ?unread=true"
      row "$l" half "$c" "feed, first page, user with half unread"
      ((CHANGERS == 0)) || row "$l" changing "$c" "feed, first page while its user receives POSTs"
      row "$l" post "$c" "POST (template, in_app + email)"
    done
  done
}
report="$ROOT/bench/results/feed-growth-$(date -u +%Y%m%d-%H%M).md"
cat >"$report" <<MD
# Feed and growth: GET /api/v1/notifications, POST at 1M/10M rows ($(date -u +%Y-%m-%dT%H:%MZ))

$(bench_header)
PostgreSQL settings (ALTER SYSTEM, bench/lib.sh): $(tr '\n' ' ' <<<"$PG_SETTINGS").
wrk ${DUR} s per run after a 3 s warm-up, connections: $CONNS. Command: \`BENCH_GROWTH="$SIZES"
bench/feed.sh $DUR\`.

The bench user has $FEED_ROWS notifications (all in-app, 2 % deleted, all read but ~20), a
second user as many with half of them unread (its feed's unread_count counts ~49,000 rows);
growth adds notifications of other users (skewed: a few heavy users, a long tail; 90 % in-app,
1.7 deliveries each, see bench/seed_growth.sql). POSTs go to 1,000 users with a template and
data, channels in_app and e-mail. "ratio to /healthz" divides by GET /healthz of the same size
and connection count; "vs bench user only" compares that ratio with the one measured before any
growth (goal >= 0.90), so machine drift between the runs cancels out.

## Figures

$(table)

$( ((CHANGERS == 0)) || {
  echo "\"While its user receives POSTs\": $CHANGERS connections POST (in_app + e-mail) to the bench user"
  echo "during the first page's run; each send changes the page and drops the API's copy of it"
  echo "(HERALD_FEED_CACHE_MS). Its CPU per request includes the POSTs'."
  echo
  echo "| tables | conns | POSTs to the user per s | pages from a copy |"
  echo "|---|---|---|---|"
  for c in $CONNS; do for l in "${labels[@]}"; do
    echo "| $l | $c | $(f "${R[$l,changes,$c]}" 1) | $(f "${R[$l,changes,$c]}" 2) |"; done; done
  echo
})

WAL written per POST (pg_stat_wal around the POST runs): full-page images and kB per request.
Index pages touched at random (uuid keys) are logged whole after each checkpoint, so this grows
with the tables once their indexes no longer fit in shared_buffers.

| tables | conns | full-page images per POST | WAL kB per POST |
|---|---|---|---|
$(for c in $CONNS; do for l in "${labels[@]}"; do
  echo "| $l | $c | $(f "${R[$l,wal,$c]}" 1) | $(f "${R[$l,wal,$c]}" 2) |"; done; done)

## Seeding (inside PostgreSQL: INSERT ... SELECT generate_series)

| step | notifications added | users (s) | insert notifications + deliveries (s) | build indexes (s) | VACUUM ANALYZE (s) | total (s) |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${seeds[@]}")

## Query plans (EXPLAIN (ANALYZE, BUFFERS), after the runs of each size)
$plans
MD

echo
echo "feed: report $report"
printf '%-16s %-34s %5s %9s %8s %8s %6s %7s %7s\n' tables request conns req/s p50 p99 errors ratio vs-base
for c in $CONNS; do
  for l in "${labels[@]}"; do
    for run in healthz first cursor unread half changing post; do
      [[ -n ${R[$l,$run,$c]:-} ]] || continue
      v=${R[$l,$run,$c]}
      printf '%-16s %-34s %5s %9s %8s %8s %6s %7s %7s\n' "$l" "$run" "$c" "$(f "$v" 1)" \
        "$(f "$v" 2)ms" "$(f "$v" 3)ms" "$(($(f "$v" 4) + $(f "$v" 5)))" \
        "$(ratio "$(f "$v" 1)" "$(f "${R[$l,healthz,$c]}" 1)")" \
        "$(vs_base "$l" "$run" "$c")"
    done
  done
done
