#!/usr/bin/env bash
# `make bench`: the benchmark scripts of bench/ one after the other, each starting its own stack
# and writing a Markdown report to bench/results/ (machine, commit, configuration, figures).
# Ratios are computed inside one script's run, since absolute numbers on shared machines drift.
#   BENCH_SECONDS   seconds per HTTP run (default 10)
#   BENCH_JOBS      jobs per worker drain (default 50000)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/deps.sh
secs=${BENCH_SECONDS:-10}
echo "bench: 1/3 HTTP baseline (epoll vs ulfius default, /users/me vs /healthz)"
bench/http_baseline.sh "$secs"
echo "bench: 2/3 POST /api/v1/notifications beside /healthz"
bench/notifications_post.sh "$secs"
echo "bench: 3/3 worker drains (herald-email, herald-push)"
cmake -S "$ROOT" -B "$ROOT/build-rel" -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_TESTS=OFF >/dev/null
cmake --build "$ROOT/build-rel" -j2 >/dev/null
bench/workers_drain.sh --jobs "${BENCH_JOBS:-50000}" --build build-rel
echo "bench: reports in bench/results/"
ls -t bench/results/ | head -5
