#!/usr/bin/env bash
# Issue 18: the feed's full-text search, GET /api/v1/notifications?q=..., for a user with
# 100,000 in-app notifications (goal: p99 < 20 ms), among as many notifications of 1,000 other
# users sharing the same GIN index. The bench user's rows are seeded inside PostgreSQL with the
# same tsvector expression the API writes (herald_ts_config(locale), title || ' ' || body):
# titles from 8 kinds (one in 8 an invoice), bodies with a project name (one of 100) and a
# ticket word (one of 20,000), so the searches below match ~12,500, ~250, ~5 and 0 rows.
# Each query: wrk at BENCH_CONNECTIONS (default "2 16") for the given seconds, then EXPLAIN
# (ANALYZE, BUFFERS) of the SQL behind it.
# Usage: bench/feed_search.sh [seconds per run, default BENCH_SECONDS or 10]
#   BENCH_FEED_ROWS  the bench user's notifications (default 100000)
#   BENCH_OTHER_ROWS the other users' notifications, together (default BENCH_FEED_ROWS): the
#                    table around the bench user, e.g. 10000000 for a user of 100,000 among ten
#                    million rows
#   BENCH_BUILD, BENCH_STACK_PREFIX: see bench/lib.sh
# Writes bench/results/feed-search-<date>.md; prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-${BENCH_SECONDS:-10}}
CONNS=${BENCH_CONNECTIONS:-2 16}
ROWS=${BENCH_FEED_ROWS:-100000}
OTHER_ROWS=${BENCH_OTHER_ROWS:-$ROWS}
[[ $ROWS =~ ^[1-9][0-9]*$ && $OTHER_ROWS =~ ^[1-9][0-9]*$ ]] ||
  { echo "BENCH_FEED_ROWS and BENCH_OTHER_ROWS take a positive number of rows" >&2; exit 2; }

bench_build
bench_stack
bench_pg_tune
PORT=18331
bench_start_api $PORT
bench_fixtures "$BASE"

# seed USER_SQL COUNT: COUNT in-app notifications over the last year for the users USER_SQL
# yields (an SQL expression of g, the row number).
seed() {
  sql "INSERT INTO notifications (user_id, category, priority, title, body, locale, in_app,
                                  read_at, created_at, search)
       SELECT u, c, 'normal', t, b, 'en', true, CASE WHEN g % 10 <> 0 THEN ts END, ts,
              to_tsvector(herald_ts_config('en'), t || ' ' || b)
         FROM (SELECT g, $1 AS u, now() - random() * interval '365 days' AS ts,
                      (ARRAY['billing', 'order', 'social', 'security'])[1 + g % 4] AS c,
                      (ARRAY['Invoice ' || g || ' is ready', 'Order ' || g || ' shipped',
                             'New comment on your post', 'Weekly digest', 'Payment received',
                             'Your subscription renews soon', 'Someone mentioned you',
                             'Sign-in from a new device'])[1 + g % 8] AS t,
                      'Project ' || (ARRAY['apollo', 'borealis', 'cygnus', 'draco'])[1 + (g / 100) % 4]
                        || (g % 100) || ' has an update; ticket word tk' || (g % 20000)
                        || ' was mentioned by Ada in the thread about the quarterly review.' AS b
                 FROM generate_series(1, $2) g) s" >/dev/null
}
t0=$(date +%s.%N)
seed "'$user_id'::uuid" "$ROWS"
seed "(SELECT id FROM bench_seed_users WHERE idx = g % 1000)" "$OTHER_ROWS"
sql "VACUUM ANALYZE notifications" >/dev/null
seed_s=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")

queries=(
  "invoice|a common word (1 in 8 rows)"
  "apollo17|a project (1 in 400 rows)"
  "tk4242|a rare word (5 rows)"
  "%22quarterly%20review%22%20invoice|a phrase and a word (1 in 8 rows)"
  "nothingmatches|no match"
  "invoice&category=billing&since=$(date -u -d '-30 days' +%Y-%m-%dT%H:%M:%SZ)|with category and date filters"
)
out=$ROOT/bench/results/feed-search-$(date -u +%Y%m%d-%H%M).md
mkdir -p "$ROOT/bench/results"
{
  echo "# Feed search: GET /api/v1/notifications?q= at $(git -C "$ROOT" rev-parse --short HEAD)"
  echo
  bench_header
  echo
  echo "The bench user: $ROWS in-app notifications; 1,000 other users: $OTHER_ROWS more (seeded in ${seed_s} s)."
  echo "wrk ${DUR} s per run after a 2 s warm-up; limit 20 (the default page)."
  echo
  echo "| query | matches | connections | req/s | p50 ms | p99 ms | non-2xx | SQL ms (EXPLAIN ANALYZE) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"
export HERALD_BENCH_TOKEN=$user
for entry in "${queries[@]}"; do
  qs=${entry%%|*} what=${entry#*|}
  url="$BASE/api/v1/notifications?q=$qs"
  matches=$(python3 - "$qs" <<'PY'
import sys, urllib.parse
q = urllib.parse.parse_qs("q=" + sys.argv[1])
print(q["q"][0])
PY
)
  count=$(sql "SELECT count(*) FROM notifications WHERE user_id = '$user_id' AND in_app
               AND deleted_at IS NULL AND search @@ websearch_to_tsquery(herald_ts_config('en'), \$q\$$matches\$q\$)")
  plan_ms=$(sql "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM notifications WHERE user_id = '$user_id'
                 AND in_app AND deleted_at IS NULL AND archived_at IS NULL
                 AND search @@ websearch_to_tsquery(herald_ts_config('en'), \$q\$$matches\$q\$)
                 ORDER BY created_at DESC, id DESC LIMIT 21" |
            python3 -c "import json,sys; print(round(json.load(sys.stdin)[0]['Execution Time'], 2))")
  wrk -t1 -c4 -d2s -s "$HERE/feed_page.lua" "$url" >/dev/null
  for c in $CONNS; do
    read -r rps p50 p99 bad sock api_us pg_us < <(wrk_run "$c" "$DUR" feed_page.lua "$url")
    echo "| $what: \`${qs}\` | $count | $c | $rps | $p50 | $p99 | $bad | $plan_ms |" >>"$out"
  done
done
for word in invoice apollo17 tk4242 nothingmatches; do
  {
    echo
    echo "Plan of \`$word\` (EXPLAIN ANALYZE, BUFFERS):"
    echo
    echo '```'
    sql "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM notifications WHERE user_id = '$user_id'
         AND in_app AND deleted_at IS NULL AND archived_at IS NULL
         AND search @@ websearch_to_tsquery('english', '$word')
         ORDER BY created_at DESC, id DESC LIMIT 21"
    echo '```'
  } >>"$out"
done
cat "$out"
