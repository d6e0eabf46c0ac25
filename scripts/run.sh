#!/usr/bin/env bash
# What `make run` runs: install missing packages, build, start the persistent stack (var/stack),
# migrate, create the admin, start herald-api and the workers that exist, wait until the API is
# ready, print where everything is, and on Ctrl-C stop it all.
#
#   HERALD_HTTP_PORT (default 8080)
#   HERALD_ADMIN_EMAIL / HERALD_ADMIN_PASSWORD / HERALD_JWT_SECRET: when unset, taken from
#   var/stack/dev-secrets.env, which the first run fills with admin@herald.local and random values.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK_SCRIPT=$ROOT/scripts/stack.sh
BIN=$ROOT/build/bin
LOG_DIR=$ROOT/var/log
WORKERS=(herald-email herald-sms herald-push herald-reconcile)
export HERALD_HTTP_PORT=${HERALD_HTTP_PORT:-8080}
url=http://127.0.0.1:$HERALD_HTTP_PORT

say() { echo "run: $*"; }
die() { echo "run: error: $*" >&2; exit 1; }
random_string() { # random_string LENGTH: letters and digits from /dev/urandom
  local s
  s=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 2048 /dev/urandom))
  echo "${s:0:$1}"
}

scripts/deps.sh
SANITIZE=0 scripts/build.sh
[[ -x $BIN/herald-api ]] || die "$BIN/herald-api was not built"
if (exec 3<>"/dev/tcp/127.0.0.1/$HERALD_HTTP_PORT") 2>/dev/null; then
  die "port $HERALD_HTTP_PORT is already in use (set HERALD_HTTP_PORT)"
fi

# ------------------------------------------------------------------ stop everything on exit
stack_dir=${HERALD_STACK_DIR:-$ROOT/var/stack}
stack_was_up=0
"$STACK_SCRIPT" status --dir "$stack_dir" >/dev/null 2>&1 && stack_was_up=1
pids=()

# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
  local rc=$? pid alive
  trap - EXIT INT TERM
  trap '' PIPE # stdout may be a pipe that Ctrl-C closed (make run | tee): finish anyway
  set +e
  echo
  say "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in {1..150}; do # up to 15 s to finish in-flight work
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  if ((stack_was_up)); then
    say "the stack was already running before: leaving it up ($STACK_SCRIPT stop)"
  else
    "$STACK_SCRIPT" stop --dir "$stack_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

"$BIN/herald-api" migrate
"$BIN/herald-api" create-admin

# ------------------------------------------------------------------ API and workers
# Each in its own session (setsid): Ctrl-C reaches only this script, which then stops them in
# order with SIGTERM.
mkdir -p "$LOG_DIR"
started=()
# Payments work offline: without a real Stripe key, the fake Stripe of the tests stands in.
if [[ -z ${HERALD_STRIPE_SECRET_KEY:-} ]]; then
  port_file=$stack_dir/fake-stripe.port
  rm -f "$port_file"
  setsid /usr/bin/python3 "$ROOT/tests/fakes/fake_stripe.py" --port 0 --port-file "$port_file" \
    --webhook-url "$url/api/v1/webhooks/stripe" --webhook-secret whsec_dev --exit-with-parent \
    >"$LOG_DIR/fake-stripe.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  [[ -s $port_file ]] || die "the fake Stripe did not start (log: $LOG_DIR/fake-stripe.log)"
  export HERALD_STRIPE_API_BASE=http://127.0.0.1:$(cat "$port_file")
  export HERALD_STRIPE_SECRET_KEY=sk_test_dev HERALD_STRIPE_WEBHOOK_SECRET=whsec_dev
  started+=("fake-stripe($HERALD_STRIPE_API_BASE)")
fi
setsid "$BIN/herald-api" serve >"$LOG_DIR/herald-api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
started+=(herald-api)
for worker in "${WORKERS[@]}"; do
  [[ -x $BIN/$worker ]] || continue
  args=(--log-level info)
  # herald-reconcile schedules its own periodic syncs and the daily ledger run.
  [[ $worker == herald-reconcile ]] && args+=(--every 60s)
  setsid "$BIN/$worker" "${args[@]}" >"$LOG_DIR/$worker.log" 2>&1 &
  pids+=("$!")
  started+=("$worker")
done

deadline=$((SECONDS + 60))
until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" || true) == 200 ]]; do
  if ! kill -0 "$api_pid" 2>/dev/null || ((SECONDS >= deadline)); then
    tail -n 30 "$LOG_DIR/herald-api.log" >&2 || true
    die "herald-api is not ready at $url/readyz (log: $LOG_DIR/herald-api.log)"
  fi
  sleep 0.2
done

cat <<EOF

  Herald is running: ${started[*]}
    API       $url/api/v1
    Docs      $url/docs
    Health    $url/healthz   $url/readyz
    Admin     $HERALD_ADMIN_EMAIL   password: $HERALD_ADMIN_PASSWORD
    Logs      $LOG_DIR/<name>.log   PostgreSQL: $HERALD_PG_LOG   Redis: $HERALD_REDIS_LOG
    Stack     . $stack_dir/stack.env   (psql: scripts/stack.sh psql)

  Ctrl-C to stop.

EOF

# Until Ctrl-C, or until one of the processes exits on its own.
wait -n "${pids[@]}" || true
for i in "${!pids[@]}"; do
  kill -0 "${pids[i]}" 2>/dev/null || say "${started[i]} exited (log: $LOG_DIR/${started[i]}.log)"
done
exit 1
