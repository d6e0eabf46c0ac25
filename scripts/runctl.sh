#!/usr/bin/env bash
# The operator's side of `make run` (scripts/run.sh):
#   runctl.sh status          one line per process: pid, restarts, uptime, state, log; then
#                             each queue: ready, processing, delayed, dead, oldest queued job
#   runctl.sh stop            SIGTERM to the runner, which stops everything; waits up to 30 s
#   runctl.sh logs            follow every process's log (Ctrl-C to leave)
#   runctl.sh reset [--yes]   stop, stop the stack and delete var/ (data, logs, outboxes,
#                             dev secrets), after a confirmation unless --yes
# HERALD_RUN_DIR and HERALD_LOG_DIR as for scripts/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${HERALD_RUN_DIR:-$ROOT/var/run}
LOG_DIR=${HERALD_LOG_DIR:-$ROOT/var/log}
VAR_DIR=${HERALD_VAR_DIR:-$ROOT/var}

die() { echo "$(basename "$0"): $*" >&2; exit "${2:-1}"; }
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

runner_pid() { # prints the runner's pid when it is alive
  local pid
  [[ -f $RUN_DIR/runner.pid ]] || return 1
  pid=$(cat "$RUN_DIR/runner.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

human() { # human SECONDS: 42s, 3m05s, 2h07m, 1d03h
  local s=$1
  if ((s < 60)); then printf '%ds' "$s"
  elif ((s < 3600)); then printf '%dm%02ds' $((s / 60)) $((s % 60))
  elif ((s < 86400)); then printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
  else printf '%dd%02dh' $((s / 86400)) $((s % 86400 / 3600)); fi
}

cmd_status() {
  local pid now name ppid restarts since state log up
  if ! pid=$(runner_pid); then
    echo "Herald is not running (make run starts it)"
    return 3
  fi
  [[ -f $RUN_DIR/status ]] || die "runner $pid is starting (no status yet)"
  now=$(date +%s)
  echo "runner pid $pid"
  printf '%-18s %8s %9s %9s  %-9s %s\n' PROCESS PID RESTARTS UPTIME STATE LOG
  while read -r name ppid restarts since state log; do
    [[ $name == \#* ]] && continue
    up=-
    if [[ $state == running ]] && kill -0 "$ppid" 2>/dev/null; then
      up=$(human $((now - since)))
    else
      ppid=-
    fi
    printf '%-18s %8s %9s %9s  %-9s %s\n' "$name" "$ppid" "$restarts" "$up" "$state" "$log"
  done <"$RUN_DIR/status"
  queues
}

# The queues in one screen: depths, dead letters and the oldest queued job of each channel,
# from the workers' `stats --json` against the stack of `make run`.
queues() {
  local stack_env=${HERALD_STACK_DIR:-$ROOT/var/stack}/stack.env bin=${HERALD_RUN_BIN:-$ROOT/build/bin}
  [[ -f $stack_env ]] || return 0
  echo
  (
    # shellcheck disable=SC1090
    . "$stack_env"
    for w in email sms push webhook; do
      [[ -x $bin/herald-$w ]] && "$bin/herald-$w" stats --json 2>/dev/null
    done
  ) | python3 -c '
import json, sys
print("%-8s %8s %11s %8s %9s  %s" % ("QUEUE", "READY", "PROCESSING", "DELAYED", "DEAD/DLQ", "OLDEST QUEUED"))
for line in sys.stdin:
    try:
        q = json.loads(line)
    except ValueError:
        continue
    r = q.get("redis") or {}
    age = q.get("oldest_queued_seconds")
    get = lambda k: "?" if not r else str(r.get(k, "?"))
    print("%-8s %8s %11s %8s %9s  %s" % (q.get("queue"), get("ready"), get("processing"),
          get("delayed"), get("dead"), "-" if age is None else "%ss ago" % age))
'
}

cmd_stop() {
  local pid
  if ! pid=$(runner_pid); then
    echo "Herald is not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "stopped (runner $pid)"; return 0; }
    sleep 0.1
  done
  die "runner $pid still running after 30 s"
}

cmd_logs() {
  shopt -s nullglob
  local logs=("$LOG_DIR"/*.log)
  ((${#logs[@]})) || die "no logs in $LOG_DIR yet (make run)"
  exec tail -n 20 -F "${logs[@]}"
}

cmd_reset() {
  local yes=0 answer
  for a in "$@"; do
    case $a in
      --yes | -y) yes=1 ;;
      *) die "reset: unknown argument '$a' (reset [--yes])" 2 ;;
    esac
  done
  [[ -d $VAR_DIR ]] || { echo "nothing to reset ($VAR_DIR does not exist)"; return 0; }
  if ((!yes)); then
    [[ -t 0 ]] || die "reset: no terminal to confirm on; use --yes (make reset YES=1)" 2
    read -r -p "Delete $VAR_DIR (database, Redis data, logs, outboxes, dev secrets)? [y/N] " answer
    [[ $answer == [yY] || $answer == [yY][eE][sS] ]] || { echo "nothing deleted"; return 1; }
  fi
  cmd_stop
  local d
  for d in "$VAR_DIR"/*/; do
    [[ -f $d.herald-stack ]] && bash "$ROOT/scripts/stack.sh" stop --purge --dir "${d%/}" >/dev/null
  done
  rm -rf "$VAR_DIR"
  echo "deleted $VAR_DIR"
}

case ${1:-} in
  status) cmd_status ;;
  stop) cmd_stop ;;
  logs) cmd_logs ;;
  reset) shift; cmd_reset "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
