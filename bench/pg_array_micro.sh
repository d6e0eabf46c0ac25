#!/usr/bin/env bash
# The group commit's array parameters apart from everything else: builds bench/pg_array_micro.c
# against the Release libraries (BENCH_BUILD, build-rel/), runs it against a throw-away
# PostgreSQL, and prints the client's and the backend's CPU per send with the arrays as text
# literals and in the binary format. Run it twice or more: the figures are CPU time, but the
# machine is shared.
#   bench/pg_array_micro.sh [calls, default 20000] [sends per batch, default 37]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CALLS=${1:-20000}
SENDS=${2:-37}
[[ $CALLS =~ ^[1-9][0-9]*$ && $SENDS =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: bench/pg_array_micro.sh [calls] [sends per batch] (positive integers)" >&2; exit 2; }
bench_micro pg_array_micro
"$stack/pg_array_micro" "$HERALD_DATABASE_URL" "$CALLS" "$SENDS"
