#!/usr/bin/env bash
# Drain benchmark of the workers: how fast one herald-email empties herald:q:{email} into a local
# SMTP server (and into the fake SendGrid-style mail API), one herald-push herald:q:{push} into the
# fake FCM, and one herald-sms herald:q:{sms} into the fake Vonage-style SMS API, for N jobs at
# several --concurrency values,
# with the worker's peak RSS (/usr/bin/time -v).
#
#   bench/workers_drain.sh [--jobs 50000] [--concurrency "1 2 4"] [--build build] [--out FILE]
#                          [--only email|email-api|push|sms] [--env VAR=VALUE]... [--failover]
#                          [--perf DIR]
#                          [--pgss] [--provider-delay MS]
#
# --build (or HERALD_BENCH_BUILD) is the build directory, relative to the repository or absolute;
# HERALD_BENCH_FAKES the directory of the fakes (default tests/fakes). Every option is checked
# before anything starts (exit 2 with a message): --jobs 1-99999999, --concurrency thread counts
# 1-256, --only email, email-api, push or sms, --env VAR=VALUE. email is herald-email through SMTP,
# email-api herald-email through its SendGrid-style provider (HERALD_EMAIL_PROVIDERS=sendgrid,
# tests/fakes/fake_sendgrid.py), which sends a window of requests at once as SMS and push do.
# --perf DIR records each worker run with `perf record -g` into DIR/<worker>-c<C>.perf (build
# with -g -fno-omit-frame-pointer for readable stacks; perf costs the worker some CPU).
# --pgss loads pg_stat_statements into the throw-away stack's PostgreSQL (a restart) and writes,
# under each run's row, the statements of that run per job (calls, planning and execution us).
# --env adds a variable to every worker run (e.g. --env HERALD_WORKER_BATCH=1 for the old loop).
# --provider-delay MS has fake_fcm.py, fake_vonage.py, fake_sendgrid.py and fake_smtp.py answer
# every request MS ms
# late (0-10000; their /_fake/delay), as a provider across the internet does; smtp-sink is not
# delayed.
# --failover adds e-mail runs with ordered providers (HERALD_EMAIL_PROVIDERS=smtp,sendgrid, circuit
# breakers on): SMTP healthy (every job through fake_smtp.py, the breaker checked and reported
# in Redis on each call), then SMTP down (its port closed: a few calls refused until the breaker
# opens, every job delivered through tests/fakes/fake_sendgrid.py).
# The latency columns are enqueue -> sent (deliveries.sent_at - created_at) over the run's rows:
# every job is queued before the worker starts, so they measure the drain order as much as the
# per-job cost.
#
# Each run: N fresh users, notifications and queued deliveries are inserted in PostgreSQL and
# their ids LPUSHed; then `herald-<worker> --once --concurrency C --log-level warning` is timed
# until it exits (the queue is empty) and every row is checked to be 'sent'.
# SMTP servers: Postfix's smtp-sink when /usr/sbin/smtp-sink exists (apt-get install postfix;
# the service need not run), and always tests/fakes/fake_smtp.py --ids-only. smtp-source is run
# against smtp-sink first, as the ceiling of the sink itself.
# Stack: the one in the environment (HERALD_DATABASE_URL, HERALD_REDIS_URL) if set, else a
# throw-away one in var/bench-workers (stopped and deleted at the end).
set -euo pipefail
COMMAND=bench/workers_drain.sh # for the report, quoted to run again, before the options are read
for a in "$@"; do printf -v COMMAND '%s %q' "$COMMAND" "$a"; done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=50000
CONCURRENCY="1 2 4"
BUILD=${HERALD_BENCH_BUILD:-build}
ONLY=""
FAILOVER=0
PERF_DIR=""
PGSS=0
EXTRA_ENV=()
DELAY_MS=0
usage() {
  echo "usage: $0 [--jobs N] [--concurrency \"1 2 4\"] [--build DIR] [--out FILE] [--only email|email-api|push|sms] [--env VAR=VALUE] [--failover] [--perf DIR] [--pgss] [--provider-delay MS]" >&2
  exit 2
}
OUT=$ROOT/bench/results/workers-drain-$(date -u +%Y%m%d-%H%M%S).md
# bad: a message and exit 2, before anything is started
bad() { echo "bench/workers_drain.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --failover) FAILOVER=1; shift; continue ;;
    --pgss) PGSS=1; shift; continue ;;
    --jobs | --concurrency | --build | --out | --only | --env | --perf | --provider-delay)
      [[ $# -ge 2 ]] || usage ;;
    *) usage ;;
  esac
  case $1 in
    --jobs) JOBS=$2 ;;
    --concurrency) CONCURRENCY=$2 ;;
    --build) BUILD=$2 ;;
    --out) OUT=$2 ;;
    --only) ONLY=$2 ;;
    --env) EXTRA_ENV+=("$2") ;;
    --perf) PERF_DIR=$2 ;;
    --provider-delay) DELAY_MS=$2 ;;
  esac
  shift 2
done
[[ $JOBS =~ ^[1-9][0-9]{0,7}$ ]] || bad "--jobs: a number of jobs from 1 to 99999999, not '$JOBS'"
read -r -a conc_list <<<"$CONCURRENCY"
((${#conc_list[@]} > 0)) || bad "--concurrency: one or more thread counts from 1 to 256"
for c in "${conc_list[@]}"; do
  if ! [[ $c =~ ^[1-9][0-9]{0,2}$ ]] || ((c > 256)); then
    bad "--concurrency: thread counts from 1 to 256, not '$c'"
  fi
done
[[ -z $ONLY || $ONLY == email || $ONLY == email-api || $ONLY == push || $ONLY == sms ]] ||
  bad "--only: email, email-api, push or sms, not '$ONLY'"
for e in "${EXTRA_ENV[@]}"; do
  [[ $e =~ ^[A-Z_][A-Z0-9_]*= ]] || bad "--env: VAR=VALUE, not '$e'"
done
[[ -n $BUILD && -n $OUT ]] || bad "--build and --out need a path"
if ! [[ $DELAY_MS =~ ^[0-9]{1,5}$ ]] || ((10#$DELAY_MS > 10000)); then
  bad "--provider-delay: milliseconds from 0 to 10000, not '$DELAY_MS'"
fi
DELAY_MS=$((10#$DELAY_MS))
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
BIN=$BUILD/bin
PY=/usr/bin/python3
FAKES=${HERALD_BENCH_FAKES:-$ROOT/tests/fakes}
tmp=$(mktemp -d /tmp/herald-bench-XXXXXX)
pids=()
stack_dir=""

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done # gone before a next run
  [[ -n $stack_dir ]] && scripts/stack.sh stop --purge --dir "$stack_dir" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

say() { echo "bench: $*" >&2; }

if [[ -z ${HERALD_DATABASE_URL:-} || -z ${HERALD_REDIS_URL:-} ]]; then
  stack_dir=$ROOT/var/bench-workers
  scripts/stack.sh start --ephemeral --dir "$stack_dir" >/dev/null
  # shellcheck disable=SC1091
  . "$stack_dir/stack.env"
  # Same-host PostgreSQL through its Unix socket (BENCH_PG_SOCKET=0: loopback TCP, as the tests).
  if [[ ${BENCH_PG_SOCKET:-1} == 1 ]]; then
    export HERALD_DATABASE_URL="postgresql://herald@/herald?host=$HERALD_PG_HOME/run&port=$HERALD_PG_PORT"
  fi
fi
if [[ $PGSS == 1 ]]; then
  [[ -n $stack_dir ]] || { echo "--pgss needs the throw-away stack (HERALD_DATABASE_URL unset)" >&2; exit 2; }
  psql "$HERALD_DATABASE_URL" -X -q -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  scripts/stack.sh stop-service postgres --dir "$stack_dir" >/dev/null
  scripts/stack.sh start-service postgres --dir "$stack_dir" >/dev/null
  psql "$HERALD_DATABASE_URL" -X -q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
    -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" >/dev/null
fi
redis_port=${HERALD_REDIS_URL##*:}
redis_port=${redis_port%%/*}
psql_q() { psql "$HERALD_DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
rcli() { redis-cli -p "$redis_port" "$@"; }
"$BIN/herald-api" migrate >/dev/null

# start_fake SCRIPT ARGS...: starts a fake, sets fake_port/fake_control from its READY line.
start_fake() {
  local script=$1 out=$tmp/fake.$RANDOM
  shift
  mkfifo "$out"
  "$PY" "$FAKES/$script" "$@" >"$out" 2>"$tmp/$script.log" &
  pids+=("$!")
  server_pid=$!
  read -r _ fake_port fake_control <"$out"
  if ((DELAY_MS > 0)); then
    curl -sf -o /dev/null -X POST -d "{\"ms\":$DELAY_MS}" \
      "http://127.0.0.1:${fake_control:-$fake_port}/_fake/delay"
  fi
}

# seed CHANNEL N: inserts N jobs (push: one device each; sms: a phone number each) and pushes
# their ids.
seed() {
  local channel=$1 n=$2 devices=0 phone=NULL
  [[ $channel == push ]] && devices=1
  [[ $channel == sms ]] && phone="'+1555' || lpad(g::text, 7, '0')"
  rcli DEL "herald:q:{$channel}" "herald:delayed:{$channel}" >/dev/null
  psql_q "UPDATE deliveries SET status = 'skipped', reason = 'bench_reset' WHERE channel = '$channel'
          AND status IN ('queued', 'scheduled', 'processing')" >/dev/null
  tag=bench-$RANDOM$RANDOM
  psql_q "WITH u AS (INSERT INTO users (email, password_hash, name, phone)
            SELECT 'bench-' || gen_random_uuid() || '@example.com', 'x', 'Bench ' || g, $phone
            FROM generate_series(1, $n) g RETURNING id),
          d AS (INSERT INTO devices (user_id, token, platform)
            SELECT u.id, 'bench-' || gen_random_uuid(), 'android' FROM u, generate_series(1, $devices)),
          no AS (INSERT INTO notifications (user_id, category, title, body)
            SELECT id, '$tag', 'Benchmark', 'A message of a realistic length for a notification body.'
            FROM u RETURNING id, user_id)
          INSERT INTO deliveries (notification_id, user_id, channel, status)
            SELECT id, user_id, '$channel', 'queued' FROM no RETURNING id" >"$tmp/ids"
  xargs -n 1000 redis-cli -p "$redis_port" LPUSH "herald:q:{$channel}" <"$tmp/ids" >/dev/null
}

# cpu_of PID: CPU seconds of a local process and of its reaped children (PostgreSQL's
# backends are children of the postmaster); 0 when it is not local.
cpu_of() {
  [[ -n ${1:-} && -r /proc/$1/stat ]] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}
port_pid() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
# The port of the URL: "...?host=/socket/dir&port=N" (Unix socket) or "...@host:N/db".
if [[ $HERALD_DATABASE_URL == *port=* ]]; then
  pg_port=${HERALD_DATABASE_URL##*port=}
  pg_port=${pg_port%%&*}
else
  pg_port=${HERALD_DATABASE_URL##*:}
  pg_port=${pg_port%%/*}
fi
pg_pid=$(port_pid "$pg_port")
redis_pid=$(port_pid "$redis_port")
server_pid=""

# drain WORKER CONCURRENCY ENV...: times one --once run; prints "jobs/s rss_mb seconds p50_ms p99_ms
# cpu_s pg_us server_us" (cpu_s: the worker's user + system CPU seconds; pg_us / server_us:
# CPU microseconds per job of PostgreSQL + Redis / of the provider's server, server_pid).
drain() {
  local worker=$1 c=$2 channel=${1#herald-}
  shift 2
  local pg0 srv0
  pg0=$(echo "$(cpu_of "$pg_pid") + $(cpu_of "$redis_pid")" | bc)
  srv0=$(cpu_of "$server_pid")
  [[ $PGSS == 1 ]] && psql_q "SELECT pg_stat_statements_reset()" >/dev/null
  local perf=()
  [[ -n $PERF_DIR ]] && mkdir -p "$PERF_DIR" && perf=(perf record -q -F 999 -g -o "$PERF_DIR/$worker-c$c.perf" --)
  env "$@" "${EXTRA_ENV[@]}" /usr/bin/time -v -o "$tmp/time" "${perf[@]}" "$BIN/$worker" --once --concurrency "$c" \
    --log-level warning 2>"$tmp/worker.log" || { tail -5 "$tmp/worker.log" >&2; return 1; }
  local secs rss sent
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tmp/time")
  sent=$(psql_q "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                 WHERE n.category = '$tag' AND d.status = 'sent'")
  [[ $sent == "$JOBS" ]] || say "warning: only $sent of $JOBS $channel jobs sent"
  local lat cpu pg srv
  pg=$(echo "($(cpu_of "$pg_pid") + $(cpu_of "$redis_pid") - $pg0) * 1000000 / $JOBS" | bc)
  srv=$(echo "($(cpu_of "$server_pid") - $srv0) * 1000000 / $JOBS" | bc)
  lat=$(psql_q "SELECT round(1000 * extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY d.sent_at - d.created_at))),
                       round(1000 * extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY d.sent_at - d.created_at)))
                FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                WHERE n.category = '$tag' AND d.status = 'sent'" | tr '|' ' ')
  cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tmp/time")
  awk -v n="$JOBS" -v s="$secs" -v r="$rss" -v l="$lat" -v c="$cpu" -v p="$pg" -v v="$srv" \
    'BEGIN { printf "%.0f %s %.2f %s %s %s %s\n", n / s, r, s, l, c, p, v }'
}

row() { # row LABEL CONCURRENCY "jobs/s rss secs p50 p99 cpu pg_us server_us" [CEILING msg/s]
  local rate rss secs p50 p99 cpu pg srv ratio=-
  read -r rate rss secs p50 p99 cpu pg srv <<<"$3"
  [[ -n ${4:-} ]] && ratio=$(awk -v r="$rate" -v c="$4" 'BEGIN { printf "%.3f", r / c }')
  local per_job
  per_job=$(awk -v c="$cpu" -v n="$JOBS" 'BEGIN { printf "%.0f", c * 1000000 / n }')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$rate" "$ratio" "$secs" \
    "$p50" "$p99" "$per_job" "$pg" "$srv" "$rss" | tee -a "$OUT"
  [[ $PGSS == 1 ]] && statements | tee -a "$OUT"
  return 0
}

# statements: the run's statements (pg_stat_statements, reset as it started) per job, busiest
# first, as lines under its row.
statements() {
  psql_q "SELECT '  ' || to_char(calls::numeric / $JOBS, 'FM990.000') || ' calls/job, plan '
            || to_char(total_plan_time * 1000 / $JOBS, 'FM99990.0') || ' us/job, exec '
            || to_char(total_exec_time * 1000 / $JOBS, 'FM99990.0') || ' us/job: '
            || left(regexp_replace(query, '\s+', ' ', 'g'), 100)
          FROM pg_stat_statements WHERE calls * 100 > $JOBS AND query NOT LIKE '%pg_stat_statements%'
          ORDER BY total_exec_time DESC LIMIT 8"
}

mkdir -p "$(dirname "$OUT")"
{
  echo "# Worker drain benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "$JOBS jobs per run, \`--once --log-level warning\`, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "PostgreSQL and Redis of scripts/stack.sh on the same machine. Command: \`$COMMAND\`."
  echo
} >"$OUT"

if [[ -x /usr/sbin/smtp-sink && ( -z $ONLY || $ONLY == email ) ]]; then
  sink_port=$((20000 + RANDOM % 10000))
  /usr/sbin/smtp-sink -u nobody "127.0.0.1:$sink_port" 512 &
  pids+=("$!")
  sink_pid=$!
  sleep 0.5
fi

# smtp_source: Postfix's smtp-source alone against the same smtp-sink (4 sessions, $JOBS
# messages), the ceiling of the sink; sets source_rate (msg/s) and prints it. Run right before
# each herald-email -> smtp-sink drain, so the ratio compares runs under the same machine load.
smtp_source() {
  local start secs
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -s 4 -m "$JOBS" -l 600 -f bench@herald.local -t to@example.com "127.0.0.1:$sink_port"
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  source_rate=$(echo "$JOBS / $secs" | bc -l)
  printf 'smtp-source -> smtp-sink: %s messages in %.2f s = %.0f msg/s\n' "$JOBS" "$secs" "$source_rate" >&2
  printf '| smtp-source -> smtp-sink (4 sessions) | - | %.0f | 1 | %.2f | - | - | - | - | - | - |\n' \
    "$source_rate" "$secs" | tee -a "$OUT"
}

echo "Worker environment: ${EXTRA_ENV[*]:-(defaults)}" | tee -a "$OUT"
((DELAY_MS == 0)) || echo "The fakes answer every request $DELAY_MS ms late (--provider-delay)." | tee -a "$OUT"
echo | tee -a "$OUT"
echo "| worker -> server | concurrency | jobs/s | x smtp-source | seconds | enqueue->sent p50 ms | p99 ms | worker CPU µs/job | PG+Redis CPU µs/job | server CPU µs/job | peak RSS MiB |" | tee -a "$OUT"
echo "|---|---|---|---|---|---|---|---|---|---|---|" | tee -a "$OUT"
if [[ -z $ONLY || $ONLY == email ]]; then
for c in $CONCURRENCY; do
  if [[ -n ${sink_port:-} ]]; then
    seed email "$JOBS"
    smtp_source
    server_pid=$sink_pid
    row "herald-email -> smtp-sink (Postfix)" "$c" "$(drain herald-email "$c" HERALD_EMAIL_PROVIDER=smtp \
      HERALD_SMTP_HOST=127.0.0.1 HERALD_SMTP_PORT="$sink_port")" "$source_rate"
  fi
done
start_fake fake_smtp.py --ids-only
for c in $CONCURRENCY; do
  seed email "$JOBS"
  row "herald-email -> fake_smtp.py" "$c" "$(drain herald-email "$c" HERALD_EMAIL_PROVIDER=smtp \
    HERALD_SMTP_HOST=127.0.0.1 HERALD_SMTP_PORT="$fake_port")"
done
if [[ $FAILOVER == 1 ]]; then
  smtp_port=$fake_port smtp_pid=$server_pid
  start_fake fake_sendgrid.py --ids-only
  sendgrid_pid=$server_pid
  sendgrid=(HERALD_EMAIL_PROVIDERS=smtp,sendgrid HERALD_SENDGRID_API_KEY=SG.fake-key
            HERALD_SENDGRID_BASE_URL="http://127.0.0.1:$fake_port" HERALD_SMTP_HOST=127.0.0.1)
  closed_port=$((30000 + RANDOM % 10000))
  for c in $CONCURRENCY; do
    rcli DEL "herald:cb:{email}:smtp" "herald:cb:{email}:sendgrid" >/dev/null
    seed email "$JOBS"
    server_pid=$smtp_pid
    row "herald-email -> fake_smtp.py (smtp,sendgrid; breakers on)" "$c" \
      "$(drain herald-email "$c" "${sendgrid[@]}" HERALD_SMTP_PORT="$smtp_port")"
    rcli DEL "herald:cb:{email}:smtp" "herald:cb:{email}:sendgrid" >/dev/null
    seed email "$JOBS"
    server_pid=$sendgrid_pid
    row "herald-email -> fake_sendgrid.py (smtp,sendgrid; SMTP down)" "$c" \
      "$(drain herald-email "$c" "${sendgrid[@]}" HERALD_SMTP_PORT="$closed_port")"
    echo "  breaker of smtp after the run: $(rcli HGET 'herald:cb:{email}:smtp' state)," \
      "opened $(rcli HGET 'herald:cb:{email}:smtp' opened) time(s)" | tee -a "$OUT"
  done
fi

fi
if [[ -z $ONLY || $ONLY == email-api ]]; then
start_fake fake_sendgrid.py --ids-only
for c in $CONCURRENCY; do
  rcli DEL "herald:cb:{email}:sendgrid" >/dev/null # a breaker a run before left open
  seed email "$JOBS"
  row "herald-email -> fake_sendgrid.py (sendgrid)" "$c" "$(drain herald-email "$c" \
    HERALD_EMAIL_PROVIDERS=sendgrid HERALD_SENDGRID_API_KEY=SG.fake-key \
    HERALD_SENDGRID_BASE_URL="http://127.0.0.1:$fake_port")"
done
fi
if [[ -z $ONLY || $ONLY == push ]]; then
openssl genrsa -out "$tmp/sa.pem" 2048 2>/dev/null
openssl rsa -in "$tmp/sa.pem" -pubout -out "$tmp/sa.pub" 2>/dev/null
start_fake fake_fcm.py --public-key "$tmp/sa.pub" --ids-only
"$PY" - "$tmp/sa.pem" "$fake_port" "$tmp/sa.json" <<'EOF'
import json, sys
key, port, out = sys.argv[1:]
json.dump({"type": "service_account", "project_id": "herald-test", "private_key_id": "bench",
           "private_key": open(key).read(), "client_email": "bench@herald-test.iam.example",
           "token_uri": "http://127.0.0.1:%s/token" % port}, open(out, "w"))
EOF
for c in $CONCURRENCY; do
  seed push "$JOBS"
  row "herald-push -> fake_fcm.py" "$c" "$(drain herald-push "$c" HERALD_PUSH_PROVIDER=fcm \
    HERALD_FCM_BASE_URL="http://127.0.0.1:$fake_port" HERALD_FCM_CREDENTIALS_FILE="$tmp/sa.json")"
done
fi
if [[ -z $ONLY || $ONLY == sms ]]; then
start_fake fake_vonage.py --ids-only
for c in $CONCURRENCY; do
  seed sms "$JOBS"
  row "herald-sms -> fake_vonage.py" "$c" "$(drain herald-sms "$c" HERALD_SMS_PROVIDERS=vonage \
    HERALD_VONAGE_BASE_URL="http://127.0.0.1:$fake_port" HERALD_VONAGE_API_KEY=vkey \
    HERALD_VONAGE_API_SECRET=vsecret HERALD_SMS_FROM=+15005550006)"
done
fi
say "results in $OUT"
