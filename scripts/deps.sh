#!/usr/bin/env bash
# Installs the Debian packages Herald needs to build, test and run (Debian 12).
# Does nothing when everything is present. HERALD_SKIP_DEPS=1 skips the Debian packages.
# Then installs the Redoc bundle /docs serves (scripts/docs-assets.sh: pinned, checksummed).
# Note: installing postgresql / redis-server may start their system services; Herald's own stack
# (scripts/stack.sh) never uses them: it runs its own servers on its own ports and directories.
set -euo pipefail

DOCS_ASSETS=$(dirname "${BASH_SOURCE[0]}")/docs-assets.sh

if [[ ${HERALD_SKIP_DEPS:-0} == 1 ]]; then
  echo "deps: Debian packages skipped (HERALD_SKIP_DEPS=1)"
  exec bash "$DOCS_ASSETS"
fi

PACKAGES=(
  # toolchain; clang and its libFuzzer runtime build the fuzz targets (make fuzz, tests/fuzz)
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries (libulfius-dev pulls the GnuTLS flavour of libcurl)
  libulfius-dev liborcania-dev libyder-dev libjansson-dev libjwt-dev libpq-dev libhiredis-dev
  libcurl4-gnutls-dev libssl-dev libmicrohttpd-dev libcmocka-dev libjemalloc-dev
  # servers for the local stack, tools for tests and benchmarks
  postgresql redis-server wrk python3 python3-yaml python3-cryptography curl ca-certificates openssl tzdata
  # headless browser for the /docs page test and the <herald-inbox> tests (clients/typescript)
  chromium
)
# Node.js (contract tests) may come from elsewhere; only ask Debian for it when it is missing.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

# One dpkg-query for all of them; packages it does not know print nothing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
  awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  grep -qxF "$pkg" <<<"$installed" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exec bash "$DOCS_ASSETS"
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
# The Redoc bundle of /docs: pinned npm package, checksum verified (vendor/redoc).
exec bash "$DOCS_ASSETS"
