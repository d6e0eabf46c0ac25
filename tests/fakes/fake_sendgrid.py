#!/usr/bin/python3
"""A fake SendGrid-v3-style mail API that records messages and fails on demand.

  fake_sendgrid.py [--port 0] [--api-key KEY] [--ids-only]

  POST /v3/mail/send   (JSON; Authorization: Bearer KEY) -> 202, empty body, X-Message-Id

Errors like the real API, as {"errors": [{"message", "field", "help"}]}: 401 (no or bad
key), 400 (body not JSON, no personalizations, a recipient or from address that is not an
address, no subject, no content), 413 (body over 30 MB). Failure rules (fakelib.py) apply
at stage "send" (match: the first recipient): HTTP statuses (429 with "retry_after",
5xx), "timeout", "disconnect", "malformed"; POST /_fake/delay makes every answer slow.

  GET  /_fake/webhook_key   {"public_key": base64 DER of the ECDSA P-256 key the fake
                             signs its Event Webhook with}
  POST /_fake/event {"url", "events": [{...}], "signature": "bad"?, "timestamp": N?}
       posts the events (a JSON array) to url signed as SendGrid signs them: ECDSA
       P-256 / SHA-256 over timestamp + body, base64 DER, in
       X-Twilio-Email-Event-Webhook-Signature, the timestamp in
       X-Twilio-Email-Event-Webhook-Timestamp; answers {"status": <url's status>}.

Each received message: {delivery_id (custom_args), to, from, subject, message_id}.
"""

import argparse
import base64
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import fakeasync
import fakelib

ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def sg_error(status, rule):
    return {"errors": [{"message": rule.get("text", "fake failure %d" % status), "field": None,
                        "help": None}]}


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


class SendGrid:
    def __init__(self, api_key, state):
        self.api_key = api_key
        self.state = state
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()

    def invalid(self, doc):
        """(field, message) of the first problem of a mail/send body, or None."""
        if not isinstance(doc, dict) or not doc.get("personalizations"):
            return "personalizations", "The personalizations field is required."
        for p in doc["personalizations"]:
            for to in p.get("to") or [None]:
                if not isinstance(to, dict) or not ADDRESS.match(to.get("email") or ""):
                    return ("personalizations.0.to",
                            "Does not contain a valid address.")
        if not ADDRESS.match((doc.get("from") or {}).get("email") or ""):
            return "from.email", "The from email does not contain a valid address."
        if not doc.get("subject"):
            return "subject", "The subject is required."
        if not doc.get("content"):
            return "content", "Unless a valid template_id is provided, the content parameter" \
                              " is required."
        return None

    def send(self, req):
        if req.headers.get("Authorization", "") != "Bearer " + self.api_key:
            self.state.count("unauthorized")
            req.send_json(401, {"errors": [{"message": "The provided authorization grant is "
                                            "invalid, expired, or revoked", "field": None,
                                            "help": None}]})
            return
        raw = req.raw_body
        if len(raw) > 30 * 1024 * 1024:
            req.send_json(413, sg_error(413, {"text": "Request Entity Too Large"}))
            return
        try:
            doc = json.loads(raw)
        except ValueError:
            req.send_json(400, {"errors": [{"message": "Bad Request", "field": None,
                                            "help": None}]})
            return
        bad = self.invalid(doc)
        first = ((doc.get("personalizations") or [{}])[0].get("to") or [{}])[0] \
            if isinstance(doc, dict) else {}
        rule = self.state.take_rule("send", (first or {}).get("email", "")) \
            if self.state.rules else None
        if rule:
            fakelib.JsonHandler.apply_rule(req, rule, sg_error)
        elif bad:
            self.state.count("rejected")
            req.send_json(400, {"errors": [{"message": bad[1], "field": bad[0], "help": None}]})
        else:
            self.state.pause()
            mid = secrets.token_urlsafe(16)
            p = doc["personalizations"][0]
            self.state.record({"delivery_id": (p.get("custom_args") or {}).get("delivery_id"),
                               "to": [t["email"] for t in p["to"]],
                               "from": doc["from"]["email"], "subject": doc["subject"],
                               "headers": doc.get("headers"), "message_id": mid})
            req.send_raw(202, b"", "text/plain", {"X-Message-Id": mid})

    def event(self, req):
        spec = json.loads(req.body() or "{}")
        body = json.dumps(spec.get("events", [])).encode()
        ts = str(spec.get("timestamp", int(time.time())))
        sig = self.key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        if spec.get("signature") == "bad":
            sig = self.key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        headers = {"Content-Type": "application/json",
                   "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(),
                   "X-Twilio-Email-Event-Webhook-Timestamp": ts}
        req.send_json(200, {"status": post(spec["url"], body, headers)})

    def needs_thread(self, req):
        return req.path.startswith("/_fake/event") or bool(self.state.rules) \
            or self.state.delay_ms > 0

    def handle(self, req):
        path = urlparse(req.path).path
        if req.command == "GET" and path == "/_fake/webhook_key":
            req.send_json(200, {"public_key": self.public_key})
        elif req.command == "POST" and path == "/_fake/event":
            self.event(req)
        elif fakelib.JsonHandler.control_request(req, req.command):
            return
        elif req.command == "POST" and path == "/v3/mail/send":
            self.send(req)
        else:
            req.send_json(404, sg_error(404, {"text": "not found"}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key", default="SG.fake-key")
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    app = SendGrid(args.api_key, fakelib.State(keep_bodies=not args.ids_only))
    server = fakeasync.Server(app, args.port)
    fakelib.announce(server.address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
