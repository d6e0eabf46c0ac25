#!/usr/bin/env bash
# The rate limiter's cost per request, apart from everything else: builds
# bench/ratelimit_micro.c against the Release libraries (BENCH_BUILD, build-rel/), runs it
# against a throw-away Redis, and prints the client's CPU and wall time per call next to a bare
# PING, then the Redis CPU per command (INFO commandstats).
#   bench/ratelimit_micro.sh [calls, default 40000]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CALLS=${1:-40000}
bench_micro ratelimit_micro
"$stack/ratelimit_micro" "$HERALD_REDIS_URL" 2000 >/dev/null # warm-up
redis-cli -u "$HERALD_REDIS_URL" CONFIG RESETSTAT >/dev/null
"$stack/ratelimit_micro" "$HERALD_REDIS_URL" "$CALLS"
echo "Redis CPU per command:"
redis-cli -u "$HERALD_REDIS_URL" INFO commandstats | grep -E '^cmdstat_(ping|incrby|pexpire|pttl):' |
  sed -E 's/^cmdstat_([a-z]+):calls=([0-9]+),usec=[0-9]+,usec_per_call=([0-9.]+).*/  \1: \3 us (\2 calls)/'
