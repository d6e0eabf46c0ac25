#!/usr/bin/env bash
# The rate limiter's cost per request, apart from everything else: builds
# bench/ratelimit_micro.c against the Release libraries (build-rel/, built if missing), runs it
# against a throw-away Redis, and prints the client's CPU and wall time per call next to a bare
# PING, then the Redis CPU per command (INFO commandstats).
#   bench/ratelimit_micro.sh [calls, default 40000]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CALLS=${1:-40000}
REL=$ROOT/build-rel
if [[ ! -f $REL/common/libherald_infra.a ]]; then
  cmake -S "$ROOT" -B "$REL" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$REL" -j2 --target herald_infra >/dev/null
stack=$(mktemp -d /tmp/herald-rlmicro-XXXX)
cleanup() { "$ROOT/scripts/stack.sh" stop --purge --dir "$stack" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# shellcheck disable=SC2046
cc -O2 -I "$ROOT/common" -o "$stack/ratelimit_micro" "$ROOT/bench/ratelimit_micro.c" \
  "$REL/common/libherald_infra.a" \
  $(pkg-config --libs hiredis jansson libpq libcurl openssl liborcania libyder) -lpthread -lm
"$ROOT/scripts/stack.sh" start --ephemeral --dir "$stack" >/dev/null
# shellcheck disable=SC1091
. "$stack/stack.env"
"$stack/ratelimit_micro" "$HERALD_REDIS_URL" 2000 >/dev/null # warm-up
redis-cli -u "$HERALD_REDIS_URL" CONFIG RESETSTAT >/dev/null
"$stack/ratelimit_micro" "$HERALD_REDIS_URL" "$CALLS"
echo "Redis CPU per command:"
redis-cli -u "$HERALD_REDIS_URL" INFO commandstats | grep -E '^cmdstat_(ping|incrby|pexpire|pttl):' |
  sed -E 's/^cmdstat_([a-z]+):calls=([0-9]+),usec=[0-9]+,usec_per_call=([0-9.]+).*/  \1: \3 us (\2 calls)/'
