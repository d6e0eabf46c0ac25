# tests/scale/lib.sh - helpers of the scale-out tests (sourced, not run).
#
# Each test is a bash script that sources this file, starts what it needs on loopback (free
# ports, under $SCALE_DIR), and exits 0 (passed), 1 (failed) or 77 (skipped). Every process it
# starts is recorded by pid and stopped on exit; the PostgreSQL + Redis stack is
# scripts/stack.sh's, in $SCALE_DIR/stack.
#
#   HERALD_BIN_DIR   where herald-api and the workers are (default: build/bin)
#   HERALD_SCALE_DIR where the test keeps its servers, logs and data (default: a new
#                    directory under /tmp, removed on success unless HERALD_SCALE_KEEP=1)
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK=$ROOT/scripts/stack.sh
BIN=${HERALD_BIN_DIR:-$ROOT/build/bin}
TEST_NAME=$(basename "$0" .sh)
SCALE_DIR=${HERALD_SCALE_DIR:-$(mktemp -d "/tmp/herald-scale-$TEST_NAME.XXXXXX")}
mkdir -p "$SCALE_DIR"
SCALE_DIR=$(realpath "$SCALE_DIR")
PIDS=()   # processes this test started (stopped on exit, in reverse order)
CLEANUPS=() # extra commands to run on exit (after the processes are stopped)
# A fixed HS256 key shared by every API instance, so a token from one is valid on the others.
export HERALD_JWT_SECRET=scale-test-secret-0123456789abcdef-0123456789
export HERALD_LOG_LEVEL=${HERALD_LOG_LEVEL:-warning}

say() { echo "[$TEST_NAME] $*"; }
fail() { echo "[$TEST_NAME] FAIL: $*" >&2; exit 1; }
skip() { echo "[$TEST_NAME] SKIP: $*"; exit 77; }
need() { # need CMD...: skip unless every command exists
  local c
  for c in "$@"; do command -v "$c" >/dev/null || skip "$c is not installed (scripts/scale-test.sh installs it)"; done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # a free loopback port below the ephemeral range, not handed out before
  local p
  for _ in {1..200}; do
    p=$((20000 + RANDOM % 12000))
    if ! port_busy "$p" && ! grep -qx "$p" "$SCALE_DIR/.ports" 2>/dev/null; then
      echo "$p" >>"$SCALE_DIR/.ports"
      echo "$p"
      return
    fi
  done
  fail "no free port"
}

# Processes started as root that must not be (PostgreSQL's user from stack.sh does it too).
run_user() {
  if ((EUID != 0)); then echo ""; return; fi
  if id -u postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

track() { PIDS+=("$1"); } # track PID: stop it on exit

stop_pid() { # stop_pid PID [SIGNAL]: signal it, wait up to 15 s, then SIGKILL
  local pid=$1 sig=${2:-TERM}
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in {1..150}; do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  set +e
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" >/dev/null 2>&1; done
  if [[ -f $SCALE_DIR/stack/.herald-stack ]]; then
    "$STACK" stop --dir "$SCALE_DIR/stack" >/dev/null 2>&1
  fi
  if ((rc == 0 || rc == 77)) && [[ ${HERALD_SCALE_KEEP:-0} != 1 ]]; then
    [[ -f $SCALE_DIR/stack/.herald-stack ]] && "$STACK" stop --purge --dir "$SCALE_DIR/stack" >/dev/null 2>&1
    rm -rf "$SCALE_DIR"
  else
    echo "[$TEST_NAME] logs and data kept in $SCALE_DIR" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the stack
stack_start() { # PostgreSQL + Redis on free ports; exports HERALD_DATABASE_URL, HERALD_REDIS_URL...
  "$STACK" start --ephemeral --dir "$SCALE_DIR/stack" >"$SCALE_DIR/stack.log" 2>&1 ||
    { cat "$SCALE_DIR/stack.log" >&2; fail "stack did not start"; }
  # shellcheck disable=SC1091
  . "$SCALE_DIR/stack/stack.env"
  PG_URL=$HERALD_DATABASE_URL
  "$BIN/herald-api" migrate >"$SCALE_DIR/migrate.log" 2>&1 || { cat "$SCALE_DIR/migrate.log" >&2; fail "migrate failed"; }
}

psql_q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"; } # one value or rows, |-separated

# ---------------------------------------------------------------- HTTP
http_status() { # http_status URL: the status code, 000 when nothing answers
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
}
wait_status() { # wait_status URL CODE SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    [[ $(http_status "$1") == "$2" ]] && return 0
    sleep 0.2
  done
  return 1
}
post_json() { # post_json URL JSON: prints "STATUS BODY"
  curl -s -m 10 -o "$SCALE_DIR/.body" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$2" "$1" || true
  echo " $(cat "$SCALE_DIR/.body" 2>/dev/null)"
}

# ---------------------------------------------------------------- the API
# api_start NAME PORT [VAR=value...]: starts herald-api serve with the extra environment,
# waits for /readyz 200; sets API_PID.
api_start() {
  local name=$1 port=$2
  shift 2
  env HERALD_HTTP_BIND=127.0.0.1 HERALD_HTTP_PORT="$port" "$@" \
    "$BIN/herald-api" serve >>"$SCALE_DIR/$name.log" 2>&1 &
  API_PID=$!
  track "$API_PID"
  wait_status "http://127.0.0.1:$port/readyz" 200 20 ||
    { tail -n 20 "$SCALE_DIR/$name.log" >&2; fail "$name did not become ready on $port"; }
}

# register_users PREFIX N URL: creates N users PREFIX-0..N-1@scale.test through the API.
register_users() {
  local i out
  for ((i = 0; i < $2; i++)); do
    out=$(post_json "$3/api/v1/auth/register" \
      "{\"email\":\"$1-$i@scale.test\",\"password\":\"Scale-test-password-$i\",\"name\":\"Scale $i\"}")
    [[ $out == 202* ]] || fail "register $1-$i: $out"
  done
}

# ---------------------------------------------------------------- nginx (deploy/nginx.conf)
# nginx_start PORT UPSTREAM_PORT...: runs nginx with deploy/nginx.conf, its upstream servers
# replaced by 127.0.0.1:<port> and its paths moved into $SCALE_DIR/nginx. Sets NGINX_PID.
nginx_start() {
  local port=$1 dir=$SCALE_DIR/nginx servers="" p
  shift
  need nginx
  for p in "$@"; do servers+="    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;\n"; done
  mkdir -p "$dir"
  sed -E -e "/^\s*server api[0-9]+:8080/d" \
    -e "s|^(\s*upstream herald_api \{)|\1\n$servers|" \
    -e "s|listen 8080;|listen 127.0.0.1:$port;|" \
    -e "s|^pid .*|pid $dir/nginx.pid;|" \
    -e "s|error_log /dev/stderr|error_log $dir/error.log|" \
    -e "s|/tmp/nginx-|$dir/tmp-|" \
    "$ROOT/deploy/nginx.conf" >"$dir/nginx.conf"
  nginx -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" || fail "nginx -t rejected the configuration"
  nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' >>"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  track "$NGINX_PID"
  wait_status "http://127.0.0.1:$port/healthz" 200 10 || fail "nginx does not answer on $port"
}
