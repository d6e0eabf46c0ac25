#!/usr/bin/env bash
# The runtime stage of docker/Dockerfile without a Docker engine: a Debian 12 minbase root
# (debootstrap, from the machine's own apt mirror) gets exactly what the Dockerfile gives the
# image: the Debian packages its build stage computes from the binaries' libraries (the same
# shell pipeline, extracted from the Dockerfile), the herald-* binaries, the entry point, the
# health check and the non-root user. Then, as that user:
#   - every binary starts (`herald-api config`, `herald-<worker> --help`): no library missing;
#   - `docker-entrypoint api` runs as PID 1 of its own PID namespace against the test stack,
#     and `docker-healthcheck` passes; it fails once the API is stopped;
#   - `docker-entrypoint migrate` applies the migrations; an unknown worker role exits 127.
# HERALD_IMAGE_BUILD=1 also runs the build stage in a second root: its apt-get install list and
# COPY lines read from the Dockerfile, then the CMake build; the runtime stage then uses those
# binaries instead of $HERALD_BIN_DIR's (several minutes more).
# Needs root (chroot, unshare) and debootstrap; the root is cached in $HERALD_IMAGE_ROOT_CACHE.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
((EUID == 0)) || skip "needs root (chroot, unshare)"
need debootstrap unshare nsenter chroot curl
df=$ROOT/docker/Dockerfile
cache=${HERALD_IMAGE_ROOT_CACHE:-/tmp/herald-image-root-bookworm.tar}

# ---------------------------------------------------------------- the base root
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
  sed -nE 's/^URIs: *([^ ]+).*/\1/p; s/^deb +(\[[^]]*\] +)?([^ ]+) +bookworm +.*/\2/p' |
  grep -v security | head -n1 || true)
R=$SCALE_DIR/root
mkdir -p "$R"
if [[ -f $cache ]]; then
  tar -C "$R" -xf "$cache"
else
  [[ -n $mirror ]] || skip "no Debian mirror in the apt sources"
  debootstrap --variant=minbase bookworm "$R" "$mirror" >"$SCALE_DIR/debootstrap.log" 2>&1 ||
    { tail -n 5 "$SCALE_DIR/debootstrap.log" >&2; fail "debootstrap failed"; }
  tar -C "$R" -cf "$cache" .
fi
say "Debian $(cat "$R/etc/debian_version") minbase root in $R"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp /etc/apt/sources.list.d/*.sources "$R/etc/apt/sources.list.d/" 2>/dev/null || true
mount -t proc proc "$R/proc"
CLEANUPS+=("umount -l '$R/proc'")

# ---------------------------------------------------------------- the build stage (optional)
if [[ ${HERALD_IMAGE_BUILD:-0} == 1 ]]; then
  stage=$(sed -n '/^FROM .* AS build$/,/^FROM /p' "$df")
  pkgs=$(sed -n '/apt-get install/,/rm -rf/p' <<<"$stage" | tr '\\' ' ' |
    grep -oE '(^| )[a-z0-9][a-z0-9.+-]+' | grep -vxE ' ?(apt-get|install|rm|y|no|update)' | tr -d ' ' |
    grep -vE '^(-|&&)' | sort -u | tr '\n' ' ')
  B=$SCALE_DIR/build-root
  mkdir -p "$B/src"
  tar -C "$B" -xf "$cache"
  cp /etc/resolv.conf "$B/etc/resolv.conf"
  while read -r src _; do cp -r "$ROOT/$src" "$B/src/"; done < <(sed -nE 's/^COPY ([^-][^ ]*) .*/\1/p' <<<"$stage")
  chroot "$B" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive \
    bash -c "apt-get update -q && apt-get install -y -q --no-install-recommends $pkgs && cd /src &&
      $(sed -n '/^RUN cmake -S/,/config >\/dev\/null$/p' <<<"$stage" | sed -e 's/^RUN //' -e 's/\\$//' | tr '\n' ' ')" \
    >"$SCALE_DIR/build-stage.log" 2>&1 || { tail -n 30 "$SCALE_DIR/build-stage.log" >&2; fail "the build stage failed"; }
  BIN=$B/src/build/bin
  say "build stage: $(ls "$BIN" | grep -c '^herald-') binaries built in a clean Debian root from: $pkgs"
fi

# ---------------------------------------------------------------- the build stage's package list
# The RUN line of the Dockerfile that writes runtime-packages.txt, run on our binaries.
pipeline=$(sed -n '/^RUN for b in build\/bin\/herald-\*; do ldd/,/runtime-packages.txt/p' "$df" |
  sed -e 's/\\$//' | tr '\n' ' ' | sed -e 's/^RUN //' -e 's/ > build\/runtime-packages.txt.*$//')
[[ -n $pipeline ]] || fail "the runtime-packages step is not in docker/Dockerfile"
mkdir -p "$SCALE_DIR/src/build/bin"
cp "$BIN"/herald-* "$SCALE_DIR/src/build/bin/"
(cd "$SCALE_DIR/src" && bash -c "$pipeline") >"$SCALE_DIR/runtime-packages.txt"
say "runtime packages: $(tr '\n' ' ' <"$SCALE_DIR/runtime-packages.txt")"

# ---------------------------------------------------------------- the runtime stage
in_root() { chroot "$R" /usr/bin/env -i PATH=/opt/herald/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
in_root bash -c "apt-get update -q && xargs -a /dev/stdin apt-get install -y -q --no-install-recommends \
  ca-certificates tzdata" <"$SCALE_DIR/runtime-packages.txt" >"$SCALE_DIR/apt.log" 2>&1 ||
  { tail -n 20 "$SCALE_DIR/apt.log" >&2; fail "the runtime packages do not install"; }
in_root bash -c 'groupadd --gid 10001 herald && useradd --uid 10001 --gid herald --no-log-init \
  --home-dir /var/lib/herald --create-home --shell /usr/sbin/nologin herald &&
  mkdir -p /var/lib/herald/outbox/email /var/lib/herald/outbox/sms /var/lib/herald/outbox/push &&
  chown -R herald:herald /var/lib/herald'
mkdir -p "$R/opt/herald/bin"
cp "$BIN"/herald-* "$R/opt/herald/bin/"
cp "$ROOT/docker/entrypoint.sh" "$R/opt/herald/bin/docker-entrypoint"
cp "$ROOT/docker/healthcheck.sh" "$R/opt/herald/bin/docker-healthcheck"
chmod 0755 "$R"/opt/herald/bin/*

# as_herald CMD...: as uid 10001 in the root, with the image's environment plus the test stack's
as_herald() {
  chroot --userspec=10001:10001 "$R" /usr/bin/env -i PATH=/opt/herald/bin:/usr/bin:/bin \
    HOME=/var/lib/herald HERALD_HTTP_BIND=127.0.0.1 HERALD_HTTP_PORT="${port:-8080}" \
    HERALD_EMAIL_OUTBOX_DIR=/var/lib/herald/outbox/email HERALD_LOG_LEVEL=warning \
    HERALD_DATABASE_URL="$HERALD_DATABASE_URL" HERALD_REDIS_URL="$HERALD_REDIS_URL" \
    HERALD_JWT_SECRET="$HERALD_JWT_SECRET" "$@"
}

stack_start
port=$(free_port)
n=$(as_herald herald-api config | grep -c '^| `HERALD_') || fail "herald-api does not start in the root"
say "herald-api config in the root: $n variables"
for b in "$R"/opt/herald/bin/herald-*; do
  name=$(basename "$b")
  [[ $name == herald-api ]] && continue
  # --help: every worker has it (exit 0); a missing library would make the loader exit 127
  out=$(as_herald "$name" --help 2>&1) || fail "$name does not start in the root: ${out:0:300}"
  [[ $out == *Usage* ]] || fail "$name printed no usage in the root: ${out:0:300}"
done
say "every binary starts as uid 10001: $(cd "$R/opt/herald/bin" && ls herald-* | tr '\n' ' ')"
as_herald docker-entrypoint migrate >"$SCALE_DIR/migrate.log" 2>&1 || fail "entrypoint migrate: $(cat "$SCALE_DIR/migrate.log")"
rc=0
as_herald docker-entrypoint nosuchworker >/dev/null 2>&1 || rc=$?
[[ $rc == 127 ]] || fail "an unknown role exited $rc (expected 127)"
say "entrypoint: migrate ok, unknown role 127"

# The API as PID 1 of a PID namespace, as in a container.
unshare --pid --fork --mount-proc="$R/proc" chroot --userspec=10001:10001 "$R" /usr/bin/env -i \
  PATH=/opt/herald/bin:/usr/bin:/bin HERALD_HTTP_BIND=127.0.0.1 HERALD_HTTP_PORT="$port" \
  HERALD_DATABASE_URL="$HERALD_DATABASE_URL" HERALD_REDIS_URL="$HERALD_REDIS_URL" \
  HERALD_JWT_SECRET="$HERALD_JWT_SECRET" HERALD_LOG_LEVEL=warning \
  /opt/herald/bin/docker-entrypoint api >"$SCALE_DIR/api.log" 2>&1 &
ns_pid=$!
track "$ns_pid"
wait_status "http://127.0.0.1:$port/readyz" 200 20 || fail "the API in the root did not become ready"
inner=$(pgrep -P "$ns_pid" | head -n1)
[[ -n $inner ]] || fail "no process in the namespace"
health() {
  nsenter --target "$inner" --pid --mount --root /usr/bin/env -i -C / PATH=/usr/bin:/bin \
    HERALD_HTTP_PORT="$port" /opt/herald/bin/docker-healthcheck
}
[[ $(nsenter --target "$inner" --pid --mount --root cat /proc/1/comm) == herald-api ]] ||
  fail "PID 1 of the namespace is not herald-api"
health || fail "docker-healthcheck failed against a running API"
say "herald-api runs as PID 1 (uid 10001); docker-healthcheck passes"
kill -STOP "$inner"
rc=0
timeout 10 bash -c "$(declare -f health); inner=$inner port=$port; health" || rc=$?
kill -CONT "$inner"
((rc != 0)) || fail "docker-healthcheck passed against a stopped API"
say "docker-healthcheck fails when the API does not answer (exit $rc)"
kill -TERM "$inner"
rc=0
wait "$ns_pid" || rc=$?
[[ $rc == 0 ]] || fail "the API exited $rc on SIGTERM as PID 1 (expected 0)"
say "SIGTERM to PID 1: drained, exit 0"
say "passed"
