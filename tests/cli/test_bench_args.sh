#!/usr/bin/env bash
# The bench scripts refuse bad settings before they build, start a stack or run the Django
# peer: BENCH_CHANNELS (bench/lib.sh), the arguments of instructions_post.sh, wal_recycle.sh,
# write_levers.sh (and its BENCH_VARIANTS) and sweep_outage.sh, workers_drain.sh's options and feed.sh's
# BENCH_CHANGERS. No stack is needed.
#   tests/cli/test_bench_args.sh <project root>
set -uo pipefail
ROOT=${1:?usage: test_bench_args.sh <project root>}
fails=0
# expect CODE PATTERN CMD...: CMD exits CODE and its stderr matches PATTERN
expect() {
  local code=$1 pattern=$2 err rc
  shift 2
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc != "$code" || ! $err =~ $pattern ]]; then
    echo "FAIL: $* -> exit $rc (want $code), stderr: $err" >&2
    fails=$((fails + 1))
  else
    echo "ok: $* -> $code"
  fi
}
cd "$ROOT" || exit 1
for bad in fax "in_app,,email" "in_app, email" "," "EMAIL" "in_app,email,"; do
  expect 2 "BENCH_CHANNELS: channels from in_app, email, sms, push" \
    env BENCH_CHANNELS="$bad" bench/notifications_post.sh 3
done
# peer.sh checks the channels before it touches the peer (this directory does not exist)
expect 2 "BENCH_CHANNELS" env BENCH_CHANNELS=fax BENCH_PEER_DIR=/nonexistent-peer bench/peer.sh 3
expect 1 "set BENCH_PEER_DIR" env -u BENCH_PEER_DIR bench/peer.sh 3
# good values: exported as given, the default the series' three channels
n=$(env BENCH_CHANNELS=in_app,email bash -c '. bench/lib.sh; echo "$bench_channels_n $BENCH_CHANNELS"')
[[ $n == "2 in_app,email" ]] || { echo "FAIL: in_app,email -> '$n'" >&2; fails=$((fails + 1)); }
n=$(env -u BENCH_CHANNELS bash -c '. bench/lib.sh; echo "$bench_channels_n $BENCH_CHANNELS"')
[[ $n == "3 in_app,email,sms" ]] || { echo "FAIL: default -> '$n'" >&2; fails=$((fails + 1)); }
# instructions_post.sh: its two integers, the channels and the key setting, before valgrind
for bad in x 2 -3 "3 4"; do
  expect 2 "usage: bench/instructions_post.sh" bench/instructions_post.sh "$bad"
done
expect 2 "usage: bench/instructions_post.sh" bench/instructions_post.sh 30 0
expect 2 "BENCH_CHANNELS" env BENCH_CHANNELS=fax bench/instructions_post.sh 30
for bad in x 2 "1 " yes; do
  expect 2 "HERALD_BENCH_IDEMPOTENCY: 0 or 1" env HERALD_BENCH_IDEMPOTENCY="$bad" \
    bench/instructions_post.sh 30
done
# wal_recycle.sh: its seconds and the channels, before it builds
for bad in x 0 -3 "3 4" 1.5 ""; do
  expect 2 "usage: bench/wal_recycle.sh" bench/wal_recycle.sh "$bad"
done
expect 2 "usage: bench/wal_recycle.sh" bench/wal_recycle.sh 3 4
expect 2 "BENCH_CHANNELS" env BENCH_CHANNELS=fax bench/wal_recycle.sh 3
# write_levers.sh: its seconds, its rounds and the channels, before it builds
for bad in x 0 -3 "3 4" 1.5 ""; do
  expect 2 "usage: bench/write_levers.sh" bench/write_levers.sh "$bad"
done
for bad in 0 10 x -1 "" 1.5; do
  expect 2 "usage: bench/write_levers.sh" bench/write_levers.sh 5 "$bad"
done
expect 2 "usage: bench/write_levers.sh" bench/write_levers.sh 5 2 3
expect 2 "BENCH_CHANNELS" env BENCH_CHANNELS=fax bench/write_levers.sh 3
# ... and the variants it is asked for
expect 2 "BENCH_VARIANTS names no variant" env BENCH_VARIANTS= bench/write_levers.sh 3
expect 2 "unknown variant 'fast'" env BENCH_VARIANTS=slim,fast bench/write_levers.sh 3
expect 2 "unknown variant ''" env BENCH_VARIANTS=slim,,no-audit-row bench/write_levers.sh 3
expect 2 "unknown variant 'slim '" env "BENCH_VARIANTS=slim ,no-audit-row" bench/write_levers.sh 3
expect 2 "ends with a comma" env BENCH_VARIANTS=slim, bench/write_levers.sh 3
expect 2 "stock always runs" env BENCH_VARIANTS=stock,slim bench/write_levers.sh 3
expect 2 "'slim' named twice" env BENCH_VARIANTS=slim,no-audit-row,slim bench/write_levers.sh 3
# the variants run only when named are known (a second naming is what refuses these)...
for v in full-action-index no-time-indexes no-unread-feed-index no-delivery-notification-index; do
  expect 2 "'$v' named twice" env BENCH_VARIANTS="$v,$v" bench/write_levers.sh 3
done
# ... and an unknown name's message lists them
expect 2 "known: .* no-delivery-notification-index" env BENCH_VARIANTS=fast bench/write_levers.sh 3
# sweep_outage.sh: integers, an outage of 10 s or more
expect 2 "usage: bench/sweep_outage.sh" bench/sweep_outage.sh x
expect 2 "usage: bench/sweep_outage.sh" bench/sweep_outage.sh 120 0
expect 2 "the outage needs 10 s or more" bench/sweep_outage.sh 5
# workers_drain.sh: every option checked before the stack starts
for bad in x -1 10001 20000 1.5 "" 123456; do
  expect 2 "provider-delay: milliseconds from 0 to 10000" bench/workers_drain.sh --provider-delay "$bad"
done
for bad in 0 x -5 1e3 "" 123456789; do
  expect 2 "jobs: a number of jobs from 1 to 99999999" bench/workers_drain.sh --jobs "$bad"
done
for bad in 0 x "4 x" 257 "2,4" 04; do
  expect 2 "concurrency: thread counts from 1 to 256" bench/workers_drain.sh --concurrency "$bad"
done
expect 2 "concurrency: one or more thread counts" bench/workers_drain.sh --concurrency " "
for bad in SMS EMAIL all " " email,push email_api email-API api; do
  expect 2 "only: email, email-api, push or sms" bench/workers_drain.sh --only "$bad"
done
for bad in foo "=1" "lower=1" "A B=1"; do
  expect 2 "env: VAR=VALUE" bench/workers_drain.sh --env "$bad"
done
expect 2 "build and --out need a path" bench/workers_drain.sh --build ""
expect 2 "build and --out need a path" bench/workers_drain.sh --out ""
for opt in --jobs --concurrency --build --out --only --env --perf --provider-delay; do
  expect 2 "usage: bench/workers_drain.sh" bench/workers_drain.sh "$opt"
done
expect 2 "usage: bench/workers_drain.sh" bench/workers_drain.sh --no-such-option
# feed.sh: BENCH_CHANGERS (connections POSTing to the bench user) before it builds
for bad in -1 65 two "1 2" 100 1.5 " "; do
  expect 2 "BENCH_CHANGERS must be 0-64" env BENCH_CHANGERS="$bad" bench/feed.sh 3
done
((fails == 0)) || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all bench argument checks passed"
