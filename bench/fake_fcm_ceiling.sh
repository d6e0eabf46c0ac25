#!/usr/bin/env bash
# The ceiling of tests/fakes/fake_fcm.py alone: wrk POSTs valid FCM v1 messages (a fresh
# access token from the fake's /token, one device token per request) at C connections for
# D seconds, and the fake's CPU per request is read from /proc. The drain benchmark
# (workers_drain.sh --only push) cannot go faster than this figure.
#
#   bench/fake_fcm_ceiling.sh [seconds 8] [connections 8] [--out FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-8}
CONN=${2:-8}
OUT=${3:-}
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/herald-fcm-ceiling-XXXXXX)
fake=""
cleanup() { [[ -n $fake ]] && kill "$fake" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

openssl genrsa -out "$tmp/sa.pem" 2048 2>/dev/null
openssl rsa -in "$tmp/sa.pem" -pubout -out "$tmp/sa.pub" 2>/dev/null
mkfifo "$tmp/ready"
"$PY" "$ROOT/tests/fakes/fake_fcm.py" --public-key "$tmp/sa.pub" --ids-only >"$tmp/ready" 2>"$tmp/fake.log" &
fake=$!
read -r _ port _ <"$tmp/ready"
# An access token: an RS256 assertion signed with openssl, exchanged at /token.
token=$("$PY" - "$tmp/sa.pem" "$port" <<'PYEOF'
import base64, json, subprocess, sys, time, urllib.parse, urllib.request
key, port = sys.argv[1:]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
aud = "http://127.0.0.1:%s/token" % port
now = int(time.time())
head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"iss": "bench@herald-test.iam.example", "aud": aud, "iat": now,
                       "exp": now + 3600,
                       "scope": "https://www.googleapis.com/auth/firebase.messaging"}).encode())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=(head + "." + body).encode(),
                     capture_output=True, check=True).stdout
form = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                               "assertion": head + "." + body + "." + b64(sig)}).encode()
print(json.load(urllib.request.urlopen(aud, form))["access_token"])
PYEOF
)
cat >"$tmp/send.lua" <<LUAEOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"message":{"token":"bench-device-token","notification":{"title":"Benchmark","body":"A message of a realistic length for a notification body."},"data":{"delivery_id":"00000000-0000-4000-8000-000000000000","notification_id":"00000000-0000-4000-8000-000000000001","category":"bench"},"android":{"priority":"HIGH"},"apns":{"headers":{"apns-priority":"10"},"payload":{"aps":{"badge":1}}}}}'
LUAEOF
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$fake/stat"; }
c0=$(cpu)
wrk -t1 -c"$CONN" -d"${DUR}s" -s "$tmp/send.lua" "http://127.0.0.1:$port/v1/projects/herald-test/messages:send" >"$tmp/wrk.txt"
c1=$(cpu)
rps=$(awk '/^Requests\/sec/ { print $2 }' "$tmp/wrk.txt")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$tmp/wrk.txt")
total=$(awk '/requests in/ { print $1 }' "$tmp/wrk.txt")
us=$(echo "($c1 - $c0) * 1000000 / $total" | bc)
line="fake_fcm.py alone, wrk $CONN connections ${DUR}s: $rps req/s, ${non2xx:-0} non-2xx, fake CPU $us µs/request (ceiling on one free core: $((1000000 / (us > 0 ? us : 1))) req/s), load average $(cut -d' ' -f1 /proc/loadavg)"
echo "$line"
[[ -z $OUT ]] || echo "$line" >>"$OUT"
