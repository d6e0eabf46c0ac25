#!/usr/bin/python3
"""A fake Firebase Cloud Messaging HTTP v1 API with its OAuth2 token endpoint.

  fake_fcm.py --public-key PUB.pem [--port 0] [--project herald-test] [--token-ttl 3600]

  POST /token   form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
                The JWT must be RS256 (signature checked with `openssl dgst` against
                --public-key), with iss, scope (firebase.messaging), aud = this URL, iat,
                exp in the future. -> {"access_token", "expires_in", "token_type"}
                Errors: 400 {"error": "invalid_grant", "error_description"}.
  POST /v1/projects/{project}/messages:send   Authorization: Bearer <access token>
                -> 200 {"name": "projects/{project}/messages/<n>"}
                401 UNAUTHENTICATED (unknown or expired token), 404 NOT_FOUND for another
                project, 404 UNREGISTERED for tokens made unregistered, 400
                INVALID_ARGUMENT for tokens starting with "invalid-" or made invalid.

Messages are checked as FCM HTTP v1 checks them (check_message): known fields only, data
values strings and no reserved key, the data payload at most 4096 bytes, android priority
HIGH/NORMAL and ttl a duration ("3600s"), apns headers strings with apns-priority 5 or 10;
a message that fails is refused with 400 INVALID_ARGUMENT naming the problem (stat
"bad_message").

Control (besides fakelib.py): POST /_fake/unregister {"token"}, POST /_fake/invalid
{"token"}, POST /_fake/revoke (every access token stops working). Failure rules apply at
stage "send" (match: the device token) and "token".

Served by fakeasync.py (one event loop, keep-alive), so the drain benchmark measures
herald-push rather than the fake; --ids-only keeps only delivery ids (benchmarks).
"""

import argparse
import base64
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlparse

import fakeasync
import fakelib

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


MESSAGE_FIELDS = {"token", "topic", "condition", "name", "data", "notification", "android",
                  "webpush", "apns", "fcm_options"}
ANDROID_FIELDS = {"collapse_key", "priority", "ttl", "restricted_package_name", "data",
                  "notification", "fcm_options", "direct_boot_ok"}
APNS_FIELDS = {"headers", "payload", "fcm_options", "live_activity_token"}
DATA_MAX = 4096


def check_data(data, where):
    if not isinstance(data, dict):
        return "%s must be a map" % where
    for k, v in data.items():
        if not isinstance(v, str):
            return "%s.%s: value must be a string" % (where, k)
        if k in ("from", "message_type", "notification") or k.startswith(("google", "gcm")):
            return "%s.%s: reserved key" % (where, k)
    if sum(len(k.encode()) + len(v.encode()) for k, v in data.items()) > DATA_MAX:
        return "%s: payload over %d bytes" % (where, DATA_MAX)
    return None


def check_android(a):
    if not isinstance(a, dict) or set(a) - ANDROID_FIELDS:
        return "android: unknown field %s" % sorted(set(a) - ANDROID_FIELDS)
    if "priority" in a and a["priority"] not in ("HIGH", "NORMAL"):
        return "android.priority must be HIGH or NORMAL"
    ttl = a.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and ttl.endswith("s")
                                and ttl[:-1].replace(".", "", 1).isdigit()):
        return "android.ttl must be a duration such as 3600s"
    count = a.get("notification", {}).get("notification_count")
    if count is not None and not isinstance(count, int):
        return "android.notification.notification_count must be an integer"
    return None


def check_apns(a):
    if not isinstance(a, dict) or set(a) - APNS_FIELDS:
        return "apns: unknown field"
    headers = a.get("headers", {})
    if not all(isinstance(v, str) for v in headers.values()):
        return "apns.headers values must be strings"
    if headers.get("apns-priority", "10") not in ("5", "10"):
        return "apns-priority must be 5 or 10"
    aps = a.get("payload", {}).get("aps", {})
    if "badge" in aps and not isinstance(aps["badge"], int):
        return "aps.badge must be an integer"
    return None


def check_message(message):
    """What FCM would refuse in message, or None."""
    unknown = set(message) - MESSAGE_FIELDS
    if unknown:
        return "unknown field %s" % sorted(unknown)
    for problem in (check_data(message.get("data", {}), "data"),
                    check_android(message.get("android", {})),
                    check_apns(message.get("apns", {}))):
        if problem:
            return problem
    return None


def fcm_error(status, rule):
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
             404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
             503: "UNAVAILABLE"}
    doc = {"error": {"code": status, "message": rule.get("text", "fake failure"),
                     "status": names.get(status, "UNKNOWN")}}
    code = rule.get("error_code") or {429: "QUOTA_EXCEEDED", 503: "UNAVAILABLE",
                                      500: "INTERNAL"}.get(status)
    if code:
        doc["error"]["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                    "errorCode": code}]
    return doc


class Fcm:
    """The fake's state and its answers; handle() runs on fakeasync's event loop, or on
    one of its threads for the requests that may block (the token endpoint runs
    openssl; failure rules and /_fake/delay may sleep)."""

    def __init__(self, project, public_key, token_ttl, state):
        self.project, self.public_key, self.token_ttl = project, public_key, token_ttl
        self.state = state
        self.tokens = {}          # access token -> expiry
        self.unregistered = set()
        self.invalid = set()
        self.lock = threading.Lock()
        self.counter = 0

    def verify(self, req, assertion):
        """The JWT's problem, or None when it is good."""
        try:
            head, claims, sig = assertion.split(".")
            header = json.loads(b64url_decode(head))
            body = json.loads(b64url_decode(claims))
        except (ValueError, json.JSONDecodeError):
            return "malformed assertion"
        if header.get("alg") != "RS256":
            return "alg must be RS256"
        now = time.time()
        aud = "http://%s:%d/token" % tuple(req.server_address)
        if body.get("aud") != aud or body.get("scope") != SCOPE or not body.get("iss"):
            return "bad aud, scope or iss"
        if not (body.get("iat", 0) <= now + 60 and body.get("exp", 0) > now):
            return "expired or future assertion"
        with tempfile.TemporaryDirectory() as d:
            data, sigf = os.path.join(d, "data"), os.path.join(d, "sig")
            with open(data, "w") as f:
                f.write(head + "." + claims)
            with open(sigf, "wb") as f:
                f.write(b64url_decode(sig))
            ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.public_key,
                                 "-signature", sigf, data], capture_output=True).returncode == 0
        return None if ok else "bad signature"

    def token(self, req):
        params = {k: v[0] for k, v in parse_qs(req.body()).items()}
        rule = self.state.take_rule("token")
        if rule:
            fakelib.JsonHandler.apply_rule(req, rule,
                                           lambda s, r: {"error": "temporarily_unavailable"})
            return
        problem = None
        if params.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = "unsupported grant_type"
        else:
            problem = self.verify(req, params.get("assertion", ""))
        if problem:
            req.send_json(400, {"error": "invalid_grant", "error_description": problem})
            return
        access = "ya29.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access] = time.time() + self.token_ttl
        self.state.count("token_requests")
        req.send_json(200, {"access_token": access, "expires_in": self.token_ttl,
                            "token_type": "Bearer"})

    def bearer_ok(self, req):
        auth = req.headers.get("Authorization", "")
        with self.lock:
            expiry = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        return expiry is not None and expiry > time.time()

    def send_message(self, req, project):
        raw = req.body()
        if not self.bearer_ok(req):
            self.state.count("unauthenticated")
            req.send_json(401, fcm_error(401, {"text": "Request had invalid authentication "
                                               "credentials."}))
            return
        if project != self.project:
            req.send_json(404, fcm_error(404, {"text": "Requested entity was not found."}))
            return
        try:
            message = json.loads(raw)["message"]
            device = message["token"]
        except (ValueError, KeyError, TypeError):
            req.send_json(400, fcm_error(400, {"text": "Invalid JSON payload received."}))
            return
        problem = check_message(message)
        if problem:
            self.state.count("bad_message")
            req.send_json(400, fcm_error(400, {"text": problem}))
            return
        self.deliver(req, message, device)

    def deliver(self, req, message, device):
        rule = self.state.take_rule("send", device) if self.state.rules else None
        if rule:
            fakelib.JsonHandler.apply_rule(req, rule, fcm_error)
        elif device in self.unregistered:
            req.send_json(404, fcm_error(404, {"text": "Requested entity was not found.",
                                               "error_code": "UNREGISTERED"}))
        elif device in self.invalid or device.startswith("invalid-"):
            req.send_json(400, fcm_error(400, {"text": "The registration token is not a "
                                               "valid FCM registration token",
                                               "error_code": "INVALID_ARGUMENT"}))
        else:
            self.state.pause()
            with self.lock:
                self.counter += 1
                name = "projects/%s/messages/0:%d%%fake" % (self.project, self.counter)
            data = message.get("data", {})
            self.state.record({"name": name, "token": device, "message": message,
                               "delivery_id": data.get("delivery_id")})
            req.send_json(200, {"name": name})

    def token_control(self, req, path):
        doc = json.loads(req.body() or "{}")
        with self.lock:
            if path == "/_fake/unregister":
                self.unregistered.add(doc["token"])
            elif path == "/_fake/invalid":
                self.invalid.add(doc["token"])
            else:
                self.tokens.clear()
        req.send_json(200, {"ok": True})

    def needs_thread(self, req):
        return req.path.startswith("/token") or bool(self.state.rules) or self.state.delay_ms > 0

    def handle(self, req):
        path = urlparse(req.path).path
        if req.command == "POST" and path in ("/_fake/unregister", "/_fake/invalid",
                                              "/_fake/revoke"):
            self.token_control(req, path)
        elif fakelib.JsonHandler.control_request(req, req.command):
            return
        elif req.command == "POST" and path == "/token":
            self.token(req)
        elif (req.command == "POST" and path.startswith("/v1/projects/")
              and path.endswith("/messages:send")):
            self.send_message(req, path[len("/v1/projects/"):-len("/messages:send")])
        else:
            req.send_json(404, fcm_error(404, {"text": "not found"}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--project", default="herald-test")
    p.add_argument("--public-key", required=True)
    p.add_argument("--token-ttl", type=int, default=3600)
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    app = Fcm(args.project, args.public_key, args.token_ttl,
              fakelib.State(keep_bodies=not args.ids_only))
    server = fakeasync.Server(app, args.port)
    fakelib.announce(server.address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
