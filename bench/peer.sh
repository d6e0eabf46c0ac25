#!/usr/bin/env bash
# Herald beside the Django peer (Django + DRF + simplejwt + Celery + gunicorn, installed in
# BENCH_PEER_DIR: see its README), measured in the same hour on the same machine: the peer's
# own bench.sh (POST /api/v1/notifications, 64 connections), then bench/notifications_post.sh
# right after it. Writes bench/results/peer-django-<date>.md with both figures side by side
# (and the peer's own result file beside it) and prints it.
#   BENCH_PEER_DIR=/work/shared/peers-django bench/peer.sh [seconds, default 20]
#   HERALD_BENCH_BIN and BENCH_CHANNELS as for notifications_post.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEER=${BENCH_PEER_DIR:?"set BENCH_PEER_DIR to the peer's directory (e.g. /work/shared/peers-django)"}
DUR=${1:-20}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh" # checks BENCH_CHANNELS (Herald's request) before the peer runs
stamp=$(date -u +%Y%m%d-%H%M)
peer_out=$ROOT/bench/results/peer-django-$stamp.txt
report=$ROOT/bench/results/peer-django-$stamp.md
stop_peer() { (cd "$PEER" && ./stop.sh >/dev/null 2>&1) || true; }
trap stop_peer EXIT
(cd "$PEER" && ./setup.sh >/dev/null && ./start.sh >/dev/null &&
  DURATION=$DUR CONNECTIONS=64 OUT="$peer_out" ./bench.sh >/dev/null)
stop_peer
ours=$("$ROOT/bench/notifications_post.sh" "$DUR")

field() { sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p" "$peer_out" | head -1; }
row() { # row TITLE -> "req/s p50 p99" of that row of our report
  awk -F'|' -v t="$1" '$2 ~ t {gsub(/ ms/, ""); print $4, $5, $6; exit}' <<<"$ours"
}
read -r p_rps p_p50 p_p99 < <(row "POST /api/v1/notifications alone, 64")
read -r i_rps i_p50 i_p99 < <(row "POST with a unique Idempotency-Key")
read -r h_rps _ _ < <(row "GET /healthz alone, 64")
cpu=$(grep -A1 '^CPU per POST' <<<"$ours" | tr '\n' ' ' | sed -n 's/.*API \([0-9]*\) us, PostgreSQL *\([0-9]*\) us.*/API \1 us + PostgreSQL \2 us/p')
x() { python3 -c "print(f'{$1 / max($2, 0.001):.1f}')"; }
cat >"$report" <<MD
# Herald beside the Django peer ($(date -u +%Y-%m-%dT%H:%MZ))

Same machine ($(nproc) cores, shared), one after the other: the peer's \`bench.sh\`
(DURATION=$DUR CONNECTIONS=64, load average before: $(sed -n 's/.*loadavg_before="\([^"]*\)".*/\1/p' "$peer_out")),
then \`bench/notifications_post.sh $DUR\` (commit $(git -C "$ROOT" rev-parse --short HEAD)).
Peer: $(sed -n 's/^stack=//p' "$peer_out"), $(sed -n 's/^web_workers=\([0-9]*\).*/\1/p' "$peer_out") gunicorn workers;
its full output: \`${peer_out#"$ROOT"/bench/}\`.

| POST /api/v1/notifications, 64 connections | req/s | p50 ms | p99 ms |
|---|---:|---:|---:|
| Django peer (one notification row, one Celery task) | $(field rps) | $(field p50) | $(field p99) |
| Herald (notification, deliveries of $BENCH_CHANNELS, audit row, an LPUSH per queued channel) | $p_rps | $p_p50 | $p_p99 |
| Herald with a unique Idempotency-Key | $i_rps | $i_p50 | $i_p99 |

Herald / peer: $(x "$p_rps" "$(field rps)")x (goal 30x); Herald POST / its own GET /healthz of the
same run ($h_rps req/s): $(python3 -c "print(f'{$p_rps / $h_rps:.3f}')")x. Herald's CPU per POST: $cpu.
MD
cat "$report"
