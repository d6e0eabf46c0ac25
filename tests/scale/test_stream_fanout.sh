#!/usr/bin/env bash
# The notification stream behind nginx (deploy/nginx.conf) with two herald-api instances on one
# PostgreSQL and one Redis:
#   - STREAMS streams of one user opened through nginx land on both instances (their access
#     logs say so) and every one of them receives each notification posted through nginx,
#     whichever instance committed it, within 2 s (proxy_buffering off: nothing held back);
#   - a stream closed, then reopened through nginx with Last-Event-ID (likely on the other
#     instance) receives exactly the notifications it missed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need nginx curl psql jq
streams=${STREAMS:-4}
prefix=st$$

stack_start
port_a=$(free_port) port_b=$(free_port) port_lb=$(free_port)
api_env=(HERALD_AUTH_RATE_LIMIT=1000000 HERALD_TRUSTED_PROXIES=127.0.0.1 HERALD_LOG_LEVEL=info)
api_start api-a "$port_a" "${api_env[@]}"
api_start api-b "$port_b" "${api_env[@]}"
nginx_start "$port_lb" "$port_a" "$port_b"
lb=http://127.0.0.1:$port_lb
say "PostgreSQL, Redis, api-a :$port_a, api-b :$port_b, nginx :$port_lb"

register_users "$prefix" 1 "$lb"
login() { # login EMAIL PASSWORD: an access token
  curl -s -m 10 -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    "$lb/api/v1/auth/login" | jq -r .access_token
}
token=$(login "$prefix-0@scale.test" "Scale-test-password-0")
[[ -n $token && $token != null ]] || fail "no access token"
user=$(curl -s -m 10 -H "Authorization: Bearer $token" "$lb/api/v1/users/me" | jq -r .id)
psql_q "UPDATE users SET role = 'admin' WHERE email = '$prefix-0@scale.test'" >/dev/null
admin=$(login "$prefix-0@scale.test" "Scale-test-password-0") # the same account, now admin
send() { # send TITLE: posts an in-app notification to $user through nginx; prints its id
  curl -s -m 10 -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"user_id\":\"$user\",\"category\":\"scale\",\"title\":\"$1\",\"body\":\"b\",\"channels\":[\"in_app\"]}" \
    "$lb/api/v1/notifications" | jq -r .id
}
open_stream() { # open_stream N [LAST_ID]: curl -N on the stream in the background; sets CURL_PID
  local extra=()
  [[ -n ${2:-} ]] && extra=(-H "Last-Event-ID: $2")
  curl -s -N -m 60 -H "Authorization: Bearer $token" "${extra[@]}" \
    "$lb/api/v1/notifications/stream" >"$SCALE_DIR/stream-$1.txt" 2>&1 &
  CURL_PID=$!
  track "$CURL_PID"
}
wait_for() { # wait_for FILE TEXT SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

pids=()
for ((i = 0; i < streams; i++)); do
  open_stream "$i"
  pids+=("$CURL_PID")
  wait_for "$SCALE_DIR/stream-$i.txt" "event: unread_count" 5 || fail "stream $i did not open"
done
on_a=$(grep -c 'GET /api/v1/notifications/stream' "$SCALE_DIR/api-a.log" || true)
on_b=$(grep -c 'GET /api/v1/notifications/stream' "$SCALE_DIR/api-b.log" || true)
say "$streams streams through nginx: $on_a on api-a, $on_b on api-b"
((on_a > 0 && on_b > 0)) || fail "the streams did not reach both instances"

ids=()
for n in 1 2 3 4; do
  id=$(send "scale $n")
  [[ $id =~ ^[0-9a-f-]{36}$ ]] || fail "send $n: $id"
  ids+=("$id")
  for ((i = 0; i < streams; i++)); do
    wait_for "$SCALE_DIR/stream-$i.txt" "\"id\":\"$id\"" 2 || fail "stream $i missed notification $n ($id)"
  done
done
say "each of ${#ids[@]} notifications reached all $streams streams (both instances delivered)"

# Resume: close stream 0, send two more, reopen with its last id.
last=$(grep -E '^id: ' "$SCALE_DIR/stream-0.txt" | tail -n1 | cut -d' ' -f2)
stop_pid "${pids[0]}"
missed=("$(send "missed 1")" "$(send "missed 2")")
open_stream resume "$last"
wait_for "$SCALE_DIR/stream-resume.txt" "event: unread_count" 5 || fail "resumed stream did not open"
got=$(grep -c '^event: notification.created' "$SCALE_DIR/stream-resume.txt" || true)
[[ $got == 2 ]] || fail "resume after $last replayed $got notifications, expected 2"
for id in "${missed[@]}"; do
  grep -q "\"id\":\"$id\"" "$SCALE_DIR/stream-resume.txt" || fail "resume missed $id"
done
say "resumed after id $last: exactly the 2 missed notifications"
say "PASS"
