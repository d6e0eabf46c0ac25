#!/usr/bin/env bash
# The whole fleet on one PostgreSQL and one Redis: two herald-api instances behind nginx and
# four workers of each kind (herald-email, herald-sms, herald-push; file providers into
# $SCALE_DIR/outbox). Under wrk load of POST /api/v1/notifications (e-mail + SMS + push each):
#   - api-a gets SIGTERM and comes back; one worker of each kind is SIGKILLed and restarted;
#     another e-mail worker gets SIGTERM (must drain and exit 0) and is restarted.
# Expected: every answer 202; one notification per accepted request (+ the requests still in
# flight when wrk stopped); every e-mail/SMS/push delivery of the run ends `sent` (none dead,
# failed or held); the outbox holds at least one message per delivery (more only where a
# SIGKILL fell between the send and the commit: at-least-once, counted and reported).
#   SCALE_DURATION (s, default 20), SCALE_WORKERS (per kind, default 4)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk nginx curl psql redis-cli jq
for w in email sms push; do
  [[ -x $BIN/herald-$w ]] || skip "workers not built ($BIN/herald-$w is missing)"
done
duration=${SCALE_DURATION:-20}
per_kind=${SCALE_WORKERS:-4}
users=20
prefix=wk$$

stack_start
port_a=$(free_port) port_b=$(free_port) port_lb=$(free_port)
api_env=(HERALD_AUTH_RATE_LIMIT=1000000 HERALD_HTTP_THREADS=8 HERALD_TRUSTED_PROXIES=127.0.0.1)
if [[ $("$BIN/herald-api" config) == *HERALD_SWEEP_STALE_S* ]]; then
  api_env+=(HERALD_SWEEP_INTERVAL_S=2 HERALD_SWEEP_STALE_S=15)
fi
api_start api-a "$port_a" "${api_env[@]}"
pid_a=$API_PID
api_start api-b "$port_b" "${api_env[@]}"
nginx_start "$port_lb" "$port_a" "$port_b"
lb=http://127.0.0.1:$port_lb

# ---------------------------------------------------------------- users, devices, an API key
json_field() { jq -r ".$1" <<<"${2#* }"; } # json_field FIELD "STATUS BODY"
out=$(post_json "$lb/api/v1/auth/register" "{\"email\":\"$prefix-admin@scale.test\",\"password\":\"Scale-admin-password-1\"}")
[[ $out == 202* ]] || fail "register admin: $out"
psql_q "UPDATE users SET role = 'admin' WHERE email = '$prefix-admin@scale.test'" >/dev/null
out=$(post_json "$lb/api/v1/auth/login" "{\"email\":\"$prefix-admin@scale.test\",\"password\":\"Scale-admin-password-1\"}")
admin_token=$(json_field access_token "$out")
out=$(curl -s -m 10 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d '{"name":"scale test"}' "$lb/api/v1/admin/api-keys")
api_key=$(jq -r .secret <<<"$out")
[[ $api_key == hk_* ]] || fail "no API key: $out"
ids=()
for ((i = 0; i < users; i++)); do
  email=$prefix-$i@scale.test pw=Scale-test-password-$i
  out=$(post_json "$lb/api/v1/auth/register" \
    "{\"email\":\"$email\",\"password\":\"$pw\",\"phone\":\"+1415555$((1000 + i))\"}")
  [[ $out == 202* ]] || fail "register $email: $out"
  token=$(json_field access_token "$(post_json "$lb/api/v1/auth/login" "{\"email\":\"$email\",\"password\":\"$pw\"}")")
  ids+=("$(curl -s -m 10 -H "Authorization: Bearer $token" "$lb/api/v1/users/me" | jq -r .id)")
  out=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"token\":\"scale-device-$prefix-$i\",\"platform\":\"android\"}" \
    "$lb/api/v1/devices")
  [[ $out == 20? ]] || fail "device of $email: $out"
done
[[ ${ids[0]} =~ ^[0-9a-f-]{36}$ ]] || fail "no user id from /users/me"
say "$users users with a phone and a device; API key for the service calls"

# ---------------------------------------------------------------- the workers
declare -A wpid
worker_env=(HERALD_EMAIL_OUTBOX_DIR="$SCALE_DIR/outbox/email" HERALD_SMS_OUTBOX_DIR="$SCALE_DIR/outbox/sms"
  HERALD_PUSH_OUTBOX_DIR="$SCALE_DIR/outbox/push" HERALD_WORKER_HEARTBEAT_TTL_MS=2000
  HERALD_WORKER_REAP_INTERVAL_MS=500 HERALD_WORKER_SWEEP_INTERVAL_S=2 HERALD_WORKER_STALE_AFTER_S=10)
worker_start() { # worker_start KIND N
  env "${worker_env[@]}" "$BIN/herald-$1" --concurrency 2 >>"$SCALE_DIR/herald-$1-$2.log" 2>&1 &
  wpid[$1-$2]=$!
  track $!
}
for w in email sms push; do for ((k = 1; k <= per_kind; k++)); do worker_start "$w" "$k"; done; done
say "$per_kind workers of each kind running (--concurrency 2)"

# ---------------------------------------------------------------- load and failures
scope="FROM deliveries d JOIN notifications n ON n.id = d.notification_id JOIN users u ON u.id = d.user_id
  WHERE u.email LIKE '$prefix-%' AND n.category = 'scale' AND d.channel IN ('email','sms','push')"
notifications() { psql_q "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.email LIKE '$prefix-%' AND n.category = 'scale'"; }
t_start=$SECONDS
SCALE_USER_IDS=$(IFS=,; echo "${ids[*]}") SCALE_TOKEN=$api_key \
  wrk -t2 -c16 -d"${duration}s" --latency -s "$ROOT/tests/scale/notify.lua" "$lb" >"$SCALE_DIR/wrk.txt" 2>&1 &
wrk_pid=$!
track "$wrk_pid"
sleep 4
say "SIGTERM api-a"
kill -TERM "$pid_a"
rc=0
wait "$pid_a" || rc=$?
[[ $rc == 0 ]] || fail "api-a exited $rc after SIGTERM"
api_start api-a "$port_a" "${api_env[@]}"
sleep 2
for w in email sms push; do say "SIGKILL herald-$w #1 (pid ${wpid[$w-1]})"; kill -KILL "${wpid[$w-1]}"; done
sleep 3
for w in email sms push; do worker_start "$w" 1; done
say "SIGTERM herald-email #2 (pid ${wpid[email-2]})"
kill -TERM "${wpid[email-2]}"
rc=0
wait "${wpid[email-2]}" || rc=$?
[[ $rc == 0 ]] || fail "herald-email #2 exited $rc after SIGTERM (expected 0: drain)"
worker_start email 2
wait "$wrk_pid" || fail "wrk failed"
out=$(grep -E '^statuses' "$SCALE_DIR/wrk.txt")
say "load: $(grep -E '^(statuses|latency|Requests/sec)' "$SCALE_DIR/wrk.txt" | tr '\n' ' ')"
others=$(grep -oE ' [0-9]{3}=[0-9]+' <<<"$out" | grep -v ' 202=' || true)
[[ -z $others ]] || fail "statuses other than 202: $others"
ok=$(grep -oE ' 202=[0-9]+' <<<"$out" | cut -d= -f2)
open=$(grep -oE ' unanswered=[0-9]+' <<<"$out" | cut -d= -f2)
sleep 1
made=$(notifications)
((made >= ok && made - ok <= open)) || fail "$made notifications for $ok accepted requests"

# ---------------------------------------------------------------- every delivery ends sent
deadline=$((SECONDS + 240))
while :; do
  total=$(psql_q "SELECT count(*) $scope")
  sent=$(psql_q "SELECT count(*) $scope AND d.status = 'sent'")
  ((sent == total)) && break
  ((SECONDS < deadline)) || break
  sleep 2
done
t_drained=$((SECONDS - t_start))
say "deliveries by status: $(psql_q "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT d.status, count(*) n $scope GROUP BY 1) s")"
((total == 3 * made)) || fail "$total deliveries for $made notifications (expected 3 each)"
((sent == total)) || fail "$((total - sent)) of $total deliveries did not end sent"
say "all $total deliveries sent ${t_drained} s after the load started"
# The file providers name each message after its delivery id (a resend rewrites the same file
# atomically), so the outbox must hold exactly the ids of the sent deliveries, per channel.
for w in email sms push; do
  psql_q "SELECT d.id $scope AND d.channel = '$w'" | sort >"$SCALE_DIR/ids-$w.txt"
  find "$SCALE_DIR/outbox/$w" -type f -printf '%f\n' | sed -E 's/\.[a-z]+$//' | sort >"$SCALE_DIR/files-$w.txt"
  lost=$(comm -23 "$SCALE_DIR/ids-$w.txt" "$SCALE_DIR/files-$w.txt" | wc -l)
  ((lost == 0)) || fail "$w: $lost sent deliveries have no message in the outbox"
done
again=$(psql_q "SELECT count(*) $scope AND (d.attempts > 1 OR d.recoveries > 0)")
say "every sent delivery has its message in the outbox; $again deliveries took more than one attempt"\
" (recovered from the killed workers: sent at least once, possibly twice)"
say "passed"
