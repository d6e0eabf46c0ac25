#!/usr/bin/env bash
# PgBouncer in transaction pooling mode in front of PostgreSQL: the migrations run against
# PostgreSQL directly (they hold a session advisory lock), then the API's integration tests and
# the workers' tests (worker_*, reliability_*: kills, restarts, SIGTERM, dead letters) run with
# HERALD_DATABASE_URL pointing at PgBouncer, so every request, claim, result and background pass
# goes through the pooler. Then a wrk load through PgBouncer
# checks rows == accepted requests, and SHOW POOLS shows that clients shared few servers.
#
#   HERALD_BUILD_DIR  the CMake build whose ctest integration tests run (default: build)
#   SCALE_CTEST_REGEX    ctest -R regex of the tests run (default: ^(integration|worker|reliability)_)
#   SCALE_CTEST_EXCLUDE  ctest -E regex of tests left out (default: see below)
#
# What PgBouncer (1.18, transaction mode) needs from a client, and Herald does:
#   - no session state across transactions: the API sets nothing per session but
#     statement_timeout, which it passes as the startup parameter `options`; PgBouncer does
#     not forward that, so it is listed in ignore_startup_parameters and statement_timeout is
#     set on the role instead (ALTER ROLE ... SET statement_timeout, below);
#   - no named prepared statements: libpq's PQexecParams uses the unnamed statement, which
#     is parsed, bound and executed inside the same transaction (HERALD_DB_PREPARED_STATEMENTS
#     is set false below).
# Left out: integration_migrate races migrations against each other, which needs the session
# advisory lock of a direct connection (operators run `herald-api migrate` against PostgreSQL,
# docs/operations.md); reliability_restart's helpers talk to PostgreSQL itself (they SIGSTOP the
# backends serving herald-email, shared server connections behind a pooler, and take a
# successful connect for a usable one, which PgBouncer's is not while PostgreSQL is down): its
# case, workers across a PostgreSQL restart, is checked at the end of this script instead.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need pgbouncer ctest psql wrk
BUILD=${HERALD_BUILD_DIR:-$ROOT/build}
[[ -f $BUILD/CTestTestfile.cmake ]] || skip "no CMake build in $BUILD"
exclude=${SCALE_CTEST_EXCLUDE:-integration_migrate|reliability_restart}
regex=${SCALE_CTEST_REGEX:-^(integration|worker|reliability)_}

stack_start
pg_direct=$PG_URL
bouncer_port=$(free_port)
bdir=$SCALE_DIR/pgbouncer
mkdir -p "$bdir"
cat >"$bdir/pgbouncer.ini" <<EOF
[databases]
herald = host=127.0.0.1 port=$HERALD_PG_PORT dbname=herald
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $bdir/userlist.txt
admin_users = herald
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
reserve_pool_size = 5
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
; Fail fast while PostgreSQL is down: without these a query waits up to 120 s for a server
; (query_wait_timeout) and holds an API thread all that time; with them the API answers 503.
query_wait_timeout = 3
server_connect_timeout = 3
server_login_retry = 1
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
EOF
echo '"herald" ""' >"$bdir/userlist.txt"
user=$(run_user)
if [[ -n $user ]]; then
  chmod 0755 "$SCALE_DIR" # (mktemp makes it 0700) PgBouncer runs as $user and reads $bdir
  chown -R "$user" "$bdir"
fi
# statement_timeout for the server sessions PgBouncer opens as this role.
psql_q "ALTER ROLE herald SET statement_timeout = '5s'" >/dev/null
CLEANUPS+=("psql -X -q '$pg_direct' -c 'ALTER ROLE herald RESET statement_timeout'")
if [[ -n $user ]]; then
  runuser -u "$user" -- pgbouncer "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 &
else
  pgbouncer "$bdir/pgbouncer.ini" >"$bdir/stdout.log" 2>&1 &
fi
track $!
bouncer=postgresql://herald@127.0.0.1:$bouncer_port/herald
for _ in {1..50}; do psql -X -q -t -A "$bouncer" -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
[[ $(psql -X -q -t -A "$bouncer" -c 'SHOW statement_timeout') == 5s ]] ||
  fail "PgBouncer does not answer on $bouncer_port (or the role setting is missing): $(tail -n 5 "$bdir/pgbouncer.log")"
say "PgBouncer $(pgbouncer --version | head -n1 | awk '{print $2}') on :$bouncer_port, transaction pooling, in front of PostgreSQL :$HERALD_PG_PORT"

# ---------------------------------------------------------------- the integration tests
export HERALD_DATABASE_URL=$bouncer HERALD_TEST_STACK_SCRIPT=$STACK HERALD_STACK_DIR=$SCALE_DIR/stack
# no prepared statements through PgBouncer 1.18 (it loses them between transactions).
export HERALD_DB_PREPARED_STATEMENTS=false
# the API's LISTEN (users' profile copies) goes to PostgreSQL itself, as docs/operations.md says.
export HERALD_DATABASE_LISTEN_URL=$pg_direct
t0=$SECONDS
set +e
ctest --test-dir "$BUILD" -R "$regex" -E "$exclude" --output-on-failure >"$SCALE_DIR/ctest.log" 2>&1
rc=$?
set -e
summary=$(grep -E 'tests passed|tests failed' "$SCALE_DIR/ctest.log" | tail -n1)
say "tests $regex through PgBouncer ($((SECONDS - t0)) s, $exclude left out): $summary"
if ((rc != 0)); then
  grep -E '\*\*\*Failed|Failed  |\(Failed\)|\(Timeout\)' "$SCALE_DIR/ctest.log" >&2 || true
  fail "integration tests failed through PgBouncer (log: $SCALE_DIR/ctest.log)"
fi

# ---------------------------------------------------------------- load through PgBouncer
port=$(free_port)
api_start api "$port" HERALD_AUTH_RATE_LIMIT=1000000 HERALD_HTTP_THREADS=32 HERALD_DB_POOL_SIZE=32
prefix=pb$$
register_users "$prefix" 10 "http://127.0.0.1:$port"
rows() { psql -X -q -t -A "$pg_direct" -c "SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'"; }
before=$(rows)
SCALE_PREFIX=$prefix SCALE_USERS=10 wrk -t2 -c64 -d10s --latency -s "$ROOT/tests/scale/reset.lua" \
  "http://127.0.0.1:$port" >"$SCALE_DIR/wrk.txt" 2>&1
out=$(grep -E '^statuses' "$SCALE_DIR/wrk.txt")
pools=$(psql -X -q -t -A -F' ' "postgresql://herald@127.0.0.1:$bouncer_port/pgbouncer" -c 'SHOW POOLS' | grep '^herald ')
say "load: $(grep -E '^(statuses|latency|Requests/sec)' "$SCALE_DIR/wrk.txt" | tr '\n' ' ')"
say "SHOW POOLS (database user cl_active cl_waiting ... sv_active sv_idle sv_used ...): $pools"
others=$(grep -oE ' [0-9]{3}=[0-9]+' <<<"$out" | grep -v ' 202=' || true)
[[ -z $others ]] || fail "statuses other than 202 through PgBouncer: $others"
ok=$(grep -oE ' 202=[0-9]+' <<<"$out" | cut -d= -f2)
open=$(grep -oE ' unanswered=[0-9]+' <<<"$out" | cut -d= -f2)
added=$(($(rows) - before))
((added >= ok && added - ok <= open)) || fail "$added rows for $ok accepted requests"
servers=$(psql -X -q -t -A "$pg_direct" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'herald' AND backend_type = 'client backend'")
say "$ok requests accepted = $added rows; PostgreSQL saw $servers client sessions for 32 API connections + the sweeper"

# ---------------------------------------------------------------- workers through PgBouncer,
# across a PostgreSQL restart (what reliability_restart checks on a direct connection)
if [[ -x $BIN/herald-email ]]; then
  scope="FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%' AND d.channel = 'email'"
  total=$(psql -X -q -t -A "$pg_direct" -c "SELECT count(*) $scope")
  for k in 1 2; do
    env HERALD_EMAIL_OUTBOX_DIR="$SCALE_DIR/outbox" HERALD_WORKER_HEARTBEAT_TTL_MS=2000 \
      HERALD_WORKER_REAP_INTERVAL_MS=500 HERALD_WORKER_SWEEP_INTERVAL_S=2 HERALD_WORKER_STALE_AFTER_S=10 \
      "$BIN/herald-email" --concurrency 4 >>"$SCALE_DIR/herald-email-$k.log" 2>&1 &
    track $!
  done
  sleep 3
  done_before=$(psql -X -q -t -A "$pg_direct" -c "SELECT count(*) $scope AND d.status = 'sent'")
  "$STACK" stop-service postgres --dir "$SCALE_DIR/stack" >/dev/null
  sleep 3
  "$STACK" start-service postgres --dir "$SCALE_DIR/stack" >/dev/null
  say "2 herald-email workers through PgBouncer: PostgreSQL restarted after $done_before of $total jobs"
  deadline=$((SECONDS + 240))
  while :; do
    sent=$(psql -X -q -t -A "$pg_direct" -c "SELECT count(*) $scope AND d.status = 'sent'")
    ((sent == total || SECONDS >= deadline)) && break
    sleep 2
  done
  ((done_before < total)) || say "NOTE: the workers had finished before the restart"
  ((sent == total)) ||
    fail "$((total - sent)) of $total e-mail jobs not sent: $(psql -X -q -t -A "$pg_direct" -c "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT d.status, count(*) n $scope GROUP BY 1) s")"
  say "all $total e-mail jobs sent through PgBouncer across the PostgreSQL restart"
else
  say "skipped: workers not built ($BIN/herald-email is missing)"
fi
say "passed"
