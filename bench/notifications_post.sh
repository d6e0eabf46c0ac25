#!/usr/bin/env bash
# POST /api/v1/notifications under load, measured in one run on one machine:
#   1. GET /healthz alone at 64 connections (the ceiling of this machine and server);
#   2. POST /api/v1/notifications at 64 connections and, at the same time, GET /healthz at 8
#      connections on the probe listener (HERALD_PROBE_PORT, as `make run` starts the API:
#      the probes an orchestrator keeps sending while the API is busy), against the same
#      probe alone at 8 connections;
#   3. POST alone (and the CPU it costs the API and PostgreSQL per request);
#   4. the same POST with a unique Idempotency-Key per request (one more row per request),
#      twice, then POST without a key again: the keyed runs between two unkeyed ones;
#   5. GET /healthz and POST alone again at 256 connections.
# Each POST writes a notification, a delivery per channel and an audit row (through the group
# commit unless HERALD_GROUP_COMMIT=false: concurrent POSTs share a statement and its
# transaction, each answered after its COMMIT), then LPUSHes the queued ids (by default three
# deliveries, two ids: e-mail, SMS) to Redis.
# Usage: bench/notifications_post.sh [seconds per run, default 15]. Needs wrk and a Release
# build (HERALD_BENCH_BIN, default build-rel/bin/herald-api, built incrementally first); starts its own
# ephemeral stack. Writes bench/results/notifications-post-<date>.md and prints it.
#   BENCH_OWN_SESSION=1  start the API in a session of its own (setsid), as scripts/run.sh
#                        does: with autogroup scheduling a session is what shares the CPU, so
#                        the probes' share differs (bench/README.md, tenth session)
#   BENCH_CHANNELS       the request's channels (default in_app,email,sms; issue 15's request
#                        is in_app,email)
#   BENCH_PG_SET         PostgreSQL settings to try, "name=value ..." (bench/lib.sh), named in
#                        the report with the stack's own
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # ROOT, sql, bench_pg_set
DUR=${1:-15}
BIN=${HERALD_BENCH_BIN:-$ROOT/build-rel/bin/herald-api}
case ${BENCH_OWN_SESSION:-0} in
  0) session=() ;;
  1) session=(setsid) ;; # not a process group leader here, so setsid(1) execs without a fork
  *) echo "BENCH_OWN_SESSION takes 0 or 1" >&2; exit 2 ;;
esac
if [[ -z ${HERALD_BENCH_BIN:-} ]]; then # the default binary is always built (incrementally)
  [[ -f $ROOT/build-rel/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$ROOT/build-rel" \
    -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-rel" -j2 >/dev/null
fi
stack=$(mktemp -d /tmp/herald-bench-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Gone before the next run starts: a draining API still answers /healthz on this port.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
# shellcheck disable=SC1091
. "$stack/stack.env"
# Same-host PostgreSQL through its Unix socket (BENCH_PG_SOCKET=0: loopback TCP, as the tests).
if [[ ${BENCH_PG_SOCKET:-1} == 1 ]]; then
  export HERALD_DATABASE_URL="postgresql://herald@/herald?host=$HERALD_PG_HOME/run&port=$HERALD_PG_PORT"
fi
pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
bench_pg_set
pg_conf=$(sql "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name)
               FROM pg_settings WHERE name IN ('wal_init_zero', 'max_wal_size', 'shared_buffers',
               'synchronous_commit', 'checkpoint_timeout')")
export HERALD_LOG_LEVEL=warning HERALD_HTTP_BIND=127.0.0.1 HERALD_AUTH_RATE_LIMIT=1000000 \
  HERALD_RATE_LIMIT_WRITE_USER=100000000 HERALD_RATE_LIMIT_WRITE_IP=100000000 \
  HERALD_RATE_LIMIT_READ_USER=100000000 HERALD_RATE_LIMIT_READ_IP=100000000
export HERALD_DB_PREPARED_STATEMENTS=${HERALD_DB_PREPARED_STATEMENTS:-true} # direct PostgreSQL
export HERALD_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
export HERALD_ADMIN_EMAIL=bench-admin@example.com HERALD_ADMIN_PASSWORD=bench-admin-password-1
bench_no_stale_repush # no worker takes the queues here (bench/lib.sh)
"$BIN" migrate >/dev/null
"$BIN" create-admin >/dev/null

PORT=${BENCH_PORT:-18311} # BENCH_PORT: another port when one run is already going
BASE=http://127.0.0.1:$PORT
PROBE=http://127.0.0.1:$((PORT + 1)) # the probe listener, as scripts/run.sh sets it
HERALD_HTTP_PORT=$PORT HERALD_PROBE_PORT=$((PORT + 1)) "${session[@]}" "$BIN" serve \
  2>>"$stack/api.log" &
pids+=($!)
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
HERALD_BENCH_TOKEN=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"email\":\"$HERALD_ADMIN_EMAIL\",\"password\":\"$HERALD_ADMIN_PASSWORD\"}" \
  "$BASE/api/v1/auth/login" | json_field '["access_token"]')
curl -sf -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email":"bench-user@example.com","password":"bench-user-password-1","phone":"+14155550100"}' \
  "$BASE/api/v1/auth/register" # 202 either way: the id comes from a sign-in
bench_user_token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"email":"bench-user@example.com","password":"bench-user-password-1"}' \
  "$BASE/api/v1/auth/login" | json_field '["access_token"]')
HERALD_BENCH_USER_ID=$(curl -sf -H "Authorization: Bearer $bench_user_token" "$BASE/api/v1/users/me" |
  json_field '["id"]')
export HERALD_BENCH_TOKEN HERALD_BENCH_USER_ID

here=$ROOT/bench
load=$(cut -d' ' -f1-3 /proc/loadavg)
wrk_run() { # wrk_run CONNECTIONS THREADS SCRIPT PATH [BASE] -> the RESULT line's fields
  wrk -t"$2" -c"$1" -d"${DUR}s" -s "$here/$3" "${5:-$BASE}$4" | awk '/^RESULT/ {$1 = ""; print}'
}
count() { psql "$HERALD_DATABASE_URL" -Atc "$1"; }
# Context switches of every thread of a process, voluntary and involuntary (the threads'
# own counts: the API's threads live as long as it does).
switches() { cat /proc/"$1"/task/*/status 2>/dev/null |
  awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s + 0}'; }
# "le count" of each bucket of the API's histogram of POST /api/v1/notifications answered 202
# (the probe listener's /metrics).
post_buckets() {
  curl -s "$PROBE/metrics" | awk -F'"' '/^herald_http_request_duration_seconds_bucket\{route="\/api\/v1\/notifications",method="POST",status="202",/ {
    split($0, v, " "); print $8, v[2]}'
}
# "pid ticks" of each child of a process (PostgreSQL's backends and background processes).
backend_ticks() { local p; for p in $(pgrep -P "$1"); do
  awk -v p="$p" '{print p, $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done; }
per_request() { python3 -c "print(f'{($2 - $1) * 1e6 / $(getconf CLK_TCK) / max($3, 1):.0f}')"; }
pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")

# Warm-up (also fills the pools), then the measured runs.
HERALD_BENCH_IDEMPOTENCY=0 wrk -t2 -c64 -d3s -s "$here/notifications_post.lua" \
  "$BASE/api/v1/notifications" >/dev/null
read -r h_rps h_p50 h_p99 h_bad h_err < <(wrk_run 64 2 healthz.lua /healthz)
read -r q_rps q_p50 q_p99 q_bad q_err < <(wrk_run 8 1 healthz.lua /healthz "$PROBE")

before=$(count "SELECT count(*) FROM notifications WHERE category = 'bench'")
wrk_run 8 1 healthz.lua /healthz "$PROBE" >"$stack/beside" &
side=$!
read -r p_rps p_p50 p_p99 p_bad p_err < <(HERALD_BENCH_IDEMPOTENCY=0 wrk_run 64 2 notifications_post.lua /api/v1/notifications)
wait "$side"
read -r b_rps b_p50 b_p99 b_bad b_err <"$stack/beside"
after=$(count "SELECT count(*) FROM notifications WHERE category = 'bench'")
written=$((after - before))

# PostgreSQL's own work that a run's tail can fall on: checkpoints (their start and their end,
# when the files they wrote are synced; from PostgreSQL's log, where log_checkpoints puts them)
# and autovacuum (a child of the postmaster named "postgres: autovacuum worker", looked for once
# a second in /proc: a psql each second to ask pg_stat_activity cost PostgreSQL a backend of
# its own each time, about 7 us per POST once ticks() counted the processes that end).
pg_log=$HERALD_PG_HOME/postgres.log
stamp() { date -u '+%F %T.%3N'; }
av_sample() { # until $stack/sampling goes: "samples-with-a-worker samples"
  local n=0 k=0
  while [[ -f $stack/sampling ]]; do
    n=$((n + 1))
    pgrep -P "$pg_pid" -f '^postgres: autovacuum worker' >/dev/null && k=$((k + 1))
    sleep 1
  done
  echo "$k $n"
}
maint_start() { m_from=$(stamp); touch "$stack/sampling"; av_sample >"$stack/av" & m_pid=$!; }
maint_end() { # maint_end VAR: VAR = what fell into the run since maint_start
  rm -f "$stack/sampling"
  wait "$m_pid"
  local to k n; to=$(stamp); read -r k n <"$stack/av"
  printf -v "$1" '%s, an autovacuum worker running in %s of %s samples' "$(awk -v a="$m_from" \
    -v b="$to" '{t = $1 " " $2} t >= a && t <= b && /checkpoint starting/ {s++}
    t >= a && t <= b && /checkpoint complete/ {c++}
    END {printf "%d checkpoint(s) started and %d ended", s, c}' "$pg_log")" "$k" "$n"
}

# POST alone: its CPU cost in the API and in PostgreSQL.
maint_start
api0=$(ticks "${pids[0]}") pg0=$(ticks "$pg_pid" tree) pe0=$(reaped_ticks "$pg_pid") sw0=$(switches "${pids[0]}")
head -1 /proc/stat >"$stack/cpu0"; backend_ticks "$pg_pid" >"$stack/backends0"
post_buckets >"$stack/hist0"
read -r a_rps a_p50 a_p99 a_bad a_err < <(HERALD_BENCH_IDEMPOTENCY=0 wrk_run 64 2 notifications_post.lua /api/v1/notifications)
api1=$(ticks "${pids[0]}") pg1=$(ticks "$pg_pid" tree) pe1=$(reaped_ticks "$pg_pid") sw1=$(switches "${pids[0]}")
head -1 /proc/stat >"$stack/cpu1"; backend_ticks "$pg_pid" >"$stack/backends1"
post_buckets >"$stack/hist1"
# The machine's CPU left idle (idle and iowait of /proc/stat's cpu line) and the busiest
# PostgreSQL process's share of one CPU (the committer's backend: every batch goes through it).
read -r idle_pct busiest_pct < <(python3 - "$stack" "$(getconf CLK_TCK)" "$DUR" <<'PY'
import sys
d, hz, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
a, b = ([int(x) for x in open(f"{d}/cpu{i}").read().split()[1:9]] for i in (0, 1))
delta = [y - x for x, y in zip(a, b)]
ticks = [dict(line.split() for line in open(f"{d}/backends{i}") if line.strip()) for i in (0, 1)]
busiest = max((int(t) - int(ticks[0].get(p, 0)) for p, t in ticks[1].items()), default=0)
print(f"{100 * (delta[3] + delta[4]) / max(sum(delta), 1):.0f} {100 * busiest / hz / dur:.0f}")
PY
)
# The API's own measure of the same POSTs (from a request's first dispatch to its reply,
# /metrics): the share over 25, 50 and 100 ms, beside wrk's p99, which also counts the time
# before the handler, the reply's send and wrk's own.
read -r over25 over50 over100 < <(python3 - "$stack" <<'PY'
import sys
d = sys.argv[1]
a, b = ({le: float(n) for le, n in (line.split() for line in open(f"{d}/hist{i}"))} for i in (0, 1))
total = b["+Inf"] - a.get("+Inf", 0)
print(" ".join(f"{100 * (total - (b[le] - a.get(le, 0))) / max(total, 1):.2f}"
               for le in ("0.025", "0.05", "0.1")))
PY
)
maint_end m_alone
maint_start
alone=$(python3 -c "print(round($a_rps * $DUR))")

# Keyed and unkeyed runs in the order A K K A: the keyed pair sits between the two unkeyed
# runs, so PostgreSQL's growing tables and its first checkpoint fall on both sides alike
# (keyed after two unkeyed runs, it met the first checkpoint in 10 of 12 runs).
read -r i_rps i_p50 i_p99 i_bad i_err < <(HERALD_BENCH_IDEMPOTENCY=1 wrk_run 64 2 notifications_post.lua /api/v1/notifications)
read -r j_rps j_p50 j_p99 j_bad j_err < <(HERALD_BENCH_IDEMPOTENCY=1 wrk_run 64 2 notifications_post.lua /api/v1/notifications)
api_k=$(ticks "${pids[0]}") pg_k=$(ticks "$pg_pid" tree)
maint_end m_keyed
maint_start
read -r c_rps c_p50 c_p99 c_bad c_err < <(HERALD_BENCH_IDEMPOTENCY=0 wrk_run 64 2 notifications_post.lua /api/v1/notifications)
api_c=$(ticks "${pids[0]}") pg_c=$(ticks "$pg_pid" tree)
maint_end m_again
keyed=$(python3 -c "print(round(($i_rps + $j_rps) * $DUR))")
again=$(python3 -c "print(round($c_rps * $DUR))")
keys=$(count "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'bench-%' AND status = 'completed'")

read -r h2_rps h2_p50 h2_p99 h2_bad h2_err < <(wrk_run 256 2 healthz.lua /healthz)
api2=$(ticks "${pids[0]}") pg2=$(ticks "$pg_pid" tree)
read -r a2_rps a2_p50 a2_p99 a2_bad a2_err < <(HERALD_BENCH_IDEMPOTENCY=0 wrk_run 256 2 notifications_post.lua /api/v1/notifications)
api3=$(ticks "${pids[0]}") pg3=$(ticks "$pg_pid" tree)
alone2=$(python3 -c "print(round($a2_rps * $DUR))")
ratio() { python3 -c "print(f'{$1 / max($2, 1):.3f}')"; }
queued=$(redis-cli -u "$HERALD_REDIS_URL" LLEN 'herald:q:{email}')
# Group-commit batches over the whole script (the probe listener's /metrics).
metric() { curl -s "$PROBE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
gc_batches=$(metric herald_group_commit_batches_total) gc_items=$(metric herald_group_commit_items_total)

report="$ROOT/bench/results/notifications-post-$(date -u +%Y%m%d-%H%M%S).md"
cat >"$report" <<MD
# POST /api/v1/notifications ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r).
Commit: $(git -C "$ROOT" rev-parse --short HEAD) (plus the working tree). Release build, log level
warning, HERALD_HTTP_THREADS=$(bench_http_threads) (a Redis pool of the same size, PostgreSQL
pool HERALD_DB_POOL_SIZE=${HERALD_DB_POOL_SIZE:-0}: the HTTP and offload threads, at most 16), group commit ${HERALD_GROUP_COMMIT:-true} (max batch ${HERALD_GROUP_COMMIT_MAX_BATCH:-256},
wait ${HERALD_GROUP_COMMIT_WAIT_US:-0} us, ${HERALD_GROUP_COMMIT_THREADS:-1} committer(s)),
prepared statements $HERALD_DB_PREPARED_STATEMENTS, the sweeper's stale age HERALD_SWEEP_STALE_S=$HERALD_SWEEP_STALE_S s (no
worker runs), ${DUR} s per run. PostgreSQL, Redis, wrk and the API
share the machine's cores; load
average before the runs: $load (anything else running on the machine skews the figures).
PostgreSQL: $pg_conf.
Request: channels $BENCH_CHANNELS ($bench_channels_n deliveries per POST).
Command: \`${session:+BENCH_OWN_SESSION=1 }BENCH_CHANNELS=$BENCH_CHANNELS ${BENCH_PG_SET:+BENCH_PG_SET=\"$BENCH_PG_SET\" }bench/notifications_post.sh $DUR\`, binary \`${BIN#"$ROOT"/}\`${session:+, the API in a session of its own}.

| run | requests | req/s | p50 | p99 | non-2xx | socket errors |
|---|---|---|---|---|---|---|
| GET /healthz alone, 64 connections | healthz.lua | $h_rps | $h_p50 ms | $h_p99 ms | $h_bad | $h_err |
| GET /healthz alone, probe listener, 8 connections | healthz.lua | $q_rps | $q_p50 ms | $q_p99 ms | $q_bad | $q_err |
| POST /api/v1/notifications, 64 connections | notifications_post.lua | $p_rps | $p_p50 ms | $p_p99 ms | $p_bad | $p_err |
| GET /healthz at the same time, probe listener, 8 connections | healthz.lua | $b_rps | $b_p50 ms | $b_p99 ms | $b_bad | $b_err |
| POST /api/v1/notifications alone, 64 connections | notifications_post.lua | $a_rps | $a_p50 ms | $a_p99 ms | $a_bad | $a_err |
| POST with a unique Idempotency-Key, 64 connections | notifications_post.lua | $i_rps | $i_p50 ms | $i_p99 ms | $i_bad | $i_err |
| the same again | notifications_post.lua | $j_rps | $j_p50 ms | $j_p99 ms | $j_bad | $j_err |
| POST alone again, 64 connections | notifications_post.lua | $c_rps | $c_p50 ms | $c_p99 ms | $c_bad | $c_err |
| GET /healthz alone, 256 connections | healthz.lua | $h2_rps | $h2_p50 ms | $h2_p99 ms | $h2_bad | $h2_err |
| POST /api/v1/notifications alone, 256 connections | notifications_post.lua | $a2_rps | $a2_p50 ms | $a2_p99 ms | $a2_bad | $a2_err |

POST alone against /healthz alone (same run): $(ratio "$a_rps" "$h_rps")x at 64 connections,
$(ratio "$a2_rps" "$h2_rps")x at 256 connections. With a unique Idempotency-Key against without
(the two keyed runs against the unkeyed runs before and after them):
$(ratio "($i_rps + $j_rps)" "($a_rps + $c_rps)")x. Probe /healthz while POST is saturated against the probe alone:
$(ratio "$b_rps" "$q_rps")x.

CPU per POST (the run of POST alone): API $(per_request "$api0" "$api1" "$alone") us, PostgreSQL
$(per_request "$pg0" "$pg1" "$alone") us, of which $(per_request "$pe0" "$pe1" "$alone") us in processes that ended during the run
(autovacuum workers, connections: the postmaster's reaped children) (from /proc; unlike req/s,
these hardly depend on what else runs on the machine). At 256 connections: API $(per_request "$api2" "$api3" "$alone2") us,
PostgreSQL $(per_request "$pg2" "$pg3" "$alone2") us. With a unique Idempotency-Key (64
connections, both runs): API $(per_request "$api1" "$api_k" "$keyed") us, PostgreSQL $(per_request "$pg1" "$pg_k" "$keyed") us;
POST alone again: API $(per_request "$api_k" "$api_c" "$again") us, PostgreSQL $(per_request "$pg_k" "$pg_c" "$again") us.
The API's threads switched $(python3 -c "print(f'{($sw1 - $sw0) / max($alone, 1):.2f}')") times per POST (voluntary and involuntary context
switches, /proc/PID/task/*/status, the run of POST alone). While POST ran alone, the machine's
CPU was ${idle_pct} % idle (/proc/stat) and the busiest PostgreSQL process (the committer's
backend) was on a CPU ${busiest_pct} % of the run. The API's own measure of those POSTs (from a
request's first dispatch to its reply, /metrics) had ${over25} % over 25 ms, ${over50} % over 50 ms
and ${over100} % over 100 ms: what wrk's p99 has beyond it was spent before the handler, in the
reply's send or in wrk.

PostgreSQL's own work while POST ran alone: $m_alone; with a unique Idempotency-Key:
$m_keyed; POST alone again: $m_again. A checkpoint's end (its files synced) and autovacuum take disk and CPU from the
commits, which shows in p99.

Group commit over all the runs: ${gc_items:-?} sends in ${gc_batches:-?} batches
($(python3 -c "print(f'{${gc_items:-0} / max(${gc_batches:-0}, 1):.1f}')") sends per batch).

Checks: $written notifications written in the POST run (wrk counted
$(python3 -c "print(round($p_rps * $DUR))") at its rate); $keys idempotency records completed;
$queued e-mail ids waiting in herald:q:{email} (no workers run here).
Each POST is handed to the group commit: a committer reads the recipients and preferences of
everything queued in one SELECT, then writes the batch's notifications, $bench_channels_n deliveries each, audit
rows and idempotency records in one statement (its own transaction: one WAL flush per batch);
the ids of a batch are pushed with one LPUSH per queue after it committed.
MD
cat "$report"
