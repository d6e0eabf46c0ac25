#!/usr/bin/env bash
# Redis Sentinel: one primary, one replica, three sentinels on loopback. herald-api is given
# only the sentinels (HERALD_REDIS_SENTINELS + HERALD_REDIS_MASTER_NAME; the host:port of its
# HERALD_REDIS_URL points nowhere) and takes password-reset load (each accepted request
# commits a delivery row, then LPUSHes its id to herald:q:{email}) while
#   1. `SENTINEL FAILOVER` swaps the roles (the old primary becomes a replica: READONLY);
#   2. the new primary is SIGKILLed (the sentinels elect the other one).
# Expected: /readyz answers 200 again after each fail-over and writes land on the new primary;
# every answer is 202 (Redis trouble never fails a request whose rows committed); rows ==
# 202s (+ the requests in flight when wrk stopped); every committed id ends up in the list of
# the final primary (those the killed primary took with it are re-pushed by the sweeper).
# When the workers are built, four herald-email workers (file provider) configured with the
# same sentinels drain the jobs throughout, and every e-mail delivery of the run must end
# `sent`; otherwise that part reports "skipped: workers not built".
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need redis-server redis-cli wrk curl psql
SENTINEL_BIN=$(command -v redis-sentinel || true)
users=10
prefix=sn$$
master=herald

stack_start # PostgreSQL (its Redis is not used here)
rdir=$SCALE_DIR/redis
mkdir -p "$rdir"
p1=$(free_port) p2=$(free_port) s1=$(free_port) s2=$(free_port) s3=$(free_port) api_port=$(free_port)

redis_start() { # redis_start PORT [replicaof PORT]
  local port=$1 dir=$rdir/$1
  mkdir -p "$dir"
  {
    echo "port $port"; echo "bind 127.0.0.1"; echo "dir $dir"; echo "appendonly yes"
    echo "save \"\""; echo "maxmemory-policy noeviction"; echo "logfile $dir/redis.log"
    [[ -n ${2:-} ]] && echo "replicaof 127.0.0.1 $2"
  } >"$dir/redis.conf"
  redis-server "$dir/redis.conf" &
  track $!
  eval "pid_$port=$!"
  for _ in {1..50}; do [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && return; sleep 0.1; done
  fail "redis on $port did not start"
}
sentinel_start() { # sentinel_start PORT
  local port=$1 dir=$rdir/s$1
  mkdir -p "$dir"
  cat >"$dir/sentinel.conf" <<EOF
port $port
bind 127.0.0.1
dir $dir
logfile $dir/sentinel.log
sentinel monitor $master 127.0.0.1 $p1 2
sentinel down-after-milliseconds $master 1000
sentinel failover-timeout $master 10000
sentinel parallel-syncs $master 1
EOF
  if [[ -n $SENTINEL_BIN ]]; then "$SENTINEL_BIN" "$dir/sentinel.conf" &
  else redis-server "$dir/sentinel.conf" --sentinel & fi
  track $!
}
primary() { redis-cli -p "$s1" SENTINEL get-master-addr-by-name "$master" | sed -n 2p; }
role_of() { redis-cli -p "$1" ROLE 2>/dev/null | head -n1; }

redis_start "$p1"
redis_start "$p2" "$p1"
for s in $s1 $s2 $s3; do sentinel_start "$s"; done
deadline=$((SECONDS + 20))
until [[ $(redis-cli -p "$s1" SENTINEL replicas "$master" 2>/dev/null | grep -c "^127.0.0.1:$p2$") == 1 &&
  $(redis-cli -p "$s1" SENTINEL sentinels "$master" 2>/dev/null | grep -cx '127.0.0.1') == 2 ]]; do
  ((SECONDS < deadline)) || fail "the sentinels did not find the replica and each other"
  sleep 0.5
done
say "primary :$p1, replica :$p2, sentinels :$s1 :$s2 :$s3 (master name '$master')"

api_env=(HERALD_REDIS_URL=redis://127.0.0.1:1/0 # nothing listens there: only the sentinels count
  HERALD_REDIS_SENTINELS="127.0.0.1:$s1, 127.0.0.1:$s2,127.0.0.1:$s3"
  HERALD_REDIS_MASTER_NAME=$master HERALD_REDIS_TIMEOUT_MS=500
  HERALD_AUTH_RATE_LIMIT=1000000 HERALD_HTTP_THREADS=8)
if [[ $("$BIN/herald-api" config) == *HERALD_SWEEP_STALE_S* ]]; then
  api_env+=(HERALD_SWEEP_INTERVAL_S=2 HERALD_SWEEP_STALE_S=10)
fi
api_start api "$api_port" "${api_env[@]}"
api=http://127.0.0.1:$api_port
register_users "$prefix" "$users" "$api"

workers=0
if [[ -x $BIN/herald-email ]]; then
  workers=4
  for ((k = 1; k <= workers; k++)); do
    env "${api_env[@]}" HERALD_EMAIL_OUTBOX_DIR="$SCALE_DIR/outbox" HERALD_WORKER_HEARTBEAT_TTL_MS=2000 \
      HERALD_WORKER_REAP_INTERVAL_MS=500 HERALD_WORKER_SWEEP_INTERVAL_S=2 HERALD_WORKER_STALE_AFTER_S=10 \
      "$BIN/herald-email" --concurrency 2 >>"$SCALE_DIR/herald-email-$k.log" 2>&1 &
    track $!
  done
  say "$workers herald-email workers follow the same sentinels"
fi

# LPUSH commands the Redis at PORT has run (workers empty the list itself at once).
lpush_calls() { redis-cli -p "$1" INFO commandstats | sed -nE 's/^cmdstat_lpush:calls=([0-9]+),.*/\1/p' | grep . || echo 0; }
# check_writes_on PORT: a new reset lands on the Redis at PORT, and /readyz is 200.
check_writes_on() {
  local deadline=$((SECONDS + 30)) before after
  wait_status "$api/readyz" 200 30 || fail "/readyz not 200 within 30 s (primary :$1)"
  while ((SECONDS < deadline)); do
    before=$(lpush_calls "$1")
    [[ $(post_json "$api/api/v1/auth/password-reset" "{\"email\":\"$prefix-0@scale.test\"}") == 202* ]] ||
      fail "password-reset was not accepted"
    after=$(lpush_calls "$1")
    ((after > before)) && return 0
    sleep 0.5
  done
  fail "writes do not reach the primary :$1"
}
check_writes_on "$p1"
say "the API found the primary :$p1 through the sentinels; writes land there"

before_rows=$(psql_q "SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'")
SCALE_PREFIX=$prefix SCALE_USERS=$users wrk -t2 -c8 -d40s -s "$ROOT/tests/scale/reset.lua" "$api" \
  >"$SCALE_DIR/wrk.txt" 2>&1 &
wrk_pid=$!
track "$wrk_pid"
sleep 5

# ---------------------------------------------------------------- 1. SENTINEL FAILOVER
t0=$SECONDS
redis-cli -p "$s2" SENTINEL failover "$master" >/dev/null
deadline=$((SECONDS + 30))
until [[ $(primary) == "$p2" && $(role_of "$p2") == master ]]; do
  ((SECONDS < deadline)) || fail "SENTINEL FAILOVER did not promote :$p2"
  sleep 0.2
done
check_writes_on "$p2"
say "1. SENTINEL FAILOVER: :$p2 is primary; the API writes there ($((SECONDS - t0)) s after the command)"
sleep 5

# ---------------------------------------------------------------- 2. kill the primary
until [[ $(role_of "$p1") == slave && $(redis-cli -p "$p1" INFO replication | grep -c 'master_link_status:up') == 1 ]]; do
  ((SECONDS < deadline + 30)) || fail ":$p1 did not become a replica of :$p2"
  sleep 0.2
done
t0=$SECONDS
eval "victim=\$pid_$p2"
kill -KILL "$victim"
say "2. SIGKILL of the primary :$p2 (pid $victim)"
deadline=$((SECONDS + 40))
until [[ $(primary) == "$p1" && $(role_of "$p1") == master ]]; do
  ((SECONDS < deadline)) || fail "the sentinels did not promote :$p1 after the kill"
  sleep 0.2
done
check_writes_on "$p1"
say "   :$p1 is primary again; the API writes there ($((SECONDS - t0)) s after the kill)"

wait "$wrk_pid" || fail "wrk failed"
out=$(grep -E '^statuses' "$SCALE_DIR/wrk.txt")
say "load during both fail-overs: $(grep -E '^(statuses|latency|Requests/sec)' "$SCALE_DIR/wrk.txt" | tr '\n' ' ')"
others=$(grep -oE ' [0-9]{3}=[0-9]+' <<<"$out" | grep -v ' 202=' || true)
[[ -z $others ]] || fail "statuses other than 202: $others"
ok=$(grep -oE ' 202=[0-9]+' <<<"$out" | cut -d= -f2)
open=$(grep -oE ' unanswered=[0-9]+' <<<"$out" | cut -d= -f2)
rows=$(psql_q "SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'")
added=$((rows - before_rows))
# check_writes_on made a few requests of its own on top of wrk's.
((added >= ok && added - ok <= open + 200)) || fail "$added rows for $ok accepted requests"

missing_ids() {
  psql_q "SELECT d.id FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%'" |
    sort >"$SCALE_DIR/pg-ids.txt"
  redis-cli -p "$p1" LRANGE 'herald:q:{email}' 0 -1 | sort -u >"$SCALE_DIR/redis-ids.txt"
  comm -23 "$SCALE_DIR/pg-ids.txt" "$SCALE_DIR/redis-ids.txt" | wc -l
}
if ((workers)); then
  : # the workers empty the list: every job must end sent instead (below)
elif [[ " ${api_env[*]} " == *HERALD_SWEEP_STALE_S* ]]; then
  missing=$(missing_ids)
  say "$rows delivery rows; $missing ids not on the final primary right after the load"
  deadline=$((SECONDS + 60))
  while ((missing > 0 && SECONDS < deadline)); do sleep 2; missing=$(missing_ids); done
  ((missing == 0)) || fail "$missing committed ids never reached the new primary"
  say "after the sweeper: every committed delivery id is on the final primary"
else
  say "NOTE: this herald-api has no sweeper: $(missing_ids) ids not on the final primary, left for it"
fi
if ((workers)); then
  scope="FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '$prefix-%' AND d.channel = 'email'"
  deadline=$((SECONDS + 300))
  while :; do
    total=$(psql_q "SELECT count(*) $scope")
    sent=$(psql_q "SELECT count(*) $scope AND d.status = 'sent'")
    ((sent == total || SECONDS >= deadline)) && break
    sleep 2
  done
  say "e-mail deliveries by status: $(psql_q "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT d.status, count(*) n $scope GROUP BY 1) s")"
  ((sent == total)) || fail "$((total - sent)) of $total e-mail jobs did not end sent"
  say "the workers sent all $total e-mail jobs across both fail-overs"
else
  say "skipped: workers not built ($BIN/herald-email is missing): only the API was checked"
fi
say "passed"
