#!/usr/bin/env bash
# The group commit's chain under POST /api/v1/notifications: what keeps PostgreSQL's writing
# backend from running all the time. One run of POST at 64 connections (the request of
# notifications_post.sh), and beside it:
#   - how idle the machine's CPUs were (/proc/stat) and the CPU of the busiest API threads
#     and PostgreSQL backends (/proc/PID/task/*/stat): a chain-bound run leaves CPU idle;
#   - with perf installed, a 2 s `perf sched` trace from the middle of the run: for the
#     backend that ran most (the committer's), its time running, waiting to be woken and
#     waiting for a CPU, and the number of times it went to sleep.
# Usage: bench/post_chain.sh [seconds, default 8]; BENCH_BUILD / HERALD_BENCH_BIN as in
# bench/lib.sh. Writes bench/results/post-chain-<date>.md and prints it.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-8}
[[ $DUR =~ ^[1-9][0-9]{0,2}$ && $DUR -ge 4 ]] ||
  { echo "usage: bench/post_chain.sh [seconds 4-999]" >&2; exit 2; }
[[ -n ${HERALD_BENCH_BIN:-} ]] || bench_build
bench_stack
export HERALD_DB_PREPARED_STATEMENTS=true
bench_start_api 18391
bench_post_fixtures "$BASE"
wrk -t2 -c64 -d3s -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null

# "<kind> <name> <ticks> <id>" for every API thread and PostgreSQL backend, then the machine.
snapshot() {
  local t p
  for t in /proc/"$api_pid"/task/*; do
    echo "api $(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat") ${t##*/}"
  done
  for p in $(pgrep -P "$pg_pid"); do
    echo "pg $(tr '\0 ' '__' <"/proc/$p/cmdline" | cut -c1-40) $(awk '{print $14 + $15}' \
      "/proc/$p/stat" 2>/dev/null || echo 0) $p"
  done
  echo "pg ended $(reaped_ticks "$pg_pid") -" # reaped (bench/lib.sh): autovacuum workers, ...
  awk '/^cpu / {print "all - " $2 + $3 + $4 + $7 + $8 " " $5 + $6}' /proc/stat
}
trace=""
snapshot >"$stack/s0"
wrk -t2 -c64 -d"${DUR}s" -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" |
  awk '/^RESULT/ {$1 = ""; print}' >"$stack/wrk" &
w=$!
if command -v perf >/dev/null; then
  sleep $((DUR / 2 - 1))
  perf sched record -o "$stack/sched.data" -- sleep 2 >/dev/null 2>&1 && trace=$stack/sched.data
fi
wait "$w"
snapshot >"$stack/s1"
read -r rps p50 p99 bad err <"$stack/wrk"

threads=$(python3 - "$stack/s0" "$stack/s1" "$(getconf CLK_TCK)" "$DUR" <<'PY'
import sys
def load(path):
    d = {}
    for line in open(path):
        kind, name, ticks, ident = line.split()
        d[(kind, name, ident)] = int(ticks) if kind != "all" else (int(ticks), int(ident))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
hz, secs = float(sys.argv[3]), float(sys.argv[4])
(ab, ai), (bb, bi) = [v for k, v in a.items() if k[0] == "all"][0], [v for k, v in b.items() if k[0] == "all"][0]
print(f"IDLE {100 * (bi - ai) / max((bb - ab) + (bi - ai), 1):.0f}")
rows = sorted(((b[k] - a.get(k, 0), k) for k in b if k[0] != "all"), reverse=True)[:6]
for ticks, (kind, name, ident) in rows:
    print(f"| {kind} | {name.replace('_', ' ').strip()} | {ident} | {ticks / hz:.2f} s | {100 * ticks / hz / secs:.0f} % |")
PY
)
idle=$(awk '/^IDLE/ {print $2}' <<<"$threads")
table=$(grep '^|' <<<"$threads")

chain="perf is not installed: no trace."
if [[ -n $trace ]]; then
  chain=$(perf sched timehist -i "$trace" 2>/dev/null | python3 -c '
import sys, collections
run, wait, delay, n = (collections.Counter() for _ in range(4))
for line in sys.stdin:
    f = line.split()
    if len(f) < 6 or not f[2].startswith("postgres["):
        continue
    try:
        w, d, r = float(f[3]), float(f[4]), float(f[5])
    except ValueError:
        continue
    run[f[2]] += r; wait[f[2]] += w; delay[f[2]] += d; n[f[2]] += 1
if not run:
    print("the trace holds no PostgreSQL backend.")
else:
    b = max(run, key=run.get)
    print(f"The backend that ran most in the 2 s trace ({b}): running {run[b]:.0f} ms, waiting to be"
          f" woken {wait[b]:.0f} ms, runnable but waiting for a CPU {delay[b]:.0f} ms, {n[b]} sleeps"
          f" ({run[b] / 20:.0f} % of the 2 s running).")
')
fi

report="$ROOT/bench/results/post-chain-$(date -u +%Y%m%d-%H%M%S).md"
cat >"$report" <<MD
# The group commit's chain under POST /api/v1/notifications ($(date -u +%Y-%m-%dT%H:%MZ))

$(bench_header)
Command: \`bench/post_chain.sh $DUR\`, binary \`${BIN#"$ROOT"/}\`, group commit threads
${HERALD_GROUP_COMMIT_THREADS:-1}.

POST at 64 connections for $DUR s: $rps req/s, p50 $p50 ms, p99 $p99 ms, $bad non-2xx,
$err socket errors. The machine's CPUs were idle $idle % of the run.

| kind | thread or backend | id | CPU | of one core |
|---|---|---|---:|---:|
$table

$chain
MD
cat "$report"
