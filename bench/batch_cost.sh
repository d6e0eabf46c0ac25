#!/usr/bin/env bash
# What a POST /api/v1/notifications costs per send and per group-commit batch. The POST of
# notifications_post.lua at two connection counts, in turn, on one stack: with more
# connections waiting, the group commit's batches hold more sends, so what a batch costs
# whatever its size (its statement's start, the commit and its WAL flush, the recipients' read,
# the backends' wake-ups) is shared by more of them. Each run reports the API's and
# PostgreSQL's CPU per POST split into user and system time (/proc; PostgreSQL with the
# processes that ended during the run), the sends per batch (the API's /metrics), the
# PostgreSQL backends' context switches per POST and, from pg_stat_statements, the batch
# statement's execution per send. A least-squares fit of PostgreSQL's CPU per POST over all
# runs, cpu = per_send + per_batch / (sends per batch), closes the report.
#   bench/batch_cost.sh [seconds per run, default 8] [pairs, default 3] [connections, default "64 256"]
# Writes bench/results/batch-cost-<date>.md and prints it. BENCH_BUILD / HERALD_BENCH_BIN as
# in bench/lib.sh. The fit assumes nothing but the batch size differs between the runs: the
# machine's load and the tables' growth move it too, so read it beside the runs' spread.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR=${1:-8}
PAIRS=${2:-3}
CONNS=${3:-64 256}
usage() { echo "usage: bench/batch_cost.sh [seconds 3-600] [pairs 1-20] [\"connections ...\"]" >&2; exit 2; }
if ! [[ $DUR =~ ^[0-9]+$ ]] || ((DUR < 3 || DUR > 600)); then usage; fi
if ! [[ $PAIRS =~ ^[0-9]+$ ]] || ((PAIRS < 1 || PAIRS > 20)); then usage; fi
read -r -a conns <<<"$CONNS"
((${#conns[@]} >= 2)) || usage
for c in "${conns[@]}"; do [[ $c =~ ^[1-9][0-9]{0,3}$ ]] || usage; done
[[ -n ${HERALD_BENCH_BIN:-} ]] || bench_build
bench_stack
bench_pgss
export HERALD_DB_PREPARED_STATEMENTS=true
bench_start_api "${BENCH_PORT:-18396}"
bench_post_fixtures "$BASE"
hz=$(getconf CLK_TCK)

metric() { curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# "api_user api_sys pg_user pg_sys pg_switches batches sends": PostgreSQL is the postmaster,
# its live children and the children it reaped (cutime, cstime: autovacuum workers, ...).
snapshot() {
  local au as pu ps sw=0 u s p
  read -r au as < <(awk '{print $14, $15}' "/proc/$api_pid/stat")
  read -r pu ps < <(awk '{print $14 + $16, $15 + $17}' "/proc/$pg_pid/stat")
  for p in $(pgrep -P "$pg_pid"); do
    read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo "0 0")
    pu=$((pu + u)) ps=$((ps + s))
    sw=$((sw + $(awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n + 0}' \
      "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$au $as $pu $ps $sw $(metric herald_group_commit_batches_total) $(metric herald_group_commit_items_total)"
}
# The batch statement's calls and mean execution (us) since the last reset.
batch_stmt() {
  sql "SELECT calls, mean_exec_time * 1000 FROM pg_stat_statements
       WHERE query LIKE '%INSERT INTO notifications%' ORDER BY calls DESC LIMIT 1"
}

wrk -t2 -c64 -d3s -s "$HERE/notifications_post.lua" "$BASE/api/v1/notifications" >/dev/null
rows=$stack/rows
: >"$rows"
for _ in $(seq "$PAIRS"); do
  for c in "${conns[@]}"; do
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    s0=$(snapshot)
    line=$(wrk -t2 -c"$c" -d"${DUR}s" --timeout 10s -s "$HERE/notifications_post.lua" \
      "$BASE/api/v1/notifications" | awk '/^RESULT/ {$1 = ""; print}')
    s1=$(snapshot)
    echo "$c | $line | $s0 | $s1 | $(batch_stmt | tr '|' ' ')" >>"$rows"
  done
done

report=$(python3 - "$rows" "$hz" "$DUR" <<'PY'
import sys
path, hz, dur = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
runs = []
for line in open(path):
    c, wrk, a, b, stmt = (x.split() for x in line.split("|"))
    rps, p99, bad = float(wrk[0]), wrk[2], int(wrk[3])
    d = [float(y) - float(x) for x, y in zip(a, b)]
    posts = max(rps * dur, 1)
    us = 1e6 / hz / posts
    calls, mean = (float(stmt[0]), float(stmt[1])) if len(stmt) == 2 else (0, 0)
    batch = d[6] / max(d[5], 1)
    runs.append(dict(c=int(c[0]), rps=rps, p99=p99, bad=bad, au=d[0] * us, asys=d[1] * us,
                     pu=d[2] * us, psys=d[3] * us, sw=d[4] / posts, batch=batch,
                     exec_send=mean / batch if batch else 0))
print("| connections | req/s | p99 | non-2xx | sends per batch | API user + sys, us per POST | PostgreSQL user + sys, us per POST | API + PostgreSQL | PostgreSQL's context switches per POST | batch statement's execution per send |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    total = r["au"] + r["asys"] + r["pu"] + r["psys"]
    print(f"| {r['c']} | {r['rps']:,.0f} | {r['p99']} ms | {r['bad']} | {r['batch']:.1f} | "
          f"{r['au']:.0f} + {r['asys']:.0f} | {r['pu']:.0f} + {r['psys']:.0f} | {total:.0f} us | "
          f"{r['sw']:.2f} | {r['exec_send']:.1f} us |")
print()
def fit(key):
    # least squares of y = s + b * x with x = 1 / sends per batch
    xs = [1 / r["batch"] for r in runs if r["batch"] > 0]
    ys = [r[key] for r in runs if r["batch"] > 0]
    n = len(xs)
    if n < 2 or max(xs) < 1.5 * min(xs):
        return None  # batch sizes within 1.5x of each other: the noise decides the slope
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b
for key, what in (("pu", "PostgreSQL's user time"), ("psys", "PostgreSQL's system time"),
                  ("exec_send", "the batch statement's execution")):
    f = fit(key)
    if f is None:
        print(f"- {what}: no fit (the largest batches were not 1.5x the smallest)")
    else:
        print(f"- {what}: {f[0]:.1f} us per send + {f[1]:.0f} us per batch")
PY
)

out=$ROOT/bench/results/batch-cost-$(date -u +%Y%m%d-%H%M%S).md
{
  echo "# POST /api/v1/notifications: cost per send and per batch ($(date -u +%FT%H:%MZ))"
  echo
  echo "\`BENCH_CHANNELS=$BENCH_CHANNELS bench/batch_cost.sh $DUR $PAIRS \"$CONNS\"\`: $("$BIN" version 2>/dev/null | head -1 || true),"
  echo "tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs,"
  echo "load average before the runs $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'). The POST of"
  echo "notifications_post.lua (channels $BENCH_CHANNELS; no Idempotency-Key), ${DUR} s per run, the"
  echo "connection counts in turn on one stack; pg_stat_statements loaded.$(env |
    grep -E '^HERALD_(GROUP_COMMIT|HTTP_THREADS|DB_POOL)' | sort | sed 's/^/ /' | tr -d '\n')"
  echo
  echo "$report"
} >"$out"
cat "$out"
