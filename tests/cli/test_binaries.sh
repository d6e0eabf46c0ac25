#!/usr/bin/env bash
# Every binary answers --version (version, commit, build type) and --help with exit 0,
# validates its environment with --check-config (0 valid, 78 not, connecting nowhere), and
# refuses bad usage with 2. Needs no stack: the addresses below are never dialled.
#   test_binaries.sh <bin dir>
set -uo pipefail
BIN=${1:?usage: test_binaries.sh <bin dir>}
BINARIES=(herald-api herald-email herald-sms herald-push herald-webhook herald-reconcile)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE PATTERN CMD...: CMD exits CODE and its output (stdout+stderr) matches PATTERN
expect() {
  local code=$1 pattern=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc != "$code" ]]; then
    fail "$* exited $rc, expected $code: ${out:0:400}"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$* printed no match for /$pattern/: ${out:0:400}"
  else
    echo "ok: $* -> $code"
  fi
}

# Nothing listens here: --check-config must not try (a connect would fail or hang).
export HERALD_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
export HERALD_REDIS_URL="redis://127.0.0.1:1/0"
export HERALD_JWT_SECRET=check-config-test-secret-0123456789abcdef

for b in "${BINARIES[@]}"; do
  exe=$BIN/$b
  expect 0 "^$b [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown), [A-Za-z]+ build\)$" "$exe" --version
  expect 0 "Usage: $b" "$exe" --help
  expect 0 "--check-config" "$exe" --help
  expect 0 "configuration ok" timeout 10 "$exe" --check-config
  expect 78 "HERALD_HTTP_THREADS: .*out of range" env HERALD_HTTP_THREADS=1 "$exe" --check-config
  expect 78 "HERALD_HTTP_THREADS: .*out of range" env HERALD_HTTP_THREADS=-2 "$exe" --check-config
  expect 0 "configuration ok" timeout 10 env HERALD_HTTP_THREADS=0 "$exe" --check-config
  expect 78 "HERALD_LOG_LEVEL" env HERALD_LOG_LEVEL=loud "$exe" --check-config
  expect 2 "." "$exe" --no-such-flag
done
expect 2 "." "$BIN/herald-email" --version-please
expect 78 "HERALD_EMAIL_PROVIDER" env HERALD_EMAIL_PROVIDER=carrier-pigeon "$BIN/herald-email" --check-config
expect 78 "HERALD_SMS_PROVIDER" env HERALD_SMS_PROVIDER=twilio HERALD_SMS_ACCOUNT_SID= "$BIN/herald-sms" --check-config
expect 78 "HERALD_JWT_ALG" env HERALD_JWT_ALG=none "$BIN/herald-api" --check-config
expect 78 "HERALD_WEBHOOK_ALLOW_NETS: 'example.com' is not" env HERALD_WEBHOOK_ALLOW_NETS=example.com "$BIN/herald-webhook" --check-config
expect 78 "HERALD_WEBHOOK_ALLOW_NETS" env HERALD_WEBHOOK_ALLOW_NETS=10.0.0.0/33 "$BIN/herald-api" --check-config
expect 78 "HERALD_WEBHOOK_DISABLE_AFTER" env HERALD_WEBHOOK_DISABLE_AFTER=0 "$BIN/herald-webhook" --check-config
expect 78 "HERALD_WEBHOOK_ALLOW_HTTP" env HERALD_WEBHOOK_ALLOW_HTTP=maybe "$BIN/herald-webhook" --check-config
expect 78 "HERALD_WEBHOOK_MAX_ENDPOINTS" env HERALD_WEBHOOK_MAX_ENDPOINTS=17 "$BIN/herald-api" --check-config
expect 78 "HERALD_DIGEST_WINDOWS" env HERALD_DIGEST_WINDOWS=comments "$BIN/herald-api" --check-config
expect 78 "HERALD_THROTTLE_PER_HOUR" env HERALD_THROTTLE_PER_HOUR=fax=3 "$BIN/herald-email" --check-config
expect 78 "HERALD_DAILY_CAPS" env HERALD_DAILY_CAPS=sms=0 "$BIN/herald-sms" --check-config
expect 0 "configuration ok" env HERALD_DIGEST_WINDOWS="comments=600, likes=60" HERALD_DAILY_CAPS=sms=1000 HERALD_THROTTLE_PER_HOUR=email=20 "$BIN/herald-push" --check-config
expect 0 "configuration ok" env HERALD_WEBHOOK_ALLOW_NETS="127.0.0.1/32, ::1/128" HERALD_WEBHOOK_ALLOW_HTTP=true "$BIN/herald-webhook" --check-config
expect 2 "." "$BIN/herald-api" check-config extra
expect 2 "stats" "$BIN/herald-email" stats --yaml
expect 2 "stats" "$BIN/herald-email" stats --json --json
expect 2 "." "$BIN/herald-reconcile" --check-config run

if ((fails)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
