#!/usr/bin/env bash
# What `make fuzz` runs: builds the libFuzzer targets of tests/fuzz with clang into build-fuzz/
# (-DHERALD_FUZZ=ON: ASan + UBSan + libFuzzer), then fuzzes each target for FUZZ_SECONDS
# (default 30) from its committed seeds (tests/fuzz/corpus/<target>/, never written) and its work
# corpus (var/fuzz/corpus/<target>/, where new interesting inputs are kept between runs).
# Prints one summary line per target; exits non-zero when any target crashed, leaked or timed
# out, keeping the input that did it in var/fuzz/crashes/<target>/.
#
#   scripts/fuzz.sh                 build, then fuzz every target
#   scripts/fuzz.sh fuzz_urlform    build, then fuzz the named targets only
#   scripts/fuzz.sh --build         build only (ctest's fuzz_build step)
#   scripts/fuzz.sh --check         exit 0 when clang can link a libFuzzer target, else 1
#   FUZZ_SECONDS=60                 fuzzing time per target
#   HERALD_JOBS=1                   build parallelism (default: nproc)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=$ROOT/build-fuzz
SEEDS=$ROOT/tests/fuzz/corpus
WORK=$ROOT/var/fuzz
CLANG=${HERALD_FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}

# True when clang links a trivial libFuzzer target (compiler and runtime both installed).
have_libfuzzer() {
  [[ -n $CLANG ]] || return 1
  local tmp rc=0
  tmp=$(mktemp -d)
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d[0] * 0 + (int)(n * 0); }' \
    >"$tmp/t.c"
  "$CLANG" -fsanitize=fuzzer "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1 || rc=1
  rm -rf "$tmp"
  return "$rc"
}

build() {
  have_libfuzzer || { echo "fuzz: clang with libFuzzer is not installed (scripts/deps.sh)" >&2; exit 1; }
  mkdir -p "$BUILD_DIR"
  local log=$BUILD_DIR/configure.log
  cmake -S . -B "$BUILD_DIR" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHERALD_FUZZ=ON >"$log" 2>&1 || { cat "$log" >&2; echo "fuzz: CMake configure failed" >&2; exit 1; }
  log=$BUILD_DIR/build.log # quiet on success, shown on failure
  cmake --build "$BUILD_DIR" -j "${HERALD_JOBS:-$(nproc)}" >"$log" 2>&1 ||
    { tail -n 60 "$log" >&2; echo "fuzz: build failed (full log: $log)" >&2; exit 1; }
  echo "fuzz: $BUILD_DIR is up to date"
}

targets() {
  local src
  for src in tests/fuzz/fuzz_*.c; do
    basename "$src" .c
  done
}

# Fuzzes one target for FUZZ_SECONDS and prints its summary line; returns 1 on a finding.
run_target() {
  local t=$1 seconds=$2 bin=$BUILD_DIR/bin/$1
  local corpus=$WORK/corpus/$t crashes=$WORK/crashes/$t log=$WORK/logs/$t.log
  [[ -x $bin ]] || { echo "fuzz: no target $t in $BUILD_DIR/bin" >&2; return 1; }
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  local before kept rc=0
  before=$(find "$corpus" -type f | wc -l)
  kept=$(find "$crashes" -type f | wc -l)
  # The first directory receives new inputs; the committed seeds are only read.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" "$SEEDS/$t" >"$log" 2>&1 || rc=$?
  local runs cov ft after found
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  after=$(find "$corpus" -type f | wc -l)
  found=$(($(find "$crashes" -type f | wc -l) - kept))
  printf 'fuzz: %-26s %4ss  runs %-10s cov %-6s ft %-6s corpus %-5s (+%s)  crashes %s\n' \
    "$t" "$seconds" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$after" "$((after - before))" "$found"
  if [[ $rc -ne 0 || $found -gt 0 ]]; then
    echo "fuzz: $t failed (exit $rc); input kept in $crashes/, log in $log" >&2
    grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" >&2 || true
    return 1
  fi
}

case "${1:-}" in
  --check) have_libfuzzer; exit ;;
  --build) build; exit ;;
esac

build
seconds=${FUZZ_SECONDS:-30}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz: FUZZ_SECONDS must be a positive integer" >&2; exit 2; }
if [[ $# -gt 0 ]]; then list=("$@"); else mapfile -t list < <(targets); fi
failed=0
for t in "${list[@]}"; do
  run_target "$t" "$seconds" || failed=$((failed + 1))
done
if [[ $failed -gt 0 ]]; then
  echo "fuzz: $failed of ${#list[@]} targets failed" >&2
  exit 1
fi
echo "fuzz: ${#list[@]} targets, ${seconds}s each, no crash"
