#!/bin/bash
# Entry point of the Herald image: the first argument names the role, the rest are its flags.
#   api [flags]          herald-api serve (the default)
#   migrate              herald-api migrate: apply pending migrations, then exit
#   create-admin|config  the other herald-api commands
#   email|sms|push|reconcile [flags]   the worker herald-<role> (e.g. --concurrency 8)
#   anything else        run as a command (e.g. herald-email dlq list, bash)
# exec: the server is PID 1 and receives SIGTERM itself (it drains, then exits 0).
set -euo pipefail
role=${1:-api}
[[ $# -gt 0 ]] && shift
case $role in
  api | serve) exec herald-api serve "$@" ;;
  migrate | create-admin | config) exec herald-api "$role" "$@" ;;
  email | sms | push | reconcile)
    command -v "herald-$role" >/dev/null ||
      { echo "docker-entrypoint: herald-$role is not in this image" >&2; exit 127; }
    exec "herald-$role" "$@" ;;
  *) exec "$role" "$@" ;;
esac
