#!/usr/bin/env bash
# Self-test of scripts/check-layers.sh: a small clean tree passes; the same tree with one
# violation of each kind planted fails, naming the file.
#
#   tests/arch/test_check_layers.sh [CHECK_SCRIPT]
set -euo pipefail

check=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/check-layers.sh}
cc=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-check-layers.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

# A tree with the layout of the real one: api/ (the one place ulfius.h is included),
# common/core (infra), common/users (domain), workers/runtime, a stand-in ulfius.h in sys/.
make_clean_tree() {
  local t=$1
  mkdir -p "$t/src/sys" "$t/src/api/http" "$t/src/common/core" "$t/src/common/store" \
    "$t/src/common/users" "$t/src/workers/runtime" "$t/build/bin"
  echo '/* stand-in for the real header */' >"$t/src/sys/ulfius.h"
  printf '#include <ulfius.h>\nint h_http(void);\n' >"$t/src/api/http/http.h"
  printf 'int h_request(void);\n' >"$t/src/api/http/request.h"
  printf '#include "http/http.h"\nint h_http(void) { return 0; }\n' >"$t/src/api/http/http.c"
  printf 'int h_money(void);\n' >"$t/src/common/core/money.h"
  printf '#include "core/money.h"\nint h_money(void) { return 1; }\n' >"$t/src/common/core/money.c"
  printf '#include "core/money.h"\nint h_db(void) { return h_money(); }\n' >"$t/src/common/store/db.c"
  printf '#include "core/money.h"\nint h_user(void);\n' >"$t/src/common/users/user.h"
  printf '#include "users/user.h"\nint h_user(void) { return h_money(); }\n' \
    >"$t/src/common/users/user.c"
  printf '#include "core/money.h"\nint h_rt(void) { return h_money(); }\n' \
    >"$t/src/workers/runtime/runtime.c"
}

# compile_commands.json for every .c file, and the four worker binaries (extra link flags
# for herald-sms in $2).
make_build() {
  local t=$1 sms_flags=${2:-} first=1 f w flags
  {
    echo '['
    while IFS= read -r f; do
      ((first)) || echo ','
      first=0
      printf '{"directory": "%s", "file": "%s", "command": "%s -std=gnu11 -I%s -I%s -I%s -o x.o -c %s"}' \
        "$t/build" "$f" "$cc" "$t/src/common" "$t/src/api" "$t/src/sys" "$f"
    done < <(find "$t/src" -name '*.c' | sort)
    echo ']'
  } >"$t/build/compile_commands.json"
  echo 'int main(void) { return 0; }' >"$t/build/main.c"
  for w in herald-email herald-sms herald-push herald-webhook herald-reconcile; do
    flags=()
    [[ $w == herald-sms && -n $sms_flags ]] && read -r -a flags <<<"$sms_flags"
    "$cc" -o "$t/build/bin/$w" "$t/build/main.c" "${flags[@]}"
  done
}

# expect NAME WANT_STATUS WANT_MESSAGE: runs the check on $work/NAME.
expect() {
  local name=$1 want=$2 message=$3 out status=0
  out=$("$check" "$work/$name/build" "$work/$name/src" 2>&1) || status=$?
  if [[ $status -ne $want ]] || ! grep -qF -- "$message" <<<"$out"; then
    echo "FAIL $name: wanted status $want and \"$message\", got status $status:" >&2
    while IFS= read -r line; do echo "  | $line"; done <<<"$out" >&2
    failures=$((failures + 1))
  else
    echo "ok   $name: $message"
  fi
}

plant() { # plant NAME: a fresh copy of the clean tree in $work/NAME
  cp -a "$work/clean" "$work/$1"
}

make_clean_tree "$work/clean"
make_build "$work/clean"
expect clean 0 "check-layers: ok"

# (a) ulfius.h through a header of common/, and through an api/ header from a worker.
plant ulfius_common
printf '#include <ulfius.h>\n' >"$work/ulfius_common/src/common/core/wrap.h"
printf '#include "core/wrap.h"\nint h_bad(void) { return 0; }\n' \
  >"$work/ulfius_common/src/common/core/bad.c"
make_build "$work/ulfius_common"
expect ulfius_common 1 "ulfius: common/core/bad.c includes ulfius.h (via common/core/wrap.h)"

plant ulfius_worker
printf '#include "http/http.h"\nint h_w(void) { return 0; }\n' \
  >"$work/ulfius_worker/src/workers/runtime/probe.c"
make_build "$work/ulfius_worker"
expect ulfius_worker 1 "ulfius: workers/runtime/probe.c includes ulfius.h (via api/http/http.h)"

# (b) a worker binary that needs libmicrohttpd.
plant worker_links
make_build "$work/worker_links" "-Wl,--no-as-needed -lmicrohttpd"
expect worker_links 1 "workers: herald-sms links libmicrohttpd"

# (c) common/ including an api/ header (one without ulfius.h).
plant common_api
printf '#include "http/request.h"\nint h_u2(void) { return 0; }\n' \
  >"$work/common_api/src/common/users/user2.c"
make_build "$work/common_api"
expect common_api 1 "common: common/users/user2.c includes the api/ header api/http/request.h"

# (d) infrastructure including a domain header.
plant infra_domain
printf '#include "users/user.h"\nint h_db2(void) { return h_user(); }\n' \
  >"$work/infra_domain/src/common/store/db2.c"
make_build "$work/infra_domain"
expect infra_domain 1 "infra: common/store/db2.c includes the domain header common/users/user.h"

# (e) a folder of 21 .c files.
plant folder_size
for i in $(seq 1 20); do
  printf 'int h_m%d(void);\nint h_m%d(void) { return %d; }\n' "$i" "$i" "$i" \
    >"$work/folder_size/src/common/core/m$i.c"
done
make_build "$work/folder_size"
expect folder_size 1 "folders: common/core/ holds 21 .c files (at most 20)"

if ((failures > 0)); then
  echo "test_check_layers: $failures case(s) failed" >&2
  exit 1
fi
echo "test_check_layers: all cases passed"
