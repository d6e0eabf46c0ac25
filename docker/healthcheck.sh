#!/bin/bash
# HEALTHCHECK of the Herald image (no curl in the image: bash's /dev/tcp is enough).
# PID 1 is the server (docker/entrypoint.sh execs it), so its name tells the role:
#   herald-api      GET /healthz on 127.0.0.1:$HERALD_HTTP_PORT must answer 200
#   herald-<worker> GET /metrics on 127.0.0.1:$HERALD_WORKER_METRICS_PORT when that is set
#                   (a stuck worker stops answering), otherwise: the process is alive
set -uo pipefail

http_ok() { # http_ok PORT PATH: 0 when the answer's status line is 200
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$2" >&3 || return 1
  IFS= read -r -t 3 status <&3 || return 1
  exec 3<&-
  [[ $status == "HTTP/1."[01]" 200"* ]]
}

role=$(cat /proc/1/comm 2>/dev/null || echo unknown)
case $role in
  herald-api) http_ok "${HERALD_HTTP_PORT:-8080}" /healthz ;;
  herald-*)
    port=${HERALD_WORKER_METRICS_PORT:-0}
    if [[ $port != 0 ]]; then http_ok "$port" /metrics; else kill -0 1; fi ;;
  *) exit 0 ;; # a one-shot command (migrate, a shell): nothing to check
esac
