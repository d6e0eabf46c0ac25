#!/usr/bin/python3
"""A fake webhook receiver that verifies Standard Webhooks signatures the way a receiver
does, records what it received and fails on demand.

  fake_webhook.py [--port 0] [--tolerance 300]

  POST <any path>   a delivery: the webhook-id, webhook-timestamp and webhook-signature
                    headers are checked against the secrets it was given (any "v1,"
                    signature matching any secret passes; the timestamp must lie within
                    --tolerance seconds). Verified: 200 and recorded with "verified": true;
                    otherwise 401 and recorded with "verified": false and "why".
  POST /_fake/secrets {"secrets": ["whsec_...", ...]}   the secrets to verify with

Recorded: {"delivery_id": webhook-id, "path", "timestamp", "signatures": count,
"verified", "why", "body": the parsed JSON body, "user_agent"}. Failure rules (see
fakelib.py) apply at stage "send" (match: the request path); besides the common modes,
"redirect" answers 302 to rule["location"], "big" answers 200 with a body of
rule["bytes"] bytes.
"""

import argparse
import base64
import hashlib
import hmac
import json
import time

import fakelib


def verify(secrets, msg_id, timestamp, body, header, tolerance):
    """Why the delivery fails verification, or None."""
    if not msg_id or not timestamp or not header:
        return "missing headers"
    try:
        ts = int(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(time.time() - ts) > tolerance:
        return "timestamp outside the tolerance"
    signed = ("%s.%s." % (msg_id, timestamp)).encode() + body
    expected = []
    for secret in secrets:
        if not secret.startswith("whsec_"):
            continue
        key = base64.b64decode(secret[len("whsec_"):])
        mac = hmac.new(key, signed, hashlib.sha256).digest()
        expected.append(base64.b64encode(mac).decode())
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version != "v1":
            continue
        for e in expected:
            if hmac.compare_digest(e, sig):
                return None
    return "no valid signature"


class Handler(fakelib.JsonHandler):
    secrets = []
    tolerance = 300

    def do_POST(self):
        if self.path.startswith("/_fake/secrets"):
            Handler.secrets = list(json.loads(self.body() or "{}").get("secrets", []))
            self.send_json(200, {"ok": True, "secrets": len(Handler.secrets)})
            return
        if self.control_request("POST"):
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        rule = self.state.take_rule("send", self.path)
        if rule and rule.get("mode") == "redirect":
            self.send_response(302)
            self.send_header("Location", rule.get("location", "/redirected"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rule and rule.get("mode") == "big":
            self.send_raw(200, b"x" * int(rule.get("bytes", 1 << 20)))
            return
        if rule:
            self.apply_rule(rule, lambda status, r: {"error": r.get("text", "fake failure")})
            return
        self.state.pause()
        header = self.headers.get("webhook-signature", "")
        why = verify(Handler.secrets, self.headers.get("webhook-id"),
                     self.headers.get("webhook-timestamp"), raw, header, Handler.tolerance)
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        self.state.record({"delivery_id": self.headers.get("webhook-id"), "path": self.path,
                           "timestamp": self.headers.get("webhook-timestamp"),
                           "signatures": len([p for p in header.split(" ") if p]),
                           "verified": why is None, "why": why, "body": body,
                           "content_type": self.headers.get("Content-Type"),
                           "user_agent": self.headers.get("User-Agent")})
        if why is None:
            self.send_json(200, {"ok": True})
        else:
            self.send_json(401, {"error": why})

    def do_GET(self):
        if not self.control_request("GET"):
            self.send_json(404, {"error": "not found"})

    def do_DELETE(self):
        if not self.control_request("DELETE"):
            self.send_json(404, {"error": "not found"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tolerance", type=int, default=300)
    args = p.parse_args()
    Handler.state = fakelib.State()
    Handler.tolerance = args.tolerance
    server = fakelib.serve_http(Handler, args.port)
    fakelib.announce(server.server_address[1])
    fakelib.serve_forever(server)


if __name__ == "__main__":
    main()
