#!/usr/bin/python3
"""A fake Mailgun-style messages API that records messages and fails on demand.

  fake_mailgun.py [--port 0] [--domain mg.example.com] [--api-key KEY]
                  [--signing-key KEY] [--ids-only]

  POST /v3/{domain}/messages   (form: from, to, subject, text and/or html, h:..., v:...,
                                o:...; HTTP Basic auth api:KEY) -> 200 {"id", "message"}

Errors like the real API: 401 "Forbidden" (plain text) for a bad key, 404 for another
domain, 400 {"message"} for a missing from/to/subject/body or a 'to' that is not an
address. Failure rules (fakelib.py) apply at stage "send" (match: the 'to' field):
statuses (429 with "retry_after", 5xx), "timeout", "disconnect", "malformed".

  POST /_fake/event {"url", "event-data": {...}, "signature": "bad"?, "timestamp": N?}
       posts {"signature": {"timestamp", "token", "signature"}, "event-data"} as JSON to
       url, signed as Mailgun signs webhooks (hex HMAC-SHA256 of timestamp + token with
       the signing key); answers {"status": <url's status>}.

Each received message: {delivery_id (v:delivery_id), to, from, subject, id}.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, unquote, urlparse

import fakeasync
import fakelib

ADDRESS = re.compile(r"^(?:[^<>]*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")


def mg_error(status, rule):
    return {"message": rule.get("text", "fake failure %d" % status)}


class Mailgun:
    def __init__(self, domain, api_key, signing_key, state):
        self.domain, self.api_key, self.signing_key = domain, api_key, signing_key
        self.state = state

    def authorized(self, req):
        want = base64.b64encode(("api:%s" % self.api_key).encode()).decode()
        return req.headers.get("Authorization", "") == "Basic " + want

    def send(self, req, domain):
        if not self.authorized(req):
            self.state.count("unauthorized")
            req.send_raw(401, b"Forbidden")
            return
        if domain != self.domain:
            req.send_json(404, {"message": "Domain not found: %s" % domain})
            return
        form = {k: v[0] for k, v in parse_qs(req.body(), keep_blank_values=True).items()}
        rule = self.state.take_rule("send", form.get("to", "")) if self.state.rules else None
        if rule:
            fakelib.JsonHandler.apply_rule(req, rule, mg_error)
            return
        for field in ("from", "to", "subject"):
            if not form.get(field):
                req.send_json(400, {"message": "'%s' parameter is missing" % field})
                return
        if not (form.get("text") or form.get("html")):
            req.send_json(400, {"message": "Need at least one of 'text' or 'html' parameters "
                                           "specified"})
            return
        if not ADDRESS.match(form["to"]):
            self.state.count("rejected")
            req.send_json(400, {"message": "to parameter is not a valid address. please check "
                                           "documentation"})
            return
        self.state.pause()
        mid = "<%s.%s@%s>" % (time.strftime("%Y%m%d%H%M%S"), secrets.token_hex(6), self.domain)
        self.state.record({"delivery_id": form.get("v:delivery_id"), "to": form["to"],
                           "from": form["from"], "subject": form["subject"],
                           "headers": {k[2:]: v for k, v in form.items() if k.startswith("h:")},
                           "id": mid})
        req.send_json(200, {"id": mid, "message": "Queued. Thank you."})

    def event(self, req):
        spec = json.loads(req.body() or "{}")
        ts = str(spec.get("timestamp", int(time.time())))
        token = secrets.token_hex(25)
        sig = hmac.new(self.signing_key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
        if spec.get("signature") == "bad":
            sig = "0" * 64
        body = json.dumps({"signature": {"timestamp": ts, "token": token, "signature": sig},
                           "event-data": spec.get("event-data", {})}).encode()
        post = urllib.request.Request(spec["url"], data=body,
                                      headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(post, timeout=10) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
        req.send_json(200, {"status": status})

    def needs_thread(self, req):
        return req.path.startswith("/_fake/event") or bool(self.state.rules) \
            or self.state.delay_ms > 0

    def handle(self, req):
        path = urlparse(req.path).path
        m = re.match(r"^/v3/([^/]+)/messages$", path)
        if req.command == "POST" and path == "/_fake/event":
            self.event(req)
        elif fakelib.JsonHandler.control_request(req, req.command):
            return
        elif req.command == "POST" and m:
            self.send(req, unquote(m.group(1)))
        else:
            req.send_json(404, {"message": "not found"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--domain", default="mg.example.com")
    p.add_argument("--api-key", default="key-fake")
    p.add_argument("--signing-key", default="fake-signing-key")
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    app = Mailgun(args.domain, args.api_key, args.signing_key,
                  fakelib.State(keep_bodies=not args.ids_only))
    server = fakeasync.Server(app, args.port)
    fakelib.announce(server.address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
