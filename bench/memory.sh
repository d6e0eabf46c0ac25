#!/usr/bin/env bash
# Issue 9, scenario 7: the API's memory under load. One wrk run of SOAK seconds at 256
# connections (bench/mixed.lua: /healthz, /users/me, the feed's first page and a page after a
# random cursor, POST /api/v1/notifications with a template), sampling the API's RSS, peak RSS
# (VmHWM), threads and open files every BENCH_SOAK_INTERVAL seconds. Goals: peak RSS < 50 MB;
# no growth over the run (the samples after the first minute, when pools and caches have filled,
# should stay flat: least-squares slope and the last minute against the first one are reported).
# Usage: bench/memory.sh [soak seconds, default BENCH_SOAK_SECONDS or 600]
#   BENCH_SOAK_INTERVAL     seconds between samples (default 10)
#   BENCH_SOAK_CONNECTIONS  wrk connections (default 256)
#   BENCH_FEED_ROWS         the bench user's notifications (default 10000)
#   BENCH_BUILD, BENCH_STACK_PREFIX: see bench/lib.sh
# Writes bench/results/memory-<date>.md (with every sample); prints a summary.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SOAK=${1:-${BENCH_SOAK_SECONDS:-600}}
EVERY=${BENCH_SOAK_INTERVAL:-10}
CONNS=${BENCH_SOAK_CONNECTIONS:-256}
FEED_ROWS=${BENCH_FEED_ROWS:-10000}

bench_build
bench_stack
PORT=18331
bench_start_api $PORT
bench_fixtures "$BASE"
sql "SELECT bench_seed_notifications(0, $FEED_ROWS, 1000, '$user_id'::uuid)" >/dev/null
sql "ANALYZE notifications; ANALYZE deliveries" >/dev/null
sql "SELECT id FROM notifications WHERE user_id = '$user_id' AND in_app AND deleted_at IS NULL
      ORDER BY random() LIMIT 1000" >"$stack/cursors"
export HERALD_BENCH_TOKEN=$user HERALD_BENCH_ADMIN_TOKEN=$admin HERALD_BENCH_CURSORS=$stack/cursors

status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
idle_rss=$(status "$api_pid" VmRSS) idle_hwm=$(status "$api_pid" VmHWM)
# The fixtures' registrations and logins hashed passwords (scrypt, 16 MiB each, in whichever HTTP
# thread took the request); reset the peak so VmHWM is the load's own.
echo 5 >"/proc/$api_pid/clear_refs"
a0=$(ticks "$api_pid")
t0=$(date +%s)
wrk -t2 -c"$CONNS" -d"${SOAK}s" --timeout 10s -s "$HERE/mixed.lua" "$BASE" >"$stack/wrk.out" &
wrk_pid=$!
pids+=("$wrk_pid")
echo "t_s,rss_kb,hwm_kb,threads,fds" >"$stack/samples.csv"
while kill -0 "$wrk_pid" 2>/dev/null; do
  sleep "$EVERY"
  kill -0 "$wrk_pid" 2>/dev/null || break
  printf '%d,%s,%s,%s,%s\n' $(($(date +%s) - t0)) "$(status "$api_pid" VmRSS)" \
    "$(status "$api_pid" VmHWM)" "$(status "$api_pid" Threads)" \
    "$(find "/proc/$api_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)" >>"$stack/samples.csv"
  tail -1 "$stack/samples.csv" | awk -F, '{printf "  t=%ss rss=%.1f MB peak=%.1f MB\n", $1, $2/1024, $3/1024}' >&2
done
wait "$wrk_pid" || true
a1=$(ticks "$api_pid")
read -r rps p50 p99 bad sock < <(awk '/^RESULT/ {print $2, $3, $4, $5, $6}' "$stack/wrk.out")
cpu=$(python3 -c "print(f'{($a1 - $a0) * 1e6 / $(getconf CLK_TCK) / max($rps * $SOAK, 1):.0f}')")
final_hwm=$(status "$api_pid" VmHWM)

# Growth: samples after the first minute (or after the first third of a shorter run).
analysis=$(python3 - "$stack/samples.csv" "$SOAK" <<'PY'
import csv, sys
rows = [(int(r["t_s"]), int(r["rss_kb"])) for r in csv.DictReader(open(sys.argv[1]))]
soak = int(sys.argv[2])
skip = 60 if soak >= 180 else soak // 3
s = [(t, v) for t, v in rows if t > skip] or rows
n = len(s)
mt = sum(t for t, _ in s) / n
mv = sum(v for _, v in s) / n
den = sum((t - mt) ** 2 for t, _ in s) or 1
slope = sum((t - mt) * (v - mv) for t, v in s) / den * 60  # kB per minute
k = max(1, min(6, n // 3))
first = sum(v for _, v in s[:k]) / k
last = sum(v for _, v in s[-k:]) / k
print(f"{skip} {n} {slope / 1024:.3f} {first / 1024:.1f} {last / 1024:.1f} {(last - first) / 1024:.1f} "
      f"{max(v for _, v in rows) / 1024:.1f} {min(v for _, v in s) / 1024:.1f}")
PY
)
read -r skip nsamp slope first last delta maxrss minrss <<<"$analysis"
peak_mb=$(python3 -c "print(f'{$final_hwm / 1024:.1f}')")
verdict_peak=$(python3 -c "print('met' if $final_hwm < 50 * 1024 else 'MISSED')")
verdict_flat=$(python3 -c "print('flat' if abs($delta) < 2 or abs($delta) < 0.03 * $first else 'GROWS')")
rows_after=$(sql "SELECT count(*) FROM notifications")

# Then a burst of logins: each hashes a password with scrypt (16 MiB of work memory, in whichever
# HTTP thread takes the request), which is what the steady load above does not do.
echo 5 >"/proc/$api_pid/clear_refs"
login_body="{\"email\":\"$HERALD_ADMIN_EMAIL\",\"password\":\"$HERALD_ADMIN_PASSWORD\"}"
seq 64 | xargs -P8 -I{} curl -s -o /dev/null -H 'Content-Type: application/json' -d "$login_body" \
  "$BASE/api/v1/auth/login"
login_rss=$(status "$api_pid" VmRSS) login_hwm=$(status "$api_pid" VmHWM)

report="$ROOT/bench/results/memory-$(date -u +%Y%m%d-%H%M).md"
cat >"$report" <<MD
# API memory at $CONNS connections, ${SOAK} s soak ($(date -u +%Y-%m-%dT%H:%MZ))

$(bench_header)
Command: \`bench/memory.sh $SOAK\` (BENCH_SOAK_INTERVAL=$EVERY). wrk -t2 -c$CONNS for ${SOAK} s,
bench/mixed.lua: GET /healthz, GET /api/v1/users/me, the feed's first page, a page after a
random cursor (the bench user has $FEED_ROWS notifications), POST /api/v1/notifications
(template with data, in_app + e-mail, to one of 1,000 users), in turn on each connection. RSS
is VmRSS of the herald-api process from /proc every $EVERY s; peak is VmHWM, reset just before
the load. GLIBC_TUNABLES=${GLIBC_TUNABLES:-(not set)}.

| figure | value | goal |
|---|---|---|
| RSS before the load (after 2 registrations and 2 logins), and its peak | $(python3 -c "print(f'{$idle_rss / 1024:.1f} MB, peak {$idle_hwm / 1024:.1f}')") MB | |
| peak RSS (VmHWM) over the run | $peak_mb MB | < 50 MB: $verdict_peak |
| RSS after the first $skip s: lowest / highest sample | $minrss / $maxrss MB | |
| first vs last minute of samples ($nsamp samples after $skip s) | $first MB -> $last MB ($delta MB) | no growth: $verdict_flat |
| least-squares slope after $skip s | $slope MB/min | ~0 |
| load: req/s, p50, p99 | $rps, $p50 ms, $p99 ms | |
| non-2xx, socket errors | $bad, $sock | 0 |
| API CPU per request | $cpu us | |
| after the load, 64 logins 8 at a time: RSS, and the peak during them | $(python3 -c "print(f'{$login_rss / 1024:.1f} MB, peak {$login_hwm / 1024:.1f} MB')") | < 50 MB |

Notifications in the table at the end: $rows_after (the POSTs of the run included).

Samples (seconds since the start of the load, kB; threads; open file descriptors):

\`\`\`
$(cat "$stack/samples.csv")
\`\`\`
MD
echo
echo "memory: report $report"
echo "memory: after 64 logins RSS $((login_rss / 1024)) MB, peak $((login_hwm / 1024)) MB"
echo "memory: peak RSS $peak_mb MB (goal < 50 MB: $verdict_peak); after ${skip}s $first -> $last MB" \
  "($delta MB, slope $slope MB/min: $verdict_flat); $rps req/s, p50 $p50 ms, p99 $p99 ms," \
  "non-2xx $bad, socket errors $sock"
