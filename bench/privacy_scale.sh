#!/usr/bin/env bash
# The account export and erasure at scale: seeds ROWS notifications (1,000 users, every other
# one in-app: since migration 0103 a user's in-app and other notifications are in two partial
# indexes), two deliveries of each (in-app and e-mail) and as many audit entries about
# notifications, plus 20 sign-ins per user, then times with EXPLAIN ANALYZE the statements of
# common/users/privacy_repo.c that read those two tables for one user (the export's SELECTs;
# the erasure's DELETE and UPDATE, rolled back), printing each plan's scans.
# The DELETE of a user's notifications deletes their deliveries too (the trigger of migration
# 0091), and each deleted delivery runs what refers to it (the digest reference: 0101, 0102);
# EXPLAIN ANALYZE's time includes those triggers, its plan does not show their scans.
# Usage: bench/privacy_scale.sh [rows, default 2000000]. HERALD_BENCH_BIN: the herald-api whose
# migrations make the schema (default build-rel/bin/herald-api, built if missing). Starts and
# stops its own stack. Prints a Markdown report.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${1:-2000000}
if ! [[ $ROWS =~ ^[0-9]+$ ]] || ((ROWS < 1000)); then
  echo "rows: a number >= 1000" >&2
  exit 2
fi
BIN=${HERALD_BENCH_BIN:-$ROOT/build-rel/bin/herald-api}
if [[ ! -x $BIN ]]; then
  cmake -S "$ROOT" -B "$ROOT/build-rel" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-rel" -j2 >/dev/null
fi
stack=$(mktemp -d /tmp/herald-privacy-XXXX)
trap '"$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true' EXIT
"$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
# shellcheck disable=SC1091
. "$stack/stack.env"
"$BIN" migrate >/dev/null
t0=$SECONDS
psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" "$HERALD_DATABASE_URL" >/dev/null <<'SQL'
INSERT INTO users (email, password_hash) SELECT 'u' || g || '@example.com', 'x' FROM generate_series(1, 1000) g;
CREATE TEMP TABLE uids AS SELECT row_number() OVER () AS k, id FROM users;
INSERT INTO notifications (id, user_id, category, priority, title, body, in_app, created_at)
  SELECT gen_random_uuid(), u.id, 'bench', 'normal', 't', 'b', g % 2 = 0, now() - g * interval '1 second'
  FROM generate_series(1, :rows) g JOIN uids u ON u.k = 1 + (g % 1000);
INSERT INTO deliveries (notification_id, user_id, channel, status, created_at)
  SELECT n.id, n.user_id, c.channel, 'sent', n.created_at
  FROM notifications n CROSS JOIN (VALUES ('in_app'), ('email')) c(channel);
INSERT INTO audit_log (actor_id, actor_type, action, target_type, target_id, details)
  SELECT (SELECT id FROM uids WHERE k = 1), 'user', 'notification.created', 'notification',
         gen_random_uuid()::text, '{}' FROM generate_series(1, :rows) g;
INSERT INTO audit_log (actor_type, action, target_type, target_id, details)
  SELECT 'system', 'auth.login', 'user', u.id::text, '{}'
  FROM generate_series(1, 20000) g JOIN uids u ON u.k = 1 + (g % 1000);
VACUUM ANALYZE;
SQL
seeded=$((SECONDS - t0))
user=$(psql -X -At "$HERALD_DATABASE_URL" -c "SELECT id FROM users ORDER BY email LIMIT 1 OFFSET 500")
run() { # run LABEL SQL [rollback]: one line of the report
  local out
  out=$(psql -X -q -v ON_ERROR_STOP=1 "$HERALD_DATABASE_URL" <<SQL
SET statement_timeout = 0;
BEGIN;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $2;
ROLLBACK;
SQL
)
  local ms scans
  ms=$(grep -o 'Execution Time: [0-9.]*' <<<"$out" | awk '{print $3}')
  scans=$(grep -oE '(Parallel )?(Seq|Index|Index Only|Bitmap Index|Bitmap Heap) Scan( using| on) [a-z_]+' <<<"$out" |
    sed 's/ using / /; s/ on / /' | sort -u | paste -sd ';' -)
  echo "| $1 | $ms | $scans |"
}
cat <<MD
# Account export and erasure at scale ($(date -u +%Y-%m-%dT%H:%MZ))

Schema of \`$BIN\` (commit $(git -C "$ROOT" rev-parse --short HEAD)); $ROWS notifications over
1,000 users, two deliveries of each and $ROWS audit entries about notifications, 20 sign-ins
per user (seeded in ${seeded} s). One user of 1,000: $((ROWS / 1000)) notifications, $((ROWS / 500))
deliveries, 20 audit entries about it.
Command: \`bench/privacy_scale.sh $ROWS\`.

| statement (one user) | ms | scans |
|---|---:|---|
MD
# A user's rows as H_NOTIF_OF_USER (common/notifications/notification_repo.h) reads them.
of_user="user_id = '$user'::uuid AND (in_app OR NOT in_app)"
run "export: its notifications" "SELECT id, title FROM notifications WHERE $of_user ORDER BY created_at, id"
run "erasure: DELETE its notifications (and their deliveries)" "DELETE FROM notifications WHERE $of_user"
run "export: audit entries by or about it" "SELECT action FROM audit_log WHERE actor_id = '$user'::uuid OR (target_type = 'user' AND target_id = '$user'::text) ORDER BY created_at, id"
run "erasure: strip those audit entries" "UPDATE audit_log SET ip = NULL, details = '{}'::jsonb WHERE actor_id = '$user'::uuid OR (target_type = 'user' AND target_id = '$user'::text)"
