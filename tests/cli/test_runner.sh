#!/usr/bin/env bash
# `make run`'s supervisor (scripts/run.sh) against the test stack: a worker killed with
# SIGKILL is restarted with its exit status logged while the API keeps serving and the other
# processes keep their pids; a process that crash-loops is given up with a clear message;
# `make status` shows pid, restarts and uptime; `make stop` stops everything; `make reset`
# asks first. Needs the stack of scripts/test.sh (HERALD_STACK_DIR, left running).
#   test_runner.sh <source dir> <bin dir>
set -uo pipefail
SRC=${1:?usage: test_runner.sh <source dir> <bin dir>}
BIN=${2:?usage: test_runner.sh <source dir> <bin dir>}
[[ -n ${HERALD_STACK_DIR:-} ]] || { echo "SKIPPED: no test stack (run through make test)"; exit 77; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# The stack's Redis is shared with the tests run before this one, whose API processes (limits
# of 10^6) counted the sign-ins of 127.0.0.1 in blocks; this runner's API keeps the default
# limits, so it starts from clean counters.
redis-cli -u "$HERALD_REDIS_URL" --scan --pattern 'herald:rl:*' |
  xargs -r redis-cli -u "$HERALD_REDIS_URL" DEL >/dev/null
work=$(mktemp -d)
runner=
cleanup() {
  if [[ -n $runner ]] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner"
    wait "$runner" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS PATTERN: until the runner's output matches
  local end=$((SECONDS + $1))
  until grep -Eq -- "$2" "$work/run.out"; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
field() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/run/status"; } # field NAME COLUMN
runctl() { HERALD_RUN_DIR=$work/run HERALD_LOG_DIR=$work/log bash "$SRC/scripts/runctl.sh" "$@"; }

export HERALD_RUN_SKIP_BUILD=1 HERALD_RUN_BIN=$BIN HERALD_RUN_DIR=$work/run HERALD_LOG_DIR=$work/log
export HERALD_HTTP_PORT=$(free_port) HERALD_PROBE_PORT=0 HERALD_RUN_MAX_RESTARTS=2
export HERALD_ADMIN_EMAIL=runner-test@herald.local HERALD_ADMIN_PASSWORD=runner-test-password-1
export HERALD_JWT_SECRET=runner-test-jwt-secret-0123456789abcdef0123456789
export HERALD_EMAIL_OUTBOX_DIR=$work/outbox/email HERALD_SMS_OUTBOX_DIR=$work/outbox/sms
export HERALD_PUSH_OUTBOX_DIR=$work/outbox/push HERALD_WORKER_BLOCK_MS=200
export HERALD_DEMO_DIR=$work/demo HERALD_DEMO_EMAIL=runner-demo@herald.local
export HERALD_DEMO_PASSWORD=runner-demo-password-1
base=http://127.0.0.1:$HERALD_HTTP_PORT

# bad settings stop the runner before it starts anything
out=$(HERALD_RUN_MAX_RESTARTS=lots bash "$SRC/scripts/run.sh" 2>&1) && fail "MAX_RESTARTS=lots accepted" ||
  { [[ $out == *"HERALD_RUN_MAX_RESTARTS"* ]] && ok "bad HERALD_RUN_MAX_RESTARTS refused" || fail "message: $out"; }
out=$(HERALD_RUN_BACKOFF_MAX_S=0 bash "$SRC/scripts/run.sh" 2>&1) && fail "BACKOFF_MAX_S=0 accepted" ||
  { [[ $out == *"HERALD_RUN_BACKOFF_MAX_S"* ]] && ok "bad HERALD_RUN_BACKOFF_MAX_S refused" || fail "message: $out"; }
runctl status >/dev/null; [[ $? == 3 ]] && ok "status when not running exits 3" || fail "status when not running"
runctl bogus >/dev/null 2>&1; [[ $? == 2 ]] && ok "unknown runctl command exits 2" || fail "runctl bogus"

# herald-push with FCM and no credentials exits 78 at every start: a crash loop
HERALD_PUSH_PROVIDER=fcm bash "$SRC/scripts/run.sh" >"$work/run.out" 2>&1 &
runner=$!
if wait_for 60 "run: .* ready"; then ok "the runner is ready"; else
  fail "not ready in 60 s"; cat "$work/run.out"; exit 1
fi
for what in "$base/api/v1" "$base/docs" "$base/metrics" "Admin      runner-test@herald.local" \
  "$work/outbox/email/<delivery id>.eml" "$work/outbox/sms" "$work/outbox/push" "make logs" "make status" \
  "$work/log/herald-api.log"; do
  grep -qF -- "$what" "$work/run.out" && ok "banner shows $what" || fail "banner lacks $what"
done
# the inbox demo page (when Node.js is there to build it): served, and its user set up
if command -v node >/dev/null; then
  grep -qF -- "Demo       $base/demo   (runner-demo@herald.local" "$work/run.out" && ok "banner shows the demo page" ||
    { fail "banner lacks the demo page: $(grep Demo "$work/run.out")"; tail -30 "$work/log/run.log"; }
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/demo") == 200 ]] && ok "/demo answers 200" || fail "/demo"
  curl -s "$base/demo/demo.json" | grep -q '"email": "runner-demo@herald.local"' && ok "demo.json names the demo user" ||
    fail "demo.json"
  tok=$(curl -s -H 'Content-Type: application/json' -d '{"email":"runner-demo@herald.local","password":"runner-demo-password-1"}' \
    "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $tok" "$base/api/v1/notifications" | grep -q '"title":"Welcome to Herald"' &&
    ok "the demo user signs in and has its welcome notification" || fail "demo user's feed"
fi
runctl status >"$work/status.out" && grep -Eq "^herald-email +[0-9]+ +0 " "$work/status.out" &&
  ok "status: herald-email running, 0 restarts" || { fail "status"; cat "$work/status.out"; }
grep -Eq "^herald-webhook +[0-9]+ +0 " "$work/status.out" && ok "status: herald-webhook running" ||
  { fail "herald-webhook not running"; cat "$work/status.out"; }
grep -Eq "^webhook +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ " "$work/status.out" &&
  ok "status shows the webhook queue" || fail "status lacks the webhook queue"
grep -q "$work/log/herald-email.log" "$work/status.out" && ok "status shows the log" || fail "status lacks the log"
grep -Eq "^QUEUE +READY +PROCESSING +DELAYED +DEAD/DLQ +OLDEST QUEUED" "$work/status.out" &&
  grep -Eq "^email +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ " "$work/status.out" &&
  ok "status shows the queues" || { fail "status lacks the queues"; cat "$work/status.out"; }

email_pid=$(field herald-email 2) api_pid=$(field herald-api 2) sms_pid=$(field herald-sms 2)
kill -KILL "$email_pid"
if wait_for 20 "herald-email killed by SIGKILL \(status 137\) after [0-9]+s; restart 1 in 1s"; then
  ok "the kill is logged with its status"
else fail "no restart line"; fi
wait_for 20 "herald-email restarted \(pid [0-9]+, restart 1\)" && ok "herald-email restarted" || fail "not restarted"
sleep 0.5
new_pid=$(field herald-email 2)
[[ $new_pid != "$email_pid" && $new_pid != 0 ]] && kill -0 "$new_pid" 2>/dev/null &&
  ok "new herald-email pid $new_pid alive" || fail "herald-email pid $new_pid"
[[ $(field herald-email 3) == 1 ]] && ok "restarts counted" || fail "restarts $(field herald-email 3)"
[[ $(field herald-api 2) == "$api_pid" && $(field herald-sms 2) == "$sms_pid" ]] &&
  ok "the others kept running" || fail "another process changed pid"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")
[[ $code == 200 ]] && ok "the API still serves" || fail "/healthz -> $code"
starts=$(grep -c "herald-email worker" "$work/log/herald-email.log")
[[ $starts == 2 ]] && ok "both herald-email runs log to the same file" || fail "herald-email starts logged: $starts"

# the crash loop: 2 restarts (1 s, 2 s), then given up, the rest still up
if wait_for 30 "herald-push exit status 78 .*GIVING UP"; then ok "crash loop given up"; else
  fail "no give-up"; tail -n 20 "$work/run.out"; fi
grep -Eq "herald-push exit status 78 after [0-9]+s; restart 2 in 2s" "$work/run.out" &&
  ok "backoff doubles" || fail "no 2 s backoff"
sleep 0.5
runctl status >"$work/status.out"
grep -Eq "^herald-push +- +2 +- +gave-up" "$work/status.out" && ok "status: herald-push gave-up" ||
  { fail "status after give-up"; cat "$work/status.out" "$work/run/status"; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")
[[ $code == 200 ]] && kill -0 "$runner" && ok "API and runner alive after the give-up" || fail "after give-up: $code"

# make stop: everything goes
pids=$(awk '!/^#/ && $2 != 0 { print $2 }' "$work/run/status")
runctl stop >"$work/stop.out" && grep -q "stopped" "$work/stop.out" && ok "stop" || fail "stop"
wait "$runner" 2>/dev/null
rc=$?
[[ $rc == 0 ]] && ok "the runner exits 0 on make stop" || fail "the runner exited $rc on make stop"
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
((alive == 0)) && ok "every process stopped" || fail "a process outlived the runner"
runner=
[[ ! -e $work/run/runner.pid ]] && ok "runner pid removed" || fail "stale runner.pid"

# make reset: asks, refuses without a terminal, --yes deletes
mkdir -p "$work/var/log" && touch "$work/var/log/x.log"
HERALD_VAR_DIR=$work/var runctl reset </dev/null >/dev/null 2>&1
[[ $? == 2 && -d $work/var ]] && ok "reset without a terminal or --yes deletes nothing" || fail "reset no-tty"
HERALD_VAR_DIR=$work/var runctl reset --bogus >/dev/null 2>&1
[[ $? == 2 && -d $work/var ]] && ok "reset --bogus refused" || fail "reset --bogus"
HERALD_VAR_DIR=$work/var runctl reset --yes >/dev/null && [[ ! -e $work/var ]] &&
  ok "reset --yes deletes var" || fail "reset --yes"

if ((fails)); then
  echo "--- runner output"; cat "$work/run.out"
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
