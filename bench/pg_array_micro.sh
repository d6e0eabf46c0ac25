#!/usr/bin/env bash
# The group commit's array parameters apart from everything else: builds bench/pg_array_micro.c
# against the Release libraries (build-rel/, built if missing), runs it against a throw-away
# PostgreSQL, and prints the client's and the backend's CPU per send with the arrays as text
# literals and in the binary format. Run it twice or more: the figures are CPU time, but the
# machine is shared.
#   bench/pg_array_micro.sh [calls, default 20000] [sends per batch, default 37]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CALLS=${1:-20000}
SENDS=${2:-37}
[[ $CALLS =~ ^[1-9][0-9]*$ && $SENDS =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: bench/pg_array_micro.sh [calls] [sends per batch] (positive integers)" >&2; exit 2; }
REL=$ROOT/build-rel
if [[ ! -f $REL/common/libherald_infra.a ]]; then
  cmake -S "$ROOT" -B "$REL" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$REL" -j2 --target herald_infra >/dev/null
stack=$(mktemp -d /tmp/herald-pgarray-XXXX)
cleanup() { "$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# shellcheck disable=SC2046
cc -O2 -I "$ROOT/common" -I "$(pg_config --includedir)" -o "$stack/pg_array_micro" "$ROOT/bench/pg_array_micro.c" \
  "$REL/common/libherald_infra.a" \
  $(pkg-config --libs hiredis jansson libpq libcurl openssl liborcania libyder) -lpthread -lm
"$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
# shellcheck disable=SC1091
. "$stack/stack.env"
"$stack/pg_array_micro" "$HERALD_DATABASE_URL" "$CALLS" "$SENDS"
