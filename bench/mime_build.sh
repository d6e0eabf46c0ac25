#!/usr/bin/env bash
# Builds and runs bench/mime_build.c: microseconds per e-mail for the hand-written MIME builder
# of herald-email and for GMime 3 building the same message (needs libgmime-3.0-dev).
#   bench/mime_build.sh [messages, default 20000]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkg-config --exists gmime-3.0 || { echo "mime_build: needs libgmime-3.0-dev (apt-get install libgmime-3.0-dev)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/common" -I"$ROOT/workers/email" \
  "$ROOT/bench/mime_build.c" "$ROOT/workers/email/mime.c" "$ROOT/workers/email/html.c" \
  "$ROOT/common/core/alloc.c" -o "$out/mime_build" \
  $(pkg-config --cflags --libs gmime-3.0 jansson liborcania libcrypto)
"$out/mime_build" "${1:-20000}"
