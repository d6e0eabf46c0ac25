#!/usr/bin/env bash
# What `make run` runs: install missing packages, build, start the persistent stack (var/stack),
# migrate, create the admin, then supervise herald-api and the workers: a process that exits
# is restarted after a backoff that doubles with each quick crash (1 s, 2 s, 4 s ... 30 s);
# one that crashes HERALD_RUN_MAX_RESTARTS times in a row, each within a minute of its start,
# is given up (the others keep running). Every exit and restart is logged with its status.
# Only Ctrl-C or SIGTERM (`make stop`) stops everything.
#
#   HERALD_HTTP_PORT (default 8080)
#   HERALD_PROBE_PORT (default HERALD_HTTP_PORT + 1): /healthz, /readyz and /metrics on their
#   own listener and threads, so probes answer while every API thread is busy (0: off)
#   HERALD_ADMIN_EMAIL / HERALD_ADMIN_PASSWORD / HERALD_JWT_SECRET: when unset, taken from
#   var/stack/dev-secrets.env, which the first run fills with admin@herald.local and random values.
#   HERALD_RUN_DIR (default var/run): the supervisor's pid and status (`make status`)
#   HERALD_LOG_DIR (default var/log): one log per process
#   HERALD_RUN_MAX_RESTARTS (default 5), HERALD_RUN_BACKOFF_MAX_S (default 30)
#   HERALD_RUN_SKIP_BUILD=1: use build/bin as it is (no deps, no build)
#   HERALD_DEMO_EMAIL / HERALD_DEMO_PASSWORD: the demo user signed in on /demo (the page of
#   <herald-inbox>, built into HERALD_DEMO_DIR, default var/demo, when Node.js is installed);
#   when unset, taken from dev-secrets.env, which the first run fills with demo@herald.local
#   and a random password.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK_SCRIPT=$ROOT/scripts/stack.sh
BIN=${HERALD_RUN_BIN:-$ROOT/build/bin}
LOG_DIR=${HERALD_LOG_DIR:-$ROOT/var/log}
RUN_DIR=${HERALD_RUN_DIR:-$ROOT/var/run}
MAX_RESTARTS=${HERALD_RUN_MAX_RESTARTS:-5}
BACKOFF_MAX=${HERALD_RUN_BACKOFF_MAX_S:-30}
STABLE_S=60 # a process that ran this long was not crash-looping: its backoff starts over
WORKERS=(herald-email herald-sms herald-push herald-reconcile)
export HERALD_HTTP_PORT=${HERALD_HTTP_PORT:-8080}
export HERALD_PROBE_PORT=${HERALD_PROBE_PORT:-$((HERALD_HTTP_PORT + 1))}
url=http://127.0.0.1:$HERALD_HTTP_PORT

say() { echo "run: $(date -u +%H:%M:%S) $*"; }
die() { echo "run: error: $*" >&2; exit 1; }
random_string() { # random_string LENGTH: letters and digits from /dev/urandom
  local s
  s=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 2048 /dev/urandom))
  echo "${s:0:$1}"
}
[[ $MAX_RESTARTS =~ ^[0-9]+$ && $MAX_RESTARTS -ge 1 && $MAX_RESTARTS -le 1000 ]] ||
  die "HERALD_RUN_MAX_RESTARTS: '$MAX_RESTARTS' is not a number from 1 to 1000"
[[ $BACKOFF_MAX =~ ^[0-9]+$ && $BACKOFF_MAX -ge 1 && $BACKOFF_MAX -le 3600 ]] ||
  die "HERALD_RUN_BACKOFF_MAX_S: '$BACKOFF_MAX' is not a number of seconds from 1 to 3600"

mkdir -p "$RUN_DIR"
if [[ -f $RUN_DIR/runner.pid ]] && kill -0 "$(cat "$RUN_DIR/runner.pid")" 2>/dev/null; then
  die "already running (pid $(cat "$RUN_DIR/runner.pid")): make status, make stop"
fi
if [[ ${HERALD_RUN_SKIP_BUILD:-0} != 1 ]]; then
  scripts/deps.sh
  SANITIZE=0 scripts/build.sh
fi
[[ -x $BIN/herald-api ]] || die "$BIN/herald-api was not built"
if (exec 3<>"/dev/tcp/127.0.0.1/$HERALD_HTTP_PORT") 2>/dev/null; then
  die "port $HERALD_HTTP_PORT is already in use (set HERALD_HTTP_PORT)"
fi
echo $$ >"$RUN_DIR/runner.pid"

# ------------------------------------------------------------------ the supervised processes
# Parallel arrays, one entry per process: name, command line, pid (0: not running), restarts,
# quick crashes in a row, start time, when to start again (0: not waiting), state.
names=() cmds=() pids=() restarts=() streak=() started=() next_start=() states=()

add_proc() { # add_proc NAME COMMAND...
  names+=("$1")
  shift
  cmds+=("$(printf '%q ' "$@")")
  pids+=(0) restarts+=(0) streak+=(0) started+=(0) next_start+=(0) states+=(starting)
}

start_proc() { # start_proc INDEX: in its own session (Ctrl-C reaches only this script)
  local i=$1
  eval "setsid ${cmds[i]} >>\"$LOG_DIR/${names[i]}.log\" 2>&1 &"
  pids[i]=$!
  started[i]=$SECONDS
  next_start[i]=0
  states[i]=running
}

write_status() { # one line per process for `make status`, replaced atomically
  local i now tmp=$RUN_DIR/status.tmp
  now=$(date +%s)
  {
    echo "# name pid restarts started_epoch state log (scripts/run.sh, pid $$)"
    for i in "${!names[@]}"; do
      printf '%s %s %s %s %s %s\n' "${names[i]}" "${pids[i]}" "${restarts[i]}" \
        "$((now - SECONDS + started[i]))" "${states[i]}" "$LOG_DIR/${names[i]}.log"
    done
  } >"$tmp"
  mv "$tmp" "$RUN_DIR/status"
}

exit_text() { # exit_text STATUS: "exit status 3" or "killed by SIGKILL (status 137)"
  if (($1 > 128)); then
    echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128))) (status $1)"
  else
    echo "exit status $1"
  fi
}

reap() { # reap INDEX: the process has exited; schedule its restart or give it up
  local i=$1 status=0 ran delay
  wait "${pids[i]}" 2>/dev/null || status=$?
  ran=$((SECONDS - started[i]))
  pids[i]=0
  if ((ran >= STABLE_S)); then streak[i]=0; fi
  streak[i]=$((streak[i] + 1))
  if ((streak[i] > MAX_RESTARTS)); then
    states[i]=gave-up
    say "${names[i]} $(exit_text "$status") after ${ran}s; it crashed ${streak[i]} times in a" \
      "row within ${STABLE_S}s of starting: GIVING UP on it (the others keep running)." \
      "See $LOG_DIR/${names[i]}.log, fix it, then restart make run."
    return
  fi
  delay=$((1 << (streak[i] - 1)))
  ((delay > BACKOFF_MAX)) && delay=$BACKOFF_MAX
  restarts[i]=$((restarts[i] + 1))
  next_start[i]=$((SECONDS + delay))
  states[i]=backoff
  say "${names[i]} $(exit_text "$status") after ${ran}s; restart ${restarts[i]} in ${delay}s" \
    "(log: $LOG_DIR/${names[i]}.log)"
}

supervise() { # until a signal: reap what exited, start what is due
  local i changed
  while true; do
    changed=0
    for i in "${!names[@]}"; do
      if ((pids[i] != 0)) && ! kill -0 "${pids[i]}" 2>/dev/null; then
        reap "$i"
        changed=1
      elif ((pids[i] == 0 && next_start[i] != 0 && SECONDS >= next_start[i])); then
        start_proc "$i"
        say "${names[i]} restarted (pid ${pids[i]}, restart ${restarts[i]})"
        changed=1
      fi
    done
    ((changed)) && write_status
    sleep 0.2
  done
}

# ------------------------------------------------------------------ stop everything on exit
stack_dir=${HERALD_STACK_DIR:-$ROOT/var/stack}
stack_was_up=0
"$STACK_SCRIPT" status --dir "$stack_dir" >/dev/null 2>&1 && stack_was_up=1

# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
  local rc=$? i alive
  trap - EXIT INT TERM
  trap '' PIPE # stdout may be a pipe that Ctrl-C closed (make run | tee): finish anyway
  set +e
  echo
  say "stopping..."
  for i in "${!pids[@]}"; do ((pids[i])) && kill -TERM "${pids[i]}" 2>/dev/null; done
  for _ in {1..150}; do # up to 15 s to finish in-flight work
    alive=0
    for i in "${!pids[@]}"; do ((pids[i])) && kill -0 "${pids[i]}" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do ((pids[i])) && kill -KILL "${pids[i]}" 2>/dev/null; done
  rm -f "$RUN_DIR/status" "$RUN_DIR/runner.pid"
  if ((stack_was_up)); then
    say "the stack was already running before: leaving it up ($STACK_SCRIPT stop)"
  else
    "$STACK_SCRIPT" stop --dir "$stack_dir"
  fi
  say "stopped"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 0' TERM # make stop: a requested stop

# ------------------------------------------------------------------ stack, database, admin
"$STACK_SCRIPT" start --dir "$stack_dir"
# shellcheck disable=SC1091
. "$stack_dir/stack.env"

secrets=$stack_dir/dev-secrets.env
if [[ ! -f $secrets ]]; then
  (
    umask 077
    printf 'HERALD_ADMIN_EMAIL=%q\nHERALD_ADMIN_PASSWORD=%q\nHERALD_JWT_SECRET=%q\n' \
      admin@herald.local "$(random_string 20)" "$(random_string 48)" >"$secrets"
  )
fi
# shellcheck disable=SC1090
from_secrets() { (. "$secrets"; printf '%s' "${!1}"); }
export HERALD_ADMIN_EMAIL=${HERALD_ADMIN_EMAIL:-$(from_secrets HERALD_ADMIN_EMAIL)}
export HERALD_ADMIN_PASSWORD=${HERALD_ADMIN_PASSWORD:-$(from_secrets HERALD_ADMIN_PASSWORD)}
export HERALD_JWT_SECRET=${HERALD_JWT_SECRET:-$(from_secrets HERALD_JWT_SECRET)}
if ! grep -q '^HERALD_DEMO_PASSWORD=' "$secrets"; then # a dev-secrets.env from before the demo
  printf 'HERALD_DEMO_EMAIL=%q\nHERALD_DEMO_PASSWORD=%q\n' demo@herald.local "$(random_string 20)" >>"$secrets"
fi
# Where the demo page is built; herald-api gets HERALD_DEMO_DIR once it is there.
demo_dir=${HERALD_DEMO_DIR:-$ROOT/var/demo}
unset HERALD_DEMO_DIR
export HERALD_DEMO_EMAIL=${HERALD_DEMO_EMAIL:-$(from_secrets HERALD_DEMO_EMAIL)}
export HERALD_DEMO_PASSWORD=${HERALD_DEMO_PASSWORD:-$(from_secrets HERALD_DEMO_PASSWORD)}
# The file providers write under var/outbox by default; absolute, so the paths printed hold.
export HERALD_EMAIL_OUTBOX_DIR=${HERALD_EMAIL_OUTBOX_DIR:-$ROOT/var/outbox/email}
export HERALD_SMS_OUTBOX_DIR=${HERALD_SMS_OUTBOX_DIR:-$ROOT/var/outbox/sms}
export HERALD_PUSH_OUTBOX_DIR=${HERALD_PUSH_OUTBOX_DIR:-$ROOT/var/outbox/push}
export HERALD_PUBLIC_URL=${HERALD_PUBLIC_URL:-$url}

"$BIN/herald-api" migrate
"$BIN/herald-api" create-admin

# ------------------------------------------------------------------ the demo page (/demo)
# clients/typescript builds <herald-inbox> into var/demo, which herald-api serves at /demo.
client_dir=$ROOT/clients/typescript
demo_ok=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [[ ! $client_dir/node_modules/.package-lock.json -nt $client_dir/package-lock.json ]]; then
    (cd "$client_dir" && npm ci --no-audit --no-fund --loglevel=error) || true
  fi
  if node "$client_dir/scripts/demo.mjs" --out "$demo_dir" --email "$HERALD_DEMO_EMAIL" \
    --password "$HERALD_DEMO_PASSWORD" --send-example "make demo-send   (or: make demo-send TITLE='Build passed')"; then
    export HERALD_DEMO_DIR=$demo_dir
    demo_ok=1
  fi
fi
((demo_ok)) || say "no demo page: Node.js and npm are needed to build clients/typescript"

# ------------------------------------------------------------------ API and workers
mkdir -p "$LOG_DIR"
# Payments work offline: without a real Stripe key, the fake Stripe of the tests stands in.
if [[ -z ${HERALD_STRIPE_SECRET_KEY:-} ]]; then
  port_file=$stack_dir/fake-stripe.port
  rm -f "$port_file"
  stripe_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  add_proc fake-stripe /usr/bin/python3 "$ROOT/tests/fakes/fake_stripe.py" --port "$stripe_port" \
    --port-file "$port_file" --webhook-url "$url/api/v1/webhooks/stripe" \
    --webhook-secret whsec_dev --exit-with-parent
  start_proc 0
  for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  [[ -s $port_file ]] || die "the fake Stripe did not start (log: $LOG_DIR/fake-stripe.log)"
  export HERALD_STRIPE_API_BASE=http://127.0.0.1:$stripe_port
  export HERALD_STRIPE_SECRET_KEY=sk_test_dev HERALD_STRIPE_WEBHOOK_SECRET=whsec_dev
fi
add_proc herald-api "$BIN/herald-api" serve
api=$((${#names[@]} - 1))
start_proc "$api"
for worker in "${WORKERS[@]}"; do
  [[ -x $BIN/$worker ]] || continue
  # herald-reconcile schedules its own periodic syncs and the daily ledger run.
  if [[ $worker == herald-reconcile ]]; then
    add_proc "$worker" "$BIN/$worker" --log-level info --every 60s
  else
    add_proc "$worker" "$BIN/$worker" --log-level info
  fi
  start_proc $((${#names[@]} - 1))
done
write_status

deadline=$((SECONDS + 60))
until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" || true) == 200 ]]; do
  if ! kill -0 "${pids[api]}" 2>/dev/null || ((SECONDS >= deadline)); then
    tail -n 30 "$LOG_DIR/herald-api.log" >&2 || true
    die "herald-api is not ready at $url/readyz (log: $LOG_DIR/herald-api.log)"
  fi
  sleep 0.2
done

demo_line="(not built: needs Node.js)"
if ((demo_ok)) && HERALD_API_URL=$url node "$client_dir/scripts/demo-user.mjs" setup >>"$LOG_DIR/run.log" 2>&1; then
  demo_line="$url/demo   ($HERALD_DEMO_EMAIL; make demo-send sends it a notification)"
elif ((demo_ok)); then
  demo_line="$url/demo   (the demo user could not be set up: see $LOG_DIR/run.log)"
fi

cat <<EOF

  Herald $("$BIN/herald-api" --version | cut -d' ' -f2-) is running: ${names[*]}

    API        $url/api/v1
    Docs       $url/docs   (contract: $url/openapi.yaml)
    Demo       $demo_line
    Metrics    $url/metrics
    Health     $url/healthz   $url/readyz$( ((HERALD_PROBE_PORT > 0)) && printf '   probes: http://127.0.0.1:%s/healthz /readyz /metrics' "$HERALD_PROBE_PORT")
    Admin      $HERALD_ADMIN_EMAIL   password: $HERALD_ADMIN_PASSWORD
    E-mail     $HERALD_EMAIL_OUTBOX_DIR/<delivery id>.eml
    SMS        $HERALD_SMS_OUTBOX_DIR/<delivery id>.json
    Push       $HERALD_PUSH_OUTBOX_DIR/<delivery id>.json
    Logs       make logs   (or: tail -F $LOG_DIR/herald-api.log, one file per process in $LOG_DIR)
               PostgreSQL: $HERALD_PG_LOG   Redis: $HERALD_REDIS_LOG
    Status     make status   (pid, restarts, uptime of each process)
    Stack      . $stack_dir/stack.env   (psql: scripts/stack.sh psql)

  Crashed processes are restarted. Ctrl-C (or make stop) stops everything.

EOF
say "ready"
# From here on bash's own notices ("line N: PID Killed ...") would only repeat what say() logs
# about each exit: the supervisor's stderr goes to its log.
exec 2>>"$LOG_DIR/run.log"
supervise
