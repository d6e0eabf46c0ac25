#!/usr/bin/env bash
# Configures and builds Herald with CMake: into build/ (RelWithDebInfo), or with SANITIZE=1 into
# build-sanitize/ (Debug, -DHERALD_SANITIZE=ON: AddressSanitizer + UBSan).
# Extra arguments go to the CMake configure step. HERALD_JOBS sets the parallelism (default: nproc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ ${SANITIZE:-0} == 1 ]]; then
  build_dir=build-sanitize
  options=(-DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON)
else
  build_dir=build
  options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHERALD_SANITIZE=OFF)
fi

[[ -f CMakeLists.txt ]] || { echo "build: no CMakeLists.txt in $ROOT" >&2; exit 1; }
mkdir -p "$build_dir"
log=$build_dir/configure.log # quiet on success, shown on failure
cmake -S . -B "$build_dir" "${options[@]}" "$@" >"$log" 2>&1 ||
  { cat "$log" >&2; echo "build: CMake configure failed" >&2; exit 1; }
cmake --build "$build_dir" -j "${HERALD_JOBS:-$(nproc)}"
echo "build: $ROOT/$build_dir is up to date"
