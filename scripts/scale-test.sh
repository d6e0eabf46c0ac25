#!/usr/bin/env bash
# What `make test-scale` runs: the scale-out tests of tests/scale/ with real servers from Debian
# on loopback (nginx, redis-sentinel, pgbouncer, wrk, debootstrap: installed here when missing),
# after the deployment checks and the image's runtime stage rebuilt in a Debian root
# (test_image.sh). They take several minutes, so they are not part of `make test`.
#
#   SCALE_TESTS="api_failover sentinel"  run only these (names of tests/scale/test_*.sh)
#   HERALD_BIN_DIR / HERALD_BUILD_DIR   binaries and CMake build to test (default: build/, built here)
#   HERALD_SCALE_KEEP=1                 keep every test's directory (logs, data)
#   SCALE_ROOT=/tmp/x                   put each test's directory in /tmp/x/<test> (default: mktemp)
#   HERALD_IMAGE_BUILD=1                test_image.sh also runs the Dockerfile's build stage (slow)
# Prints one line per test and ends with "N passed, N failed, N skipped"; exits 1 on a failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/deps.sh
# The servers of the scale tests, only here (make test does not need them).
extra=(nginx redis-sentinel pgbouncer wrk jq curl debootstrap)
missing=()
for pkg in "${extra[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == *"ok installed"* ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "test-scale: installing ${missing[*]}"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The Debian packages may start their system services; the tests never use them.

if [[ -z ${HERALD_BIN_DIR:-} ]]; then
  SANITIZE=0 scripts/build.sh
  export HERALD_BIN_DIR=$ROOT/build/bin HERALD_BUILD_DIR=$ROOT/build
fi
export HERALD_BUILD_DIR=${HERALD_BUILD_DIR:-$(dirname "$HERALD_BIN_DIR")}

read -r -a tests <<<"${SCALE_TESTS:-check_deploy image api_failover stream_fanout workers sentinel pgbouncer}"
passed=0 failed=0 skipped=0 results=()
for t in "${tests[@]}"; do
  if [[ $t == check_deploy ]]; then script=scripts/scale-check-deploy.sh; else script=tests/scale/test_$t.sh; fi
  [[ -f $script ]] || { echo "test-scale: no $script" >&2; exit 2; }
  echo "==== $t"
  start=$SECONDS rc=0
  if [[ -n ${SCALE_ROOT:-} ]]; then
    rm -rf "${SCALE_ROOT:?}/$t"
    export HERALD_SCALE_DIR=$SCALE_ROOT/$t
  fi
  bash "$script" "$HERALD_BIN_DIR/herald-api" || rc=$?
  took=$((SECONDS - start))
  case $rc in
    0) passed=$((passed + 1)); results+=("passed   $t (${took} s)") ;;
    77) skipped=$((skipped + 1)); results+=("skipped  $t (${took} s)") ;;
    *) failed=$((failed + 1)); results+=("FAILED   $t (${took} s, exit $rc)") ;;
  esac
done
echo "==== summary"
printf '  %s\n' "${results[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
