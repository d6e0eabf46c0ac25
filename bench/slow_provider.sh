#!/usr/bin/env bash
# A slow payment provider beside the rest of the API (api/http/offload.h): GET /api/v1/users/me
# and GET /healthz at 64 connections alone, BENCH_PAYERS (16) connections creating payments
# alone, whose PaymentIntent the fake Stripe (tests/fakes/fake_stripe.py) holds
# BENCH_PROVIDER_DELAY_S (1) seconds each, then the reads beside the payments; for each
# HERALD_HTTP_OFFLOAD_THREADS in BENCH_OFFLOAD (default "16 0": the pool's default, and none,
# where the payments wait on the HTTP threads as before the pool).
# Usage: bench/slow_provider.sh [seconds per run, default 10]. Needs wrk; builds BENCH_BUILD
# (lib.sh); starts its own ephemeral stack and fake Stripe, on loopback only.
# Writes bench/results/slow-provider-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-10}
PAYERS=${BENCH_PAYERS:-16}
DELAY=${BENCH_PROVIDER_DELAY_S:-1}
POOLS=${BENCH_OFFLOAD:-16 0}
[[ $DUR =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [seconds per run, a positive integer]" >&2; exit 2; }
[[ $PAYERS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_PAYERS must be a positive integer" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
bench_build
bench_stack

python3 "$ROOT/tests/fakes/fake_stripe.py" --port 0 --port-file "$stack/stripe.port" --quiet \
  --exit-with-parent >>"$stack/stripe.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $stack/stripe.port ]] && break; sleep 0.1; done
[[ -s $stack/stripe.port ]] || { echo "bench: the fake Stripe did not start" >&2; exit 1; }
STRIPE=http://127.0.0.1:$(cat "$stack/stripe.port")
# Every PaymentIntent is held DELAY seconds, then succeeds; Herald's timeout is far above it.
curl -sf -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"method\":\"POST\",\"path\":\"/v1/payment_intents\",\"error\":\"hang\",\"count\":100000000,\"delay_s\":$DELAY}" \
  "$STRIPE/_fake/inject"
export HERALD_STRIPE_API_BASE=$STRIPE HERALD_STRIPE_SECRET_KEY=sk_test_bench \
  HERALD_STRIPE_TIMEOUT_MS=30000 HERALD_STRIPE_MAX_RETRIES=0 HERALD_PAYMENT_CURRENCIES=USD

port=$((20000 + RANDOM % 20000))
report=$ROOT/bench/results/slow-provider-$(date -u +%Y%m%d-%H%M%S).md
rows=()
first=1
for pool in $POOLS; do
  export HERALD_HTTP_OFFLOAD_THREADS=$pool
  if ((first)); then
    bench_start_api "$port"
    HERALD_BENCH_TOKEN=$(bench_token "$BASE" bench-payer@example.com bench-payer-password-1)
    export HERALD_BENCH_TOKEN
    first=0
  else
    bench_api "$port"
  fi
  wrk -t2 -c64 -d2s -s "$HERE/users_me.lua" "$BASE/api/v1/users/me" >/dev/null # warm-up
  paid_before=$(sql "SELECT count(*) FROM payments WHERE status = 'succeeded'")
  me_alone=$(wrk_run 64 "$DUR" users_me.lua "$BASE/api/v1/users/me")
  hz_alone=$(wrk_run 64 "$DUR" healthz.lua "$BASE/healthz")
  pay_alone=$(wrk -t1 -c"$PAYERS" -d"${DUR}s" --timeout 30s -s "$HERE/payments_post.lua" \
    "$BASE/api/v1/payments" | awk '/^RESULT/ {$1 = ""; print}')
  # The payers run through both measurements beside them, from 2 s before the first.
  wrk -t1 -c"$PAYERS" -d"$((2 * DUR + 4))s" --timeout 30s -s "$HERE/payments_post.lua" \
    "$BASE/api/v1/payments" >"$stack/payers.out" 2>&1 &
  payers=$!
  sleep 2
  me_beside=$(wrk_run 64 "$DUR" users_me.lua "$BASE/api/v1/users/me")
  hz_beside=$(wrk_run 64 "$DUR" healthz.lua "$BASE/healthz")
  wait "$payers"
  pay=$(awk '/^RESULT/ {$1 = ""; print}' "$stack/payers.out")
  paid=$(($(sql "SELECT count(*) FROM payments WHERE status = 'succeeded'") - paid_before))
  rows+=("$pool|$me_alone|$hz_alone|$me_beside|$hz_beside|$pay_alone|$pay|$paid")
  kill "$api_pid"
  wait "$api_pid" 2>/dev/null || true
  pids=("${pids[@]/$api_pid/}")
done

{
  echo "# A slow payment provider beside the API ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  bench_header
  echo "HERALD_HTTP_OFFLOAD_THREADS per row; $PAYERS connections creating payments, each"
  echo "PaymentIntent held ${DELAY} s by the fake Stripe. Command: \`bench/slow_provider.sh $DUR\`."
  echo
  echo "| offload threads | GET /users/me alone | beside the payments | ratio | GET /healthz alone | beside | ratio | payments alone: req/s (p99 ms, non-2xx) | payments beside the reads | payments succeeded |"
  echo "|---:|---|---|---:|---|---|---:|---|---|---:|"
  for row in "${rows[@]}"; do
    IFS='|' read -r pool ma ha mb hb pa pay paid <<<"$row"
    read -r pa_r _ pa_99 pa_bad pa_sock <<<"$pa"
    read -r ma_r _ ma_99 _ <<<"$ma"
    read -r ha_r _ ha_99 _ <<<"$ha"
    read -r mb_r _ mb_99 mb_bad _ <<<"$mb"
    read -r hb_r _ hb_99 hb_bad _ <<<"$hb"
    read -r p_r _ p_99 p_bad p_sock <<<"$pay"
    echo "| $pool | $ma_r req/s (p99 $ma_99 ms) | $mb_r req/s (p99 $mb_99 ms, non-2xx $mb_bad) | $(ratio "$mb_r" "$ma_r") | $ha_r req/s (p99 $ha_99 ms) | $hb_r req/s (p99 $hb_99 ms, non-2xx $hb_bad) | $(ratio "$hb_r" "$ha_r") | $pa_r ($pa_99, $pa_bad, socket errors $pa_sock) | $p_r ($p_99, $p_bad, socket errors $p_sock) | $paid |"
  done
} >"$report"
cat "$report"
