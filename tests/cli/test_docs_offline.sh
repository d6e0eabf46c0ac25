#!/usr/bin/env bash
# /docs without the contract tests' npm tree and without network: the Redoc bundle comes from
# vendor/redoc (scripts/docs-assets.sh: pinned, checksummed, licence kept), the build puts it
# next to herald-api, and a herald-api started from a fresh directory serves /docs, its
# bundle, /openapi.yaml and /openapi.json. A tampered tarball is refused.
#   test_docs_offline.sh <source dir> <bin dir>
set -uo pipefail
SRC=${1:?usage: test_docs_offline.sh <source dir> <bin dir>}
BIN=${2:?usage: test_docs_offline.sh <source dir> <bin dir>}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
work=$(mktemp -d)
api_pid=
cleanup() {
  [[ -n $api_pid ]] && kill -TERM "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 1. the vendored bundle is the pinned one, intact, and is what the build installed
if bash "$SRC/scripts/docs-assets.sh" --check; then ok "vendor/redoc verified"; else fail "vendor/redoc"; fi
for f in redoc.standalone.js redoc.standalone.js.LICENSE.txt LICENSE; do
  cmp -s "$SRC/vendor/redoc/$f" "$BIN/docs/$f" && ok "build/bin/docs/$f is the vendored one" ||
    fail "$BIN/docs/$f differs from vendor/redoc/$f (or is missing)"
done
grep -q "MIT License" "$SRC/vendor/redoc/LICENSE" && ok "licence kept" || fail "no MIT licence text"

# 2. a tarball that is not the pinned one installs nothing, offline (no npm involved)
head -c 4096 /dev/urandom | gzip >"$work/redoc-2.5.4.tgz"
out=$(HERALD_REDOC_DIR=$work/redoc HERALD_REDOC_TARBALL=$work/redoc-2.5.4.tgz \
  bash "$SRC/scripts/docs-assets.sh" 2>&1)
rc=$?
if [[ $rc != 0 && $out == *"checksum mismatch"* && ! -e $work/redoc ]]; then
  ok "tampered tarball refused"
else
  fail "tampered tarball: rc=$rc, installed=$([[ -e $work/redoc ]] && echo yes || echo no): $out"
fi
out=$(HERALD_REDOC_DIR=$work/none bash "$SRC/scripts/docs-assets.sh" --check 2>&1) &&
  fail "--check passed on an empty directory" || ok "--check fails when nothing is installed"

# 3. the API, started in a fresh directory with HERALD_DOCS_DIR unset
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && exec env -u HERALD_DOCS_DIR HERALD_HTTP_PORT="$port" HERALD_PROBE_PORT=0 \
  "$BIN/herald-api" serve >"$work/api.log" 2>&1) &
api_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do
  curl -s -o /dev/null "$base/healthz" && break
  sleep 0.1
done
# get PATH STATUS TYPE-PREFIX: the answer of GET PATH into $work/body
get() {
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code} %{content_type}' "$base$1")
  if [[ ${got%% *} == "$2" && ${got#* } == "$3"* ]]; then ok "GET $1 -> $got"; else fail "GET $1 -> $got, expected $2 $3"; fi
}
get /docs 200 text/html
grep -q '<script src="/docs/redoc.standalone.js">' "$work/body" || fail "/docs does not load the bundle"
get /docs/redoc.standalone.js 200 application/javascript
cmp -s "$work/body" "$SRC/vendor/redoc/redoc.standalone.js" && ok "bundle served intact" || fail "bundle differs"
get /docs/redoc.standalone.js.LICENSE.txt 200 text/plain
get /openapi.yaml 200 application/yaml
cmp -s "$work/body" "$SRC/openapi/openapi.yaml" && ok "openapi.yaml served as written" || fail "openapi.yaml differs"
get /openapi.json 200 application/json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["openapi"].startswith("3.1") and "/openapi.yaml" in d["paths"]' \
  "$work/body" && ok "openapi.json parses" || fail "openapi.json"
# bad input: nothing outside the allow-list
get /docs/LICENSE 404 application/json
get /docs/..%2F..%2Fetc%2Fpasswd 404 application/json
get /docs/redoc.standalone.js.map 404 application/json
get /openapi.yml 404 application/json
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/openapi.yaml")
[[ $code == 405 || $code == 404 ]] && ok "POST /openapi.yaml -> $code" || fail "POST /openapi.yaml -> $code"

if ((fails)); then
  echo "--- herald-api log"; tail -n 20 "$work/api.log"
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
