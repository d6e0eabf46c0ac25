#!/usr/bin/env bash
# `make bench`: the benchmark scripts of bench/ one after the other, each starting its own stack
# and writing a Markdown report to bench/results/ (machine, commit, configuration, figures).
# Ratios are computed inside one script's run, since absolute numbers on shared machines drift.
#   BENCH_SECONDS       seconds per HTTP run (default 10)
#   BENCH_JOBS          jobs per worker drain (default 50000)
#   BENCH_BUILD         the Release build directory every script uses (default build-rel)
#   BENCH_CONNECTIONS   wrk connections of the HTTP scripts (default "64 256")
#   BENCH_GROWTH        table sizes of the growth scenario (default "1000000 10000000")
#   BENCH_SOAK_SECONDS  the memory soak at 256 connections (default 600; 60 for a quick run)
#   BENCH_PEER_DIR      an installed Django peer (e.g. /work/shared/peers-django): also measure
#                       it beside Herald's POST (bench/peer.sh, BENCH_PEER_SECONDS, default 20)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/deps.sh
secs=${BENCH_SECONDS:-10}
export BENCH_BUILD=${BENCH_BUILD:-build-rel}
build=$BENCH_BUILD
[[ $build == /* ]] || build=$ROOT/$build
cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
echo "bench: 1/6 HTTP baseline (epoll vs ulfius default, /users/me vs /healthz)"
bench/http_baseline.sh "$secs"
echo "bench: 1b/6 /users/me and /healthz beside payments held by a slow provider"
bench/slow_provider.sh "$secs"
echo "bench: 2/6 POST /api/v1/notifications beside /healthz (in-app, e-mail and SMS, the series)"
BENCH_CHANNELS=in_app,email,sms HERALD_BENCH_BIN=$build/bin/herald-api \
  bench/notifications_post.sh "$secs"
echo "bench: 2a/6 the same with the request issue 15's goals name (in-app and e-mail)"
BENCH_CHANNELS=in_app,email HERALD_BENCH_BIN=$build/bin/herald-api \
  bench/notifications_post.sh "$secs"
if [[ -n ${BENCH_PEER_DIR:-} ]]; then
  echo "bench: 2b/6 the Django peer in $BENCH_PEER_DIR, then Herald's POST (in-app and e-mail)"
  BENCH_CHANNELS=in_app,email HERALD_BENCH_BIN=$build/bin/herald-api \
    bench/peer.sh "${BENCH_PEER_SECONDS:-20}"
fi
echo "bench: 2c/6 POST in rounds on one stack, beside PostgreSQL's checkpoints and autovacuum"
bench/post_rounds.sh 4 "$secs"
echo "bench: 2d/6 the sweeper's search against the backlog POST leaves without workers"
bench/sweep_backlog.sh 20
echo "bench: 2e/6 the fan-out of an announcement to ${BENCH_FANOUT_USERS:-20000} users"
bench/fanout.sh
echo "bench: 2f/6 POST's cost per send and per group-commit batch (64 and 256 connections)"
HERALD_BENCH_BIN=$build/bin/herald-api bench/batch_cost.sh "$secs" 2
echo "bench: 2g/6 a backlog behind stopped workers: its copies in Redis, the sweeper's CPU"
HERALD_BENCH_BIN=$build/bin/herald-api bench/sweep_outage.sh 120 4
echo "bench: 3/6 worker drains (herald-email, herald-push)"
bench/workers_drain.sh --jobs "${BENCH_JOBS:-50000}" --build "$build"
echo "bench: 4/6 the feed at 100,000 notifications, POST and feed at ${BENCH_GROWTH:-1000000 10000000} rows"
bench/feed.sh "$secs"
echo "bench: 5/6 API memory at 256 connections for ${BENCH_SOAK_SECONDS:-600} s"
bench/memory.sh "${BENCH_SOAK_SECONDS:-600}"
echo "bench: 6/6 the notification stream: ${BENCH_STREAMS:-10000} streams, POST beside them, latency"
bench/stream.sh "$secs"
echo "bench: reports in bench/results/"
ls -t bench/results/ | head -10
