#!/usr/bin/env bash
# Two herald-api instances behind nginx (deploy/nginx.conf) on one PostgreSQL and one Redis,
# under wrk load of password-reset requests (each accepted one commits a delivery row and
# pushes its id to Redis after the commit):
#   phase 1: instance A gets SIGTERM mid-load (drains, exits 0), then starts again;
#            expected: every answer 202, no client error, rows == 202s (+ at most the requests
#            still in flight when wrk stopped, "unanswered"), all ids in Redis.
#   phase 2: instance B gets SIGKILL mid-load, then starts again;
#            expected: only 202 or 502 (requests in flight on B), rows - 202s <= 502s +
#            unanswered (a killed request may have committed), no other status, and every
#            committed id in Redis but those of requests B took down with it.
#   SCALE_DURATION (s, default 20 per phase), SCALE_CONNECTIONS (default 32).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk nginx curl psql redis-cli
duration=${SCALE_DURATION:-20}
conns=${SCALE_CONNECTIONS:-32}
users=20
prefix=fo$$

stack_start
port_a=$(free_port) port_b=$(free_port) port_lb=$(free_port)
api_env=(HERALD_AUTH_RATE_LIMIT=1000000 HERALD_HTTP_THREADS=8 HERALD_TRUSTED_PROXIES=127.0.0.1)
# The API's sweeper re-pushes deliveries whose id Redis never got (a kill between COMMIT and
# LPUSH): made quick here, so the test can wait for it.
sweeper=0
if [[ $("$BIN/herald-api" config) == *HERALD_SWEEP_STALE_S* ]]; then
  sweeper=1
  api_env+=(HERALD_SWEEP_INTERVAL_S=2 HERALD_SWEEP_STALE_S=15)
fi
api_start api-a "$port_a" "${api_env[@]}"
pid_a=$API_PID
api_start api-b "$port_b" "${api_env[@]}"
pid_b=$API_PID
nginx_start "$port_lb" "$port_a" "$port_b"
lb=http://127.0.0.1:$port_lb
say "PostgreSQL, Redis, api-a :$port_a, api-b :$port_b, nginx :$port_lb"
register_users "$prefix" "$users" "$lb"

rows() { psql_q "SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'"; }
redis_cli() { redis-cli -h 127.0.0.1 -p "$HERALD_REDIS_PORT" "$@"; }
count_of() { grep -oE " $1=[0-9]+" <<<"$2" | cut -d= -f2 | head -n1 || true; }

start_wrk() { # start_wrk NAME: wrk for $duration s in the background; sets WRK_PID
  SCALE_PREFIX=$prefix SCALE_USERS=$users wrk -t2 -c"$conns" -d"${duration}s" --latency \
    -s "$ROOT/tests/scale/reset.lua" "$lb" >"$SCALE_DIR/wrk-$1.txt" 2>&1 &
  WRK_PID=$!
  track "$WRK_PID"
}
finish_wrk() { # finish_wrk NAME: waits for wrk, prints its summary, sets OUT to the statuses line
  wait "$WRK_PID" || fail "wrk failed: $(cat "$SCALE_DIR/wrk-$1.txt")"
  say "$1: $(grep -E '^(statuses|latency|Requests/sec)' "$SCALE_DIR/wrk-$1.txt" | tr '\n' ' ')"
  OUT=$(grep -E '^statuses' "$SCALE_DIR/wrk-$1.txt")
}

# ---------------------------------------------------------------- phase 1: SIGTERM
before=$(rows)
start_wrk sigterm
sleep 5
say "SIGTERM api-a (pid $pid_a)"
t0=$SECONDS
kill -TERM "$pid_a"
rc=0
wait "$pid_a" || rc=$?
[[ $rc == 0 ]] || fail "api-a exited $rc after SIGTERM (expected 0)"
say "api-a drained and exited 0 in $((SECONDS - t0)) s"
sleep $((duration / 2 - 5 - (SECONDS - t0) > 0 ? duration / 2 - 5 - (SECONDS - t0) : 0))
say "starting api-a again"
api_start api-a "$port_a" "${api_env[@]}"
pid_a=$API_PID
finish_wrk sigterm
out=$OUT
ok=$(count_of 202 "$out")
added=$(($(rows) - before))
others=$(grep -oE ' [0-9]{3}=[0-9]+' <<<"$out" | grep -v ' 202=' || true)
say "phase 1: $ok answers 202, $added delivery rows, other statuses: ${others:-none}, $(count_of unanswered "$out") unanswered at the end"
[[ -z $others ]] || fail "phase 1: statuses other than 202: $others"
[[ $out == *"connect=0 read=0 write=0 timeout=0"* ]] || fail "phase 1: client socket errors: $out"
((ok > 0)) || fail "phase 1: no request accepted"
open=$(count_of unanswered "$out")
((added >= ok && added - ok <= open)) || fail "phase 1: $added rows for $ok accepted requests ($open unanswered)"

# ---------------------------------------------------------------- phase 2: SIGKILL
before=$(rows)
start_wrk sigkill
sleep 5
say "SIGKILL api-b (pid $pid_b)"
kill -KILL "$pid_b"
sleep $((duration / 2 - 5))
say "starting api-b again"
api_start api-b "$port_b" "${api_env[@]}"
pid_b=$API_PID
finish_wrk sigkill
out=$OUT
ok=$(count_of 202 "$out")
bad=$(count_of 502 "$out")
bad=${bad:-0}
added=$(($(rows) - before))
others=$(grep -oE ' [0-9]{3}=[0-9]+' <<<"$out" | grep -vE ' (202|502)=' || true)
say "phase 2: $ok answers 202, $bad answers 502, $added delivery rows, other statuses: ${others:-none}, $(count_of unanswered "$out") unanswered at the end"
[[ -z $others ]] || fail "phase 2: statuses other than 202/502: $others"
open=$(count_of unanswered "$out")
((added >= ok && added - ok <= bad + open)) || fail "phase 2: $added rows for $ok accepted and $bad failed requests"

# ---------------------------------------------------------------- every committed id is in Redis
missing_ids() {
  psql_q "SELECT d.id FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'" |
    sort >"$SCALE_DIR/pg-ids.txt"
  redis_cli LRANGE 'herald:q:{email}' 0 -1 | sort -u >"$SCALE_DIR/redis-ids.txt"
  comm -23 "$SCALE_DIR/pg-ids.txt" "$SCALE_DIR/redis-ids.txt" | wc -l
}
missing=$(missing_ids)
say "$(wc -l <"$SCALE_DIR/pg-ids.txt") delivery rows in PostgreSQL, $missing of them not (yet) in herald:q:{email}"
# A SIGKILL between COMMIT and LPUSH leaves a row queued without its id: the sweeper's case.
((missing <= bad + open)) || fail "$missing committed deliveries are not in Redis"
if ((sweeper)); then
  deadline=$((SECONDS + 60))
  while ((missing > 0 && SECONDS < deadline)); do sleep 2; missing=$(missing_ids); done
  ((missing == 0)) || fail "the sweeper did not re-push $missing deliveries within 60 s"
  say "after the sweeper: every committed delivery id is in herald:q:{email}"
else
  say "NOTE: this herald-api has no sweeper (HERALD_SWEEP_*): $missing ids left to it"
fi
say "passed"
