#!/usr/bin/env bash
# Measures the figures of docs/scaling.md's capacity model on this machine and prints them as
# Markdown (redirect into bench/results/): per accepted notification and per job, the CPU time
# of herald-api and of each worker, PostgreSQL commits and Redis commands.
#   scripts/scale-measure.sh [N]   N notifications per measurement (default 5000)
# The API's background passes are off while measuring (HERALD_SWEEP_INTERVAL_S=0,
# HERALD_FANOUT_POLL_MS=0) so that the counts are the requests' own.
set -euo pipefail
N=${1:-5000}
export HERALD_SCALE_DIR=${HERALD_SCALE_DIR:-$(mktemp -d /tmp/herald-measure.XXXXXX)}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/scale/lib.sh"
need wrk curl psql redis-cli jq
stack_start
port=$(free_port)
# Payments go to the fake Stripe of tests/fakes (when it is there): its own CPU is not counted.
stripe_env=()
if [[ -f $ROOT/tests/fakes/fake_stripe.py ]]; then
  stripe_port=$(free_port)
  /usr/bin/python3 "$ROOT/tests/fakes/fake_stripe.py" --port "$stripe_port" --quiet >"$SCALE_DIR/stripe.log" 2>&1 &
  track $!
  stripe_env=(HERALD_STRIPE_API_BASE="http://127.0.0.1:$stripe_port" HERALD_STRIPE_SECRET_KEY=sk_test_measure)
  for _ in {1..50}; do port_busy "$stripe_port" && break; sleep 0.1; done
fi
api_start api "$port" HERALD_AUTH_RATE_LIMIT=1000000 HERALD_RATE_LIMIT_WRITE_USER=100000000 HERALD_RATE_LIMIT_WRITE_IP=100000000 HERALD_RATE_LIMIT_READ_USER=100000000 HERALD_RATE_LIMIT_READ_IP=100000000 HERALD_RATE_LIMIT_SERVICE=100000000 HERALD_SWEEP_INTERVAL_S=0 HERALD_FANOUT_POLL_MS=0 "${stripe_env[@]}"
api_pid=$API_PID
api=http://127.0.0.1:$port
outbox=$SCALE_DIR/outbox

cpu_ms() { awk '{ printf "%d", ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
pg_cpu_ms() { # the PostgreSQL cluster: postmaster (with its reaped children) + live backends
  local pm kids
  pm=$(head -n1 "$HERALD_PG_HOME/data/postmaster.pid")
  kids=$(pgrep -P "$pm" | sed 's|.*|/proc/&/stat|' | tr '\n' ' ')
  # shellcheck disable=SC2086
  cat "/proc/$pm/stat" $kids 2>/dev/null | awk -v t="$tck" -v pm="$pm" \
    '{ s += $14 + $15; if ($1 == pm) s += $16 + $17 } END { printf "%d", s * 1000 / t }'
}
redis_cpu_ms() { cpu_ms "$(cat "$HERALD_STACK_DIR/redis/redis.pid")"; }
commits() { psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'herald'"; }
rcmds() { redis-cli -p "$HERALD_REDIS_PORT" INFO stats | sed -nE 's/^total_commands_processed:([0-9]+).*/\1/p'; }

# An admin, its API key, one user with a phone and a device.
post_json "$api/api/v1/auth/register" '{"email":"m-admin@scale.test","password":"Measure-admin-pw-1"}' >/dev/null
psql_q "UPDATE users SET role = 'admin' WHERE email = 'm-admin@scale.test'" >/dev/null
tok=$(post_json "$api/api/v1/auth/login" '{"email":"m-admin@scale.test","password":"Measure-admin-pw-1"}' | cut -d' ' -f2- | jq -r .access_token)
key=$(curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d '{"name":"measure"}' "$api/api/v1/admin/api-keys" | jq -r .secret)
post_json "$api/api/v1/auth/register" '{"email":"m-user@scale.test","password":"Measure-user-pw-1","phone":"+14155550100"}' >/dev/null
utok=$(post_json "$api/api/v1/auth/login" '{"email":"m-user@scale.test","password":"Measure-user-pw-1"}' | cut -d' ' -f2- | jq -r .access_token)
uid=$(curl -s -H "Authorization: Bearer $utok" "$api/api/v1/users/me" | jq -r .id)
curl -s -o /dev/null -H "Authorization: Bearer $utok" -H 'Content-Type: application/json' \
  -d '{"token":"measure-device","platform":"android"}' "$api/api/v1/devices"

echo "# Capacity figures ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB. N = $N per row. herald-api: HERALD_HTTP_THREADS=${HERALD_HTTP_THREADS:-0 (twice the CPUs online, 4 to 64)};"
echo "workers: --concurrency 4, file providers (no network: the cost of Herald itself, not of a provider)."
echo "CPU = user + system time of that process per item. Commits = pg_stat_database.xact_commit;"
echo "Redis = total_commands_processed (both include the few background queries of the run)."
echo
echo "| step | items/s (wall) | CPU ms per item | PG transactions per item | Redis commands per item | PostgreSQL CPU ms per item | Redis CPU ms per item |"
echo "|---|---|---|---|---|---|---|"

notifications() { psql_q "SELECT count(*) FROM notifications WHERE category = 'scale'"; }
row() { # row LABEL N SECONDS CPU_MS COMMITS REDIS PG_CPU_MS REDIS_CPU_MS
  awk -v l="$1" -v n="$2" -v t="$3" -v c="$4" -v p="$5" -v r="$6" -v pc="$7" -v rc="$8" \
    'BEGIN { printf "| %s | %.0f | %.3f | %.2f | %.2f | %.3f | %.3f |\n", l, n / t, c / n, p / n, r / n, pc / n, rc / n }'
}
# api_row LABEL CHANNELS: about N notifications on CHANNELS through wrk
api_row() {
  local c0 r0 p0 t0 n0 w
  n0=$(notifications) c0=$(cpu_ms "$api_pid") r0=$(rcmds) p0=$(commits) t0=$(date +%s.%N)
  local g0 k0
  g0=$(pg_cpu_ms) k0=$(redis_cpu_ms)
  SCALE_USER_IDS=$uid SCALE_TOKEN=$key SCALE_CHANNELS=$2 \
    wrk -t2 -c16 -d600s -s "$ROOT/tests/scale/notify.lua" "$api" >"$SCALE_DIR/wrk.txt" 2>&1 &
  w=$!
  while (($(notifications) < n0 + N)); do sleep 0.1; done
  kill -INT "$w" 2>/dev/null || true
  wait "$w" || true
  sleep 0.5 # the last requests finish
  local t1 c1 r1 p1 n
  t1=$(date +%s.%N) c1=$(cpu_ms "$api_pid") r1=$(rcmds) p1=$(commits) n=$(($(notifications) - n0))
  row "$1" "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a - 0.5 }')" $((c1 - c0)) $((p1 - p0)) $((r1 - r0)) \
    $(($(pg_cpu_ms) - g0)) $(($(redis_cpu_ms) - k0))
}
# worker_row KIND: drains the KIND queue with one worker --once
worker_row() {
  local c=0 r0 p0 t0 n w x
  n=$(redis-cli -p "$HERALD_REDIS_PORT" LLEN "herald:q:{$1}")
  r0=$(rcmds) p0=$(commits) t0=$(date +%s.%N)
  local g0 k0
  g0=$(pg_cpu_ms) k0=$(redis_cpu_ms)
  env HERALD_EMAIL_OUTBOX_DIR="$outbox/email" HERALD_SMS_OUTBOX_DIR="$outbox/sms" HERALD_PUSH_OUTBOX_DIR="$outbox/push" \
    "$BIN/herald-$1" --once --concurrency 4 --log-level warning >"$SCALE_DIR/$1.log" 2>&1 &
  w=$!
  while kill -0 "$w" 2>/dev/null; do x=$(cpu_ms "$w" 2>/dev/null) && c=$x; sleep 0.05; done
  wait "$w" || echo "($1 worker exited non-zero: see $SCALE_DIR/$1.log)" >&2
  local t1 r1 p1
  t1=$(date +%s.%N) r1=$(rcmds) p1=$(commits)
  row "herald-$1: one job (--once, 4 threads)" "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$c" $((p1 - p0)) $((r1 - r0)) $(($(pg_cpu_ms) - g0)) $(($(redis_cpu_ms) - k0))
}

api_row "herald-api: POST /notifications, e-mail only" email
worker_row email
api_row "herald-api: POST /notifications, e-mail + SMS + push" email,sms,push
worker_row email
worker_row sms
worker_row push
# payments_row: about N/5 POST /api/v1/payments (each creates a PaymentIntent at the fake Stripe)
payments_row() {
  local n0 c0 r0 p0 t0 g0 k0 w m=$((N / 5))
  count() { psql_q "SELECT count(*) FROM payments" || echo "count failed" >&2; }
  n0=$(count) c0=$(cpu_ms "$api_pid") r0=$(rcmds) p0=$(commits) t0=$(date +%s.%N) g0=$(pg_cpu_ms) k0=$(redis_cpu_ms)
  SCALE_PATH=/api/v1/payments SCALE_TOKEN=$utok SCALE_BODY='{"amount":2500,"currency":"usd","payment_type":"other"}' \
    wrk -t2 -c16 -d600s --latency -s "$ROOT/tests/scale/post.lua" "$api" >"$SCALE_DIR/wrk-pay.txt" 2>&1 &
  w=$!
  while (($(count) < n0 + m)); do sleep 0.1; kill -0 "$w" 2>/dev/null || break; done
  kill -INT "$w" 2>/dev/null || true
  wait "$w" || true
  sleep 0.5
  local t1 c1 r1 p1 n
  t1=$(date +%s.%N) c1=$(cpu_ms "$api_pid") r1=$(rcmds) p1=$(commits) n=$(($(count) - n0))
  ((n > 0)) || { echo "| herald-api: POST /payments | (no payment created: $(grep statuses "$SCALE_DIR/wrk-pay.txt")) |||||"; return; }
  row "herald-api: POST /payments (PaymentIntent at the fake Stripe)" "$n" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a - 0.5 }')" $((c1 - c0)) $((p1 - p0)) $((r1 - r0)) \
    $(($(pg_cpu_ms) - g0)) $(($(redis_cpu_ms) - k0))
  PAY_LATENCY=$(grep -E '^latency' "$SCALE_DIR/wrk-pay.txt")
}
if ((${#stripe_env[@]})); then
  payments_row
fi
echo
[[ -n ${PAY_LATENCY:-} ]] && echo "Payments through the fake Stripe (16 connections): $PAY_LATENCY"
psql_q "VACUUM ANALYZE" >/dev/null 2>&1 || true
echo "Storage after the run: $(psql_q "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) || ' in notifications, deliveries,
  delivery_events and audit_log = ' || (sum(pg_total_relation_size(c.oid)) / (SELECT count(*) FROM notifications))::int
  || ' bytes per notification (with its deliveries, their events and audit rows, indexes included)'
  FROM pg_class c WHERE c.relname IN ('notifications', 'deliveries', 'delivery_events', 'audit_log')")"
echo "Queue check after the drains: $(for q in email sms push; do printf '%s=%s ' "$q" "$(redis-cli -p "$HERALD_REDIS_PORT" LLEN "herald:q:{$q}")"; done)"
echo "Deliveries: $(psql_q "SELECT string_agg(channel || ':' || status || '=' || n, ' ') FROM (SELECT channel, status, count(*) n FROM deliveries GROUP BY 1, 2 ORDER BY 1, 2) s")"
