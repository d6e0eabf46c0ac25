#!/usr/bin/env bash
# Local PostgreSQL + Redis for Herald, without Docker. Everything lives in one directory
# (default: var/stack in the project root), and both servers listen on 127.0.0.1 only.
#
#   scripts/stack.sh start   [--dir DIR] [--ephemeral]   initdb if needed, start both, write DIR/stack.env
#   scripts/stack.sh stop    [--dir DIR] [--purge]       stop both (idempotent); --purge deletes DIR
#   scripts/stack.sh stop-service  postgres|redis [--dir DIR]   stop one of them
#   scripts/stack.sh start-service postgres|redis [--dir DIR]   start it again on its recorded port
#   scripts/stack.sh status|env [--dir DIR]
#   scripts/stack.sh psql [--dir DIR] [-- PSQL_ARGS...]
#
# Environment: HERALD_STACK_DIR (the directory), HERALD_PG_PORT / HERALD_REDIS_PORT (ports of a
# persistent stack; default 55432 / 56379). With --ephemeral, or when a port is busy, free ports
# are picked. PostgreSQL refuses to run as root: as root it runs as the `postgres` user (or a
# `herald-pg` system user created on demand).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "stack: error: $*" >&2; exit 1; }
say() { echo "stack: $*" || true; } # never fail on a closed stdout (e.g. during Ctrl-C cleanup)

# ------------------------------------------------------------------ arguments
cmd=${1:-help}
[[ $# -gt 0 ]] && shift
dir=${HERALD_STACK_DIR:-$ROOT/var/stack}
service="" ephemeral=0 purge=0 extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir=$2; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --ephemeral) ephemeral=1; shift ;;
    --purge) purge=1; shift ;;
    postgres | redis) service=$1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see: $0 help)" ;;
  esac
done

DIR=$(realpath -m -- "$dir")
ENV_FILE=$DIR/stack.env
REDIS_DIR=$DIR/redis
REDIS_CONF=$REDIS_DIR/redis.conf
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log

# ------------------------------------------------------------------ helpers
# Value of one variable recorded in stack.env (empty if the file or the variable is missing).
env_get() {
  [[ -f $ENV_FILE ]] || return 0
  # shellcheck disable=SC1090
  (set +u; . "$ENV_FILE"; printf '%s' "${!1:-}")
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port below Linux's ephemeral range (32768+), so outgoing connections never
# take it; $1 is a port to avoid (the one just chosen for the other server).
free_port() {
  local p
  for _ in {1..100}; do
    p=$((20000 + RANDOM % 12000))
    [[ $p != "${1:-}" ]] && ! port_busy "$p" && { echo "$p"; return; }
  done
  die "no free port found on 127.0.0.1"
}

# choose_port WANTED AVOID: WANTED unless ephemeral or busy, else a free one.
choose_port() {
  if ((ephemeral)); then free_port "$2"
  elif port_busy "$1" || [[ $1 == "$2" ]]; then
    echo "stack: port $1 is busy, picking a free one" >&2
    free_port "$2"
  else echo "$1"; fi
}

show_log() { # show_log TITLE FILE
  echo "---- last lines of $2 ----" >&2
  tail -n 30 "$2" >&2 2>/dev/null || echo "(no log)" >&2
  echo "----" >&2
  die "$1"
}

# ------------------------------------------------------------------ PostgreSQL
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1) # the newest installed
PG_USER=$(id -un)

# As root, postgres runs as an unprivileged user: `postgres` (from the Debian package) or herald-pg.
pg_user() {
  ((EUID == 0)) || return 0
  if id -u postgres >/dev/null 2>&1; then PG_USER=postgres; return; fi
  PG_USER=herald-pg
  id -u "$PG_USER" >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_USER"
}

as_pg() { # run a command as the PostgreSQL user (cd / so a private cwd does not bother it)
  if ((EUID == 0)); then (cd / && runuser -u "$PG_USER" -- "$@"); else "$@"; fi
}

# Where PostgreSQL keeps data, socket and log: DIR/pg, unless the PostgreSQL user cannot reach
# DIR (e.g. under /root) or the socket path would be too long; then /tmp/herald-pg-<hash>.
pg_home() {
  local recorded home
  recorded=$(env_get HERALD_PG_HOME)
  if [[ -n $recorded ]]; then echo "$recorded"; return; fi
  home=$DIR/pg
  if ((${#home} > 80)) || { ((EUID == 0)) && ! as_pg test -x "$DIR"; }; then
    home=/tmp/herald-pg-$(printf '%s' "$DIR" | sha1sum | cut -c1-12)
  fi
  echo "$home"
}

pg_paths() { # call once DIR exists
  pg_user
  PG_HOME=$(pg_home)
  PG_DATA=$PG_HOME/data
  PG_SOCK=$PG_HOME/run
  PG_LOG=$PG_HOME/postgres.log
}

pg_check_bin() { [[ -x $PG_BIN/pg_ctl ]] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin (run scripts/deps.sh)"; }
pg_running() { [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_start() { # pg_start PORT
  local port=$1 out
  pg_check_bin
  if pg_running; then say "PostgreSQL already running"; return; fi
  mkdir -p "$PG_HOME"
  if ((EUID == 0)); then chown "$PG_USER:" "$PG_HOME"; fi
  chmod 700 "$PG_HOME"
  [[ $(stat -c %U "$PG_HOME") == "$PG_USER" ]] || die "$PG_HOME is not owned by $PG_USER"

  if [[ ! -f $PG_HOME/initialized ]]; then
    rm -rf "$PG_DATA"
    out=$(as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U herald --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync --no-instructions 2>&1) || { echo "$out" >&2; die "initdb failed"; }
    echo "include 'herald.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    as_pg touch "$PG_HOME/initialized"
  fi

  as_pg mkdir -p "$PG_SOCK"
  as_pg tee "$PG_DATA/herald.conf" >/dev/null <<EOF
# Written by scripts/stack.sh at every start.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCK'
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
# A new WAL segment is created without writing its 16 MB of zeros (and syncing them) inside
# the commit that needs it: until checkpoints recycle old segments, a fresh cluster creates
# one per 16 MB of WAL, and each such commit waited 14 ms for that fsync (bench/README.md,
# "seventeenth"). Durability is unchanged: the commit's own fdatasync covers its blocks.
wal_init_zero = off
EOF
  # 9>&-: the daemons must not inherit (and so keep holding) the stack lock.
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 start >/dev/null 2>&1 9>&- ||
    show_log "PostgreSQL did not start on port $port" "$PG_LOG"
  # pg_ctl -w waited for "ready"; check that it answers on TCP too (within 10 s).
  local ready=("$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U herald -d postgres)
  for _ in {1..50}; do "${ready[@]}" && break; sleep 0.2; done
  "${ready[@]}" || show_log "PostgreSQL does not answer on port $port" "$PG_LOG"

  # The bootstrap superuser is `herald` (initdb -U); make sure its database exists.
  local q=("$PG_BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$port" -U herald -d postgres -c)
  [[ $("${q[@]}" "SELECT 1 FROM pg_database WHERE datname = 'herald'") == 1 ]] ||
    "${q[@]}" "CREATE DATABASE herald" >/dev/null
}

pg_stop() {
  pg_running || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null
  say "PostgreSQL stopped"
}

# ------------------------------------------------------------------ Redis
redis_pid() { # prints the pid if our redis-server is alive
  local pid
  [[ -f $REDIS_PID ]] && pid=$(<"$REDIS_PID") && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]] &&
    echo "$pid"
}

redis_start() { # redis_start PORT
  local port=$1
  if [[ -n $(redis_pid) ]]; then say "Redis already running"; return; fi
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/deps.sh)"
  mkdir -p "$REDIS_DIR/data"
  cat >"$REDIS_CONF" <<EOF
# Written by scripts/stack.sh at every start.
port $port
bind 127.0.0.1
daemonize yes
pidfile "$REDIS_PID"
logfile "$REDIS_LOG"
dir "$REDIS_DIR/data"
appendonly yes
save ""
maxmemory-policy noeviction
EOF
  redis-server "$REDIS_CONF" 9>&- || show_log "redis-server failed to start" "$REDIS_LOG"
  for _ in {1..100}; do
    [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && return
    sleep 0.1
  done
  show_log "Redis does not answer on port $port" "$REDIS_LOG"
}

redis_stop() {
  local pid
  pid=$(redis_pid) || return 0
  kill -TERM "$pid" || true # a normal shutdown: flushes the AOF, so data survives a restart
  for _ in {1..100}; do
    kill -0 "$pid" 2>/dev/null || { say "Redis stopped"; return; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "Redis killed (did not stop within 10 s)"
}

# ------------------------------------------------------------------ stack.env
write_env() { # write_env PG_PORT REDIS_PORT
  local tmp=$ENV_FILE.tmp
  {
    echo "# Herald local stack, written by scripts/stack.sh. Use: . $ENV_FILE"
    [[ $PG_HOME == "$DIR/pg" ]] ||
      echo "# NOTE: PostgreSQL's data, socket and log live in $PG_HOME (user $PG_USER cannot use $DIR/pg)"
    printf 'export %s=%q\n' \
      HERALD_DATABASE_URL "postgresql://herald@127.0.0.1:$1/herald" \
      HERALD_REDIS_URL "redis://127.0.0.1:$2/0" \
      HERALD_PG_PORT "$1" \
      HERALD_REDIS_PORT "$2" \
      HERALD_STACK_DIR "$DIR" \
      HERALD_PG_HOME "$PG_HOME" \
      HERALD_PG_LOG "$PG_LOG" \
      HERALD_REDIS_LOG "$REDIS_LOG"
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

need_env() { [[ -f $ENV_FILE ]] || die "no stack in $DIR (run: $0 start --dir $DIR)"; }

lock() { # serialise commands on one stack directory, then find PostgreSQL's directory
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 60 9 || die "another stack.sh holds $DIR/.lock for over 60 s"
  pg_paths
}

# ------------------------------------------------------------------ commands
cmd_start() {
  local pg_port="" redis_port=""
  lock
  touch "$DIR/.herald-stack" # marks the directory as ours (stop --purge checks it)
  # Keep the ports of servers that are already running; choose the others.
  pg_running && pg_port=$(env_get HERALD_PG_PORT)
  [[ -n $(redis_pid) ]] && redis_port=$(env_get HERALD_REDIS_PORT)
  [[ -n $pg_port ]] || pg_port=$(choose_port "${HERALD_PG_PORT:-55432}" "$redis_port")
  [[ -n $redis_port ]] || redis_port=$(choose_port "${HERALD_REDIS_PORT:-56379}" "$pg_port")
  write_env "$pg_port" "$redis_port" # first, so `stop` works even if a start fails half-way

  pg_start "$pg_port"
  redis_start "$redis_port"
  cat <<EOF
Herald stack ready in $DIR
  PostgreSQL  postgresql://herald@127.0.0.1:$pg_port/herald   (log: $PG_LOG)
  Redis       redis://127.0.0.1:$redis_port/0   (log: $REDIS_LOG)
  Environment: . $ENV_FILE
EOF
}

cmd_stop() {
  [[ -f $DIR/.herald-stack ]] || { say "no stack in $DIR"; return 0; }
  lock
  pg_stop
  redis_stop
  if ((purge)); then
    [[ $PG_HOME == "$DIR/pg" ]] || rm -rf "$PG_HOME"
    rm -rf "$DIR"
    say "deleted $DIR"
  fi
}

cmd_service() { # cmd_service start|stop
  [[ -n $service ]] || die "which service? postgres or redis"
  need_env
  lock
  local port
  case $1-$service in
    stop-postgres) pg_stop ;;
    stop-redis) redis_stop ;;
    start-postgres) # on the port recorded in stack.env, so clients reconnect to the same URL
      port=$(env_get HERALD_PG_PORT)
      pg_running || ! port_busy "$port" || die "port $port is taken by another process"
      pg_start "$port"
      say "postgres up on 127.0.0.1:$port" ;;
    start-redis)
      port=$(env_get HERALD_REDIS_PORT)
      [[ -n $(redis_pid) ]] || ! port_busy "$port" || die "port $port is taken by another process"
      redis_start "$port"
      say "redis up on 127.0.0.1:$port" ;;
  esac
}

cmd_status() {
  local rc=0
  if [[ ! -f $ENV_FILE ]]; then echo "no stack in $DIR"; return 3; fi
  pg_paths
  if pg_running; then echo "postgres: running on 127.0.0.1:$(env_get HERALD_PG_PORT) (data $PG_DATA)"
  else echo "postgres: stopped"; rc=3; fi
  if [[ -n $(redis_pid) ]]; then echo "redis:    running on 127.0.0.1:$(env_get HERALD_REDIS_PORT) (pid $(redis_pid))"
  else echo "redis:    stopped"; rc=3; fi
  return $rc
}

case $cmd in
  start) cmd_start ;;
  stop) cmd_stop ;;
  start-service) cmd_service start ;;
  stop-service) cmd_service stop ;;
  status) cmd_status ;;
  env) need_env; cat "$ENV_FILE" ;;
  psql)
    need_env
    psql_bin=$(command -v psql || echo "$PG_BIN/psql")
    exec "$psql_bin" "$(env_get HERALD_DATABASE_URL)" "${extra[@]}" ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
