# Shared by the bench scripts that source it (feed.sh, memory.sh, profile_post.sh...; not
# run): the Release build, a throw-away stack removed on exit, the API process, wrk runs and
# the Markdown header.
#   BENCH_BUILD         build directory, relative to the project root or absolute (default build-rel);
#                       configured in Release once, rebuilt (incrementally) by every run
#   BENCH_STACK_PREFIX  prefix of the stack's temporary directory (default /tmp/herald-bench)
#   HERALD_BENCH_BIN    the herald-api to run instead of $BUILD's (a copy of another build, or
#                       a wrapper that sets its environment), as notifications_post.sh takes it
#   BENCH_PG_SET        PostgreSQL settings to try, "name=value ..." (for example
#                       "wal_compression=lz4"), applied by bench_pg_set where a script calls it
#                       (post_rounds.sh) and named in its report
#   HERALD_HTTP_THREADS and the other HERALD_* variables pass through to the API.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD:-build-rel}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
BIN=${HERALD_BENCH_BIN:-$BUILD/bin/herald-api}
HERE=$ROOT/bench

# Configures the Release build once, and builds it every time (incremental: a no-op when it is
# up to date), so a report never measures a binary older than the sources it names.
bench_build() {
  [[ -f $BUILD/CMakeCache.txt ]] ||
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 >/dev/null
}

# BENCH_CHANNELS: the channels of notifications_post.lua's request, checked and exported;
# sets bench_channels_n (how many deliveries each POST writes).
bench_channels() {
  export BENCH_CHANNELS=${BENCH_CHANNELS:-in_app,email,sms}
  [[ $BENCH_CHANNELS =~ ^(in_app|email|sms|push)(,(in_app|email|sms|push))*$ ]] || {
    echo "BENCH_CHANNELS: channels from in_app, email, sms, push, comma-separated (got '$BENCH_CHANNELS')" >&2
    exit 2
  }
  bench_channels_n=$(tr ',' '\n' <<<"$BENCH_CHANNELS" | sort -u | wc -l)
}
bench_channels

# No worker runs beside the benchmarks, so every e-mail and SMS a POST queues would look lost to
# the API's sweeper HERALD_SWEEP_STALE_S (60 s) later, and each of its passes would rewrite and
# push again up to 25,000 of them: work that falls into the runs a minute after the first POSTs
# (37.5-71.5 us of PostgreSQL per POST, bench/README.md, "Session of 2026-12-06
# (twenty-first)"), and that workers taking the queues, as in `make run`, leave it no reason to
# do. So the stale age is an hour unless the caller sets it.
bench_no_stale_repush() { export HERALD_SWEEP_STALE_S=${HERALD_SWEEP_STALE_S:-3600}; }

# Starts the stack (ephemeral ports, its own directory) and removes it, with every process in
# $pids, when the script exits for any reason.
pids=()
stack=""
bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n $stack ]]; then
    "$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true
  fi
}
bench_stack() {
  stack=$(mktemp -d "${BENCH_STACK_PREFIX:-/tmp/herald-bench}-XXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
  # shellcheck disable=SC1091
  . "$stack/stack.env"
  # Same-host PostgreSQL through its Unix socket (BENCH_PG_SOCKET=0: loopback TCP, as the tests).
  if [[ ${BENCH_PG_SOCKET:-1} == 1 ]]; then
    export HERALD_DATABASE_URL="postgresql://herald@/herald?host=$HERALD_PG_HOME/run&port=$HERALD_PG_PORT"
  fi
  export HERALD_LOG_LEVEL=warning HERALD_HTTP_BIND=127.0.0.1 HERALD_AUTH_RATE_LIMIT=1000000 \
  HERALD_RATE_LIMIT_WRITE_USER=100000000 HERALD_RATE_LIMIT_WRITE_IP=100000000 \
  HERALD_RATE_LIMIT_READ_USER=100000000 HERALD_RATE_LIMIT_READ_IP=100000000
  export HERALD_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
  export HERALD_ACCESS_TOKEN_TTL_S=86400
  bench_no_stale_repush
  export HERALD_ADMIN_EMAIL=bench-admin@example.com HERALD_ADMIN_PASSWORD=bench-admin-password-1
  pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
}

# PostgreSQL settings for tables of millions of rows (bench/README.md explains each); applied
# with ALTER SYSTEM and a restart, so they survive in the stack's postgresql.auto.conf.
PG_SETTINGS="shared_buffers=1GB effective_cache_size=4GB maintenance_work_mem=512MB work_mem=16MB
max_wal_size=8GB checkpoint_timeout=15min random_page_cost=1.1 effective_io_concurrency=64
max_parallel_maintenance_workers=2"
bench_pg_tune() {
  local kv
  for kv in $PG_SETTINGS; do
    sql "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" >/dev/null
  done
  "$ROOT/scripts/stack.sh" stop-service postgres --dir "$stack" >/dev/null
  "$ROOT/scripts/stack.sh" start-service postgres --dir "$stack" >/dev/null
  pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
}

# BENCH_PG_SET's settings, with ALTER SYSTEM and a reload, or a restart when one of them
# needs it; an unknown name or a bad value stops the script (ALTER SYSTEM refuses it).
bench_pg_set() {
  local kv
  for kv in ${BENCH_PG_SET:-}; do
    [[ $kv == ?*=* ]] || { echo "BENCH_PG_SET: '$kv' is not name=value" >&2; exit 2; }
    sql "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" >/dev/null
  done
  [[ -n ${BENCH_PG_SET:-} ]] || return 0
  sql "SELECT pg_reload_conf()" >/dev/null
  sleep 0.2 # the postmaster signals its children; let them read the file
  if [[ $(sql "SELECT count(*) FROM pg_settings WHERE pending_restart") != 0 ]]; then
    "$ROOT/scripts/stack.sh" stop-service postgres --dir "$stack" >/dev/null
    "$ROOT/scripts/stack.sh" start-service postgres --dir "$stack" >/dev/null
    pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
  fi
}

# Restarts PostgreSQL with pg_stat_statements loaded (planning time tracked too) and creates
# the extension (profiles).
bench_pgss() {
  sql "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  "$ROOT/scripts/stack.sh" stop-service postgres --dir "$stack" >/dev/null
  "$ROOT/scripts/stack.sh" start-service postgres --dir "$stack" >/dev/null
  pg_pid=$(head -1 "$HERALD_PG_HOME/data/postmaster.pid")
  sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  sql "ALTER SYSTEM SET pg_stat_statements.track_planning = on" >/dev/null
  sql "SELECT pg_reload_conf()" >/dev/null
}

# bench_micro NAME: starts the throw-away stack (bench_stack) and builds bench/NAME.c, a
# microbenchmark, against $BUILD's herald_infra library (configured if missing) into
# $stack/NAME.
bench_micro() {
  [[ -f $BUILD/CMakeCache.txt ]] ||
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target herald_infra >/dev/null
  bench_stack
  # shellcheck disable=SC2046
  cc -O2 -I "$ROOT/common" -I "$(pg_config --includedir)" -o "$stack/$1" "$HERE/$1.c" \
    "$BUILD/common/libherald_infra.a" \
    $(pkg-config --libs hiredis jansson libpq libcurl openssl liborcania libyder) -lpthread -lm
}

# bench_perf_start SECONDS NAME: perf samples the API and the PostgreSQL backends (DWARF call
# graphs) into $stack/NAME-api.perf and $stack/NAME-pg.perf for SECONDS; wait for
# $perf_pids. Needs perf (Debian linux-perf) and root or perf_event_paranoid <= 1.
bench_perf_start() {
  local backends
  backends=$(pgrep -d, -P "$pg_pid")
  perf record -q -F 199 --call-graph dwarf,16384 -o "$stack/$2-api.perf" -p "$api_pid" \
    -- sleep "$1" 2>/dev/null &
  perf_pids=($!)
  perf record -q -F 299 --call-graph dwarf,16384 -o "$stack/$2-pg.perf" -p "$backends" \
    -- sleep "$1" 2>/dev/null &
  perf_pids+=($!)
}

# bench_pgss_table REQUESTS UNIT: the statements pg_stat_statements counted, per request, with
# their planning and execution time (a Markdown table, busiest first; UNIT names a request).
bench_pgss_table() {
  echo "| calls/$2 | plan us/$2 | exec us/$2 | rows/call | statement |"
  echo "|---:|---:|---:|---:|---|"
  sql "SELECT round(calls::numeric / $1, 3) || ' | ' || round((total_plan_time * 1000 / $1)::numeric, 1)
       || ' | ' || round((total_exec_time * 1000 / $1)::numeric, 1)
       || ' | ' || round(rows::numeric / greatest(calls, 1), 1) || ' | \`'
       || left(regexp_replace(query, '\s+', ' ', 'g'), 110) || '\`'
       FROM pg_stat_statements WHERE calls > $1 / 100
       ORDER BY total_exec_time DESC LIMIT 15" | sed 's/^/| /; s/$/ |/'
}

# bench_perf_report NAME: the samples of bench_perf_start NAME, as Markdown sections: the API's
# by library, by symbol (self) and by symbol with children, the backends' by symbol.
bench_perf_report() {
  local api=$stack/$1-api.perf pg=$stack/$1-pg.perf
  printf '## API: samples by library (self)\n\n```\n'
  perf report -i "$api" --no-children --sort dso --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -20 || true
  printf '```\n\n## API: samples by thread and library (self)\n\n```\n'
  perf report -i "$api" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -30 || true
  printf '```\n\n## API: top symbols (self)\n\n```\n'
  perf report -i "$api" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -30 || true
  printf '```\n\n## API: top symbols, self and with children (callers unwound from DWARF)\n\n```\n'
  perf report -i "$api" --children --sort sym --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -60 || true
  printf '```\n\n## PostgreSQL backends: top symbols (self)\n\n```\n'
  perf report -i "$pg" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -40 || true
  printf '```\n\n## PostgreSQL backends: exported functions with everything they call (DWARF unwinding)\n\n```\n'
  perf report -i "$pg" --children --sort sym --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | grep -v ' 0x0000' | head -90 || true
  printf '```\n'
}

sql() { psql "$HERALD_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -Atc "$1"; }

# Sets every user's unread number again after rows were loaded with triggers off (migration
# 0099; a binary from before it has none to set).
bench_recount() {
  sql "DO \$\$ BEGIN IF to_regproc('notification_unread_recount') IS NOT NULL THEN
         PERFORM notification_unread_recount(); END IF; END \$\$" >/dev/null
}

# bench_api PORT: starts herald-api serve in the background, waits for /healthz; sets api_pid.
bench_api() {
  HERALD_HTTP_PORT=$1 "$BIN" serve 2>>"$stack/api.log" &
  api_pid=$!
  pids+=("$api_pid")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "bench: the API on port $1 did not start (see $stack/api.log)" >&2
  exit 1
}

# bench_start_api PORT: migrates the stack's database, creates the admin, starts herald-api
# serve on PORT (bench_api) and sets BASE.
bench_start_api() {
  "$BIN" migrate >/dev/null 2>&1
  "$BIN" create-admin >/dev/null 2>&1
  BASE=http://127.0.0.1:$1
  bench_api "$1"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# bench_token BASE EMAIL PASSWORD: an access token (registers the account first if needed).
bench_token() {
  local body="{\"email\":\"$2\",\"password\":\"$3\"}"
  curl -s -o /dev/null -H 'Content-Type: application/json' -d "$body" "$1/api/v1/auth/register"
  curl -sf -H 'Content-Type: application/json' -d "$body" "$1/api/v1/auth/login" |
    json_field '["access_token"]'
}

# bench_post_fixtures BASE: what notifications_post.lua sends with: exports HERALD_BENCH_TOKEN
# (the admin's access token) and HERALD_BENCH_USER_ID (a user with a phone: in-app, e-mail and
# SMS), and HERALD_BENCH_IDEMPOTENCY=0.
bench_post_fixtures() {
  HERALD_BENCH_TOKEN=$(bench_token "$1" "$HERALD_ADMIN_EMAIL" "$HERALD_ADMIN_PASSWORD")
  curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"bench-user@example.com","password":"bench-user-password-1","phone":"+14155550100"}' \
    "$1/api/v1/auth/register"
  local token
  token=$(bench_token "$1" bench-user@example.com bench-user-password-1)
  HERALD_BENCH_USER_ID=$(curl -sf -H "Authorization: Bearer $token" "$1/api/v1/users/me" |
    json_field '["id"]')
  export HERALD_BENCH_TOKEN HERALD_BENCH_USER_ID HERALD_BENCH_IDEMPOTENCY=0
}
# bench_fixtures BASE: what feed.sh and memory.sh send with: sets admin and user (access tokens),
# user_id (the bench user), creates the template bench.order (in_app and e-mail, using name, order
# and total) and 1,000 seed users as POST recipients (bench/seed_growth.sql, loaded here), listed
# in $stack/recipients; exports HERALD_BENCH_RECIPIENTS and HERALD_BENCH_TEMPLATE.
bench_fixtures() {
  psql "$HERALD_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$HERE/seed_growth.sql" >/dev/null
  admin=$(bench_token "$1" "$HERALD_ADMIN_EMAIL" "$HERALD_ADMIN_PASSWORD")
  user=$(bench_token "$1" bench-feed@example.com bench-feed-password-1)
  # shellcheck disable=SC2034 # used by the sourcing script
  user_id=$(curl -sf -H "Authorization: Bearer $user" "$1/api/v1/users/me" | json_field '["id"]')
  curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"key":"bench.order","name":"Bench order","channels":{
         "in_app":{"title":"Order {{order}} shipped","body":"Hello {{name}}, order {{order}} ({{total}}) is on its way."},
         "email":{"subject":"Your order {{order}}","text":"Hello {{name}},\n\norder {{order}} ({{total}}) is on its way.",
                  "html":"<p>Hello {{name}},</p><p>order <b>{{order}}</b> ({{total}}) is on its way.</p>"}}}' \
    "$1/api/v1/admin/templates"
  sql "SELECT bench_seed_users(1000)" >/dev/null
  sql "SELECT id FROM bench_seed_users WHERE idx < 1000" >"$stack/recipients"
  export HERALD_BENCH_RECIPIENTS=$stack/recipients HERALD_BENCH_TEMPLATE=bench.order
}

# CPU ticks of a process and, with a second argument "tree", of its direct children too: the
# live ones and those that ended and were reaped (the process's cutime and cstime). Without
# the reaped ones, a child that ends inside a measured window (PostgreSQL's autovacuum
# workers, a psql's backend) would not count, or would count negatively if it was alive at the
# window's start.
ticks() {
  local t=0 p list=("$1")
  if [[ ${2:-} == tree ]]; then
    mapfile -t -O 1 list < <(pgrep -P "$1")
    t=$(reaped_ticks "$1")
  fi
  for p in "${list[@]}"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

# CPU ticks of a process's children that ended and were reaped (cutime + cstime).
reaped_ticks() { awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# cpu_snapshot: "group ticks" lines for the API's threads (grouped by thread name: MHD's
# workers, gc-commit, gc-prepare, ...) and PostgreSQL's processes (backends, walwriter, ...;
# "ended": the children that ended, autovacuum workers and connections).
cpu_snapshot() {
  local t p
  for t in /proc/"$api_pid"/task/*; do
    echo "api:$(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)"
  done
  for p in "$pg_pid" $(pgrep -P "$pg_pid"); do
    t=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | awk '{print ($1 != "postgres:" ? "postmaster" : $2 == "herald" ? "backend" : $2)}')
    echo "postgres:${t:-postmaster} $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"
  done
  echo "postgres:ended $(reaped_ticks "$pg_pid")"
}

# cpu_by_thread BEFORE AFTER REQUESTS: a Markdown table of CPU per request by thread group,
# from two cpu_snapshot outputs.
cpu_by_thread() {
  python3 - "$1" "$2" "$3" "$(getconf CLK_TCK)" <<'PY'
import collections, sys
def load(text):
    d = collections.Counter()
    for line in text.splitlines():
        name, _, v = line.rpartition(" ")
        d[name] += int(v)
    return d
a, b, n, hz = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print("| process: thread (API) or process (PostgreSQL) | us per request |")
print("|---|---:|")
rows = sorted(((b[k] - a.get(k, 0), k) for k in b), reverse=True)
for t, k in rows:
    if t > 0:
        print(f"| {k} | {t * 1e6 / hz / max(n, 1):.1f} |")
PY
}

# wrk_run CONNECTIONS SECONDS SCRIPT URL -> "req/s p50 p99 non-2xx socket-errors api-us/req pg-us/req"
# (the .lua's done() prints the RESULT line; CPU from /proc of the API and of PostgreSQL).
wrk_run() {
  local a0 a1 g0 g1 line
  a0=$(ticks "$api_pid") g0=$(ticks "$pg_pid" tree)
  line=$(wrk -t2 -c"$1" -d"$2s" --timeout 10s -s "$HERE/$3" "$4" | awk '/^RESULT/ {$1 = ""; print}')
  a1=$(ticks "$api_pid") g1=$(ticks "$pg_pid" tree)
  python3 - "$line" "$a0" "$a1" "$g0" "$g1" "$2" "$(getconf CLK_TCK)" <<'PY'
import sys
line, a0, a1, g0, g1, secs, hz = sys.argv[1].strip(), *map(float, sys.argv[2:])
n = max(float(line.split()[0]) * secs, 1)
print(line, f"{(a1 - a0) * 1e6 / hz / n:.0f}", f"{(g1 - g0) * 1e6 / hz / n:.0f}")
PY
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else '?')"; }

# The HTTP threads the API runs with: HERALD_HTTP_THREADS, or for 0 and unset what the API takes
# then (h_config_auto_http_threads in common/core/config.c: twice the CPUs online, 4 to 64).
bench_http_threads() {
  local t=${HERALD_HTTP_THREADS:-0}
  if [[ $t != 0 ]]; then
    echo "$t"
    return
  fi
  if [[ -n ${HERALD_BENCH_BIN-} ]]; then # another build's default, which may differ from this
    echo "${HERALD_HTTP_THREADS:-unset} (the default of $HERALD_BENCH_BIN)"
    return
  fi
  t=$((2 * $(getconf _NPROCESSORS_ONLN)))
  ((t >= 4)) || t=4
  ((t <= 64)) || t=64
  echo "0 (twice the CPUs online: $t)"
}

# The report's header lines: machine, commit, build, load.
bench_header() {
  cat <<MD
Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -r); PostgreSQL
$(sql "SHOW server_version"), Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2).
Commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- api common db 2>/dev/null || echo " plus the working tree").
Build: Release ($BUILD${HERALD_BENCH_BIN:+; the API run: $HERALD_BENCH_BIN}). API: HERALD_HTTP_THREADS=$(bench_http_threads), HERALD_DB_POOL_SIZE=${HERALD_DB_POOL_SIZE:-0}
(0: one PostgreSQL connection per HTTP and offload thread, at most 16), HERALD_USER_CACHE_MS=${HERALD_USER_CACHE_MS:-10000},
HERALD_FEED_CACHE_MS=${HERALD_FEED_CACHE_MS:-10000}, log level warning. wrk -t2, and API, PostgreSQL, Redis
and wrk all share the machine's cores (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)).
MD
}
