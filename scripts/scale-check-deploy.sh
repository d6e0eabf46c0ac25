#!/usr/bin/env bash
# Checks of the deployment files that need no Docker engine and no systemd running:
#   .env.example up to date with the configuration table (scripts/gen-env-example.sh --check)
#   docker-compose.yml valid (`docker compose config`, or docker-compose v1, when installed)
#   docker/Dockerfile: pinned base, non-root USER, HEALTHCHECK (hadolint too, if installed)
#   docker/*.sh parse; deploy/nginx.conf accepted by `nginx -t` (upstreams on loopback)
#   deploy/systemd/* clean under `systemd-analyze verify` (in a scratch root with stub binaries)
# A tool that is not installed is reported as skipped. Exit 0 when every check that ran passed.
#   scripts/scale-check-deploy.sh [--skip-env] [path/to/herald-api]
# --skip-env: leave .env.example to its own ctest (docs_env_example).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
skip_env=0
if [[ ${1:-} == --skip-env ]]; then skip_env=1; shift; fi
api=${1:-$ROOT/build/bin/herald-api}
tmp=$(mktemp -d /tmp/herald-check-deploy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok       $*"; }
bad() { echo "FAILED   $*"; failures=$((failures + 1)); }
skipped() { echo "skipped  $*"; }

# ---------------------------------------------------------------- .env.example
if ((skip_env)); then skipped ".env.example (checked by its own test)"
elif out=$("$ROOT/scripts/gen-env-example.sh" --check "$api" 2>&1); then ok "$out"
else echo "$out" | tail -n 20; bad ".env.example is out of date (scripts/gen-env-example.sh)"; fi

# ---------------------------------------------------------------- docker compose
compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose); fi
if ((${#compose[@]})); then
  mkdir -p "$tmp/compose"
  cp -r "$ROOT/docker-compose.yml" "$ROOT/deploy" "$ROOT/docker" "$tmp/compose/"
  { cat "$ROOT/.env.example"; echo "HERALD_JWT_SECRET=check-only-0123456789abcdef0123456789"; } >"$tmp/compose/.env"
  if out=$(cd "$tmp/compose" && "${compose[@]}" -f docker-compose.yml --profile payments config 2>&1); then
    services=$(cd "$tmp/compose" && "${compose[@]}" -f docker-compose.yml --profile payments config --services | sort | tr '\n' ' ')
    ok "docker-compose.yml (${compose[*]} config): $services"
  else echo "$out" | tail -n 20; bad "docker-compose.yml rejected by ${compose[*]} config"; fi
  # Without HERALD_JWT_SECRET the file must refuse to start rather than run with a random key.
  grep -v '^HERALD_JWT_SECRET=' "$tmp/compose/.env" >"$tmp/compose/.env.new" && mv "$tmp/compose/.env.new" "$tmp/compose/.env"
  if (cd "$tmp/compose" && "${compose[@]}" -f docker-compose.yml config >/dev/null 2>&1); then
    bad "docker-compose.yml accepts a missing HERALD_JWT_SECRET"
  else ok "docker-compose.yml refuses to run without HERALD_JWT_SECRET"; fi
else skipped "docker-compose.yml: neither 'docker compose' nor docker-compose is installed"; fi

# ---------------------------------------------------------------- Dockerfile
df=$ROOT/docker/Dockerfile
base=$(sed -nE 's/^ARG DEBIAN_IMAGE=(.*)/\1/p' "$df")
if [[ $base =~ ^debian:12\.[0-9]+-slim(@sha256:[0-9a-f]{64})?$ ]] && ! grep -qE '^FROM [^$]*:latest' "$df"; then
  ok "Dockerfile base pinned: $base"
else bad "Dockerfile base not pinned to an exact Debian 12 point release: '$base'"; fi
last_user=$(grep -E '^USER ' "$df" | tail -n1 | awk '{print $2}')
[[ -n $last_user && $last_user != root* && $last_user != 0* ]] && ok "Dockerfile runs as $last_user" ||
  bad "Dockerfile does not switch to a non-root user"
sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$df" | grep -qE '^HEALTHCHECK .*CMD' && ok "Dockerfile has a HEALTHCHECK" || bad "Dockerfile has no HEALTHCHECK"
grep -qE '^COPY --from=build /src/build/bin/herald-\* ' "$df" && ok "Dockerfile copies every herald-* binary" ||
  bad "Dockerfile does not copy build/bin/herald-*"
if command -v hadolint >/dev/null; then
  hadolint "$df" && ok "hadolint" || bad "hadolint"
else skipped "hadolint: not installed (not packaged by Debian 12)"; fi
for f in "$ROOT"/docker/*.sh; do bash -n "$f" && ok "bash -n ${f#"$ROOT"/}" || bad "bash -n ${f#"$ROOT"/}"; done

# ---------------------------------------------------------------- nginx
if command -v nginx >/dev/null; then
  mkdir -p "$tmp/nginx"
  sed -E -e 's/server api1:8080/server 127.0.0.1:18081/; s/server api2:8080/server 127.0.0.1:18082/' \
    -e "s|^pid .*|pid $tmp/nginx/nginx.pid;|; s|/tmp/nginx-|$tmp/nginx/|" \
    -e "s|error_log /dev/stderr|error_log $tmp/nginx/error.log|" "$ROOT/deploy/nginx.conf" >"$tmp/nginx/nginx.conf"
  if out=$(nginx -t -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" 2>&1); then
    ok "deploy/nginx.conf (nginx -t, upstreams on loopback)"
  else echo "$out"; bad "deploy/nginx.conf rejected by nginx -t"; fi
else skipped "deploy/nginx.conf: nginx is not installed"; fi

# ---------------------------------------------------------------- systemd units
if command -v systemd-analyze >/dev/null && [[ -d /usr/lib/systemd/system || -d /lib/systemd/system ]]; then
  r=$tmp/root
  mkdir -p "$r/usr/local/bin" "$r/etc/systemd/system" "$r/etc/herald" "$r/usr/lib/systemd"
  cp -a "$(realpath /usr/lib/systemd/system 2>/dev/null || realpath /lib/systemd/system)" "$r/usr/lib/systemd/system"
  for b in api email sms push reconcile; do printf '#!/bin/sh\n' >"$r/usr/local/bin/herald-$b"; chmod +x "$r/usr/local/bin/herald-$b"; done
  cp "$ROOT"/deploy/systemd/* "$r/etc/systemd/system/"
  touch "$r/etc/herald/herald.env"
  units=(herald-api@8081.service herald-migrate.service herald.target)
  for w in email sms push reconcile; do units+=("herald-$w@1.service"); done
  out=$(systemd-analyze verify --root="$r" "${units[@]}" 2>&1) || true
  if [[ -z $out ]]; then ok "deploy/systemd: systemd-analyze verify clean (${#units[@]} units)"
  else echo "$out"; bad "deploy/systemd: systemd-analyze verify"; fi
  exposure=$(systemd-analyze security --offline=yes --root="$r" herald-api@8081.service 2>/dev/null | tail -n1 || true)
  [[ -n $exposure ]] && echo "         herald-api@: ${exposure#→ }"
else skipped "deploy/systemd: systemd-analyze is not available"; fi

((failures == 0))
