#!/usr/bin/env bash
# What `make test` runs: install missing packages, build, start a throw-away PostgreSQL + Redis
# stack (var/test-<pid>, free ports), run ctest against it, and always stop and delete the stack.
#
#   SANITIZE=1          build and test in build-sanitize/ with ASan + UBSan
#   CTEST_ARGS="-R unit" extra ctest arguments
#   HERALD_KEEP_STACK=1  stop the stack but keep its directory (logs) after the run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK_SCRIPT=$ROOT/scripts/stack.sh

scripts/deps.sh
scripts/build.sh
build_dir=$ROOT/build
if [[ ${SANITIZE:-0} == 1 ]]; then
  build_dir=$ROOT/build-sanitize
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fi

# The contract and client tests run under ctest with Node.js; install their packages from the
# lock files.
for npm_dir in tests/contract clients/typescript; do
  if [[ -f $npm_dir/package.json ]]; then
    if [[ ! -f $npm_dir/package-lock.json ]]; then
      (cd "$npm_dir" && npm install --no-audit --no-fund)
    elif [[ ! $npm_dir/node_modules/.package-lock.json -nt $npm_dir/package-lock.json ]]; then
      (cd "$npm_dir" && npm ci --no-audit --no-fund)
    fi
  fi
done

# A private stack for this run, removed on any exit (success, failure, Ctrl-C).
stack_dir=$ROOT/var/test-$$
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE # stdout may be a pipe that Ctrl-C closed (make test | tee): clean up anyway
  set +e
  if [[ ${HERALD_KEEP_STACK:-0} == 1 ]]; then
    "$STACK_SCRIPT" stop --dir "$stack_dir" >/dev/null || true
    echo "test: stack kept in $stack_dir"
  else
    "$STACK_SCRIPT" stop --purge --dir "$stack_dir" >/dev/null || echo "test: could not remove $stack_dir" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$STACK_SCRIPT" start --ephemeral --dir "$stack_dir"
# shellcheck disable=SC1091
. "$stack_dir/stack.env"
# Tests restart services with: "$HERALD_TEST_STACK_SCRIPT" stop-service postgres --dir "$HERALD_STACK_DIR"
export HERALD_TEST_STACK_SCRIPT=$STACK_SCRIPT HERALD_STACK_DIR=$stack_dir

read -r -a ctest_args <<<"${CTEST_ARGS:-}"
status=0
ctest --test-dir "$build_dir" --output-on-failure "${ctest_args[@]}" || status=$?
exit "$status"
