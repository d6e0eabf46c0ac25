#!/usr/bin/python3
"""A fake Vonage-style SMS API that records messages and fails on demand.

  fake_vonage.py [--port 0] [--api-key KEY] [--api-secret SECRET]
                 [--signature-secret SECRET] [--ids-only]

  POST /sms/json   (form: api_key, api_secret, from, to (digits, no +), text, type,
                    client-ref, callback, status-report-req) -> 200 {"message-count",
                    "messages": [{"status": "0", "message-id", "to", "client-ref", ...}]}

Like the real API, errors come back as HTTP 200 with a non-zero status and an
"error-text": 4 Bad Credentials, 2 Missing params (from, to, text), 3 Invalid params
('to' not 7-15 digits), 1 Throttled (a failure rule {"mode": "vonage", "code": "1"}).
Failure rules (fakelib.py) apply at stage "send" (match: the 'to' digits): HTTP statuses
(429 with "retry_after", 5xx), "timeout", "disconnect", "malformed", or mode "vonage"
(a 200 answer with status "code").

  POST /_fake/callback {"message_id", "status": "delivered", "err_code": "0"?, "signature": "bad"?}
       posts the delivery receipt of that message to its callback URL as a form, signed
       the way Vonage signs callbacks (sig = hex HMAC-SHA256 of "&name=value" for every
       parameter sorted by name, '&' and '=' in values replaced by '_', with the
       signature secret), with timestamp and nonce; answers {"status": <callback's status>}.
  POST /_fake/inbound {"url", "from", "text", "signature": "bad"?}
       posts an inbound message (msisdn, to, messageId, text, type, keyword, ...), signed
       the same way; answers {"status", "body"}.
"""

import argparse
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import fakeasync
import fakelib


def vonage_sig(secret, params):
    data = "".join("&%s=%s" % (k, params[k].replace("&", "_").replace("=", "_"))
                   for k in sorted(params))
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest().upper()


def http_error(status, rule):
    return {"type": "about:blank", "title": rule.get("text", "fake failure %d" % status)}


def post_form(url, params):
    req = urllib.request.Request(url, data=urlencode(params).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Vonage:
    def __init__(self, key, secret, sig_secret, state):
        self.key, self.secret, self.sig_secret = key, secret, sig_secret
        self.state = state
        self.by_id = {}

    def answer(self, req, status, text=None, doc=None):
        msg = {"status": status}
        if text:
            msg["error-text"] = text
        msg.update(doc or {})
        req.send_json(200, {"message-count": "1", "messages": [msg]})

    def send(self, req):
        form = {k: v[0] for k, v in parse_qs(req.body(), keep_blank_values=True).items()}
        rule = self.state.take_rule("send", form.get("to", "")) if self.state.rules else None
        if rule and rule.get("mode") == "vonage":
            self.answer(req, str(rule.get("code", "1")), rule.get("text", "Throttled"))
        elif rule:
            fakelib.JsonHandler.apply_rule(req, rule, http_error)
        elif form.get("api_key") != self.key or form.get("api_secret") != self.secret:
            self.state.count("unauthorized")
            self.answer(req, "4", "Bad Credentials")
        elif not form.get("from") or not form.get("to") or not form.get("text"):
            self.answer(req, "2", "Missing from, to or text param")
        elif not re.fullmatch(r"[1-9][0-9]{6,14}", form["to"]):
            self.state.count("rejected")
            self.answer(req, "3", "Invalid to param")
        else:
            self.state.pause()
            mid = secrets.token_hex(9).upper()
            doc = {"message-id": mid, "to": form["to"], "client-ref": form.get("client-ref"),
                   "remaining-balance": "10.00", "message-price": "0.03", "network": "23410"}
            self.by_id[mid] = {"to": form["to"], "from": form["from"],
                               "callback": form.get("callback"),
                               "client_ref": form.get("client-ref")}
            self.state.record({"delivery_id": form.get("client-ref"), "to": form["to"],
                               "from": form["from"], "text": form["text"],
                               "type": form.get("type"), "message_id": mid})
            self.answer(req, "0", None, doc)

    def sign(self, params, bad):
        params["timestamp"] = str(int(time.time()))
        params["nonce"] = secrets.token_hex(8)
        params["sig"] = "0" * 64 if bad else vonage_sig(self.sig_secret, params)
        return params

    def callback(self, req):
        spec = json.loads(req.body() or "{}")
        m = self.by_id.get(spec.get("message_id"))
        if not m or not m.get("callback"):
            req.send_json(404, {"error": "no such message or no callback"})
            return
        params = {"msisdn": m["to"], "to": m["from"], "network-code": "23410",
                  "messageId": spec["message_id"], "price": "0.03",
                  "status": spec.get("status", "delivered"), "scts": "2601010000",
                  "err-code": str(spec.get("err_code", "0")), "api-key": self.key,
                  "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S")}
        if m.get("client_ref"):
            params["client-ref"] = m["client_ref"]
        status, _ = post_form(m["callback"], self.sign(params, spec.get("signature") == "bad"))
        req.send_json(200, {"status": status})

    def inbound(self, req):
        spec = json.loads(req.body() or "{}")
        text = spec.get("text", "")
        params = {"msisdn": spec.get("from", "").lstrip("+"), "to": "447700900000",
                  "messageId": secrets.token_hex(9).upper(), "text": text, "type": "text",
                  "keyword": (text.split() or [""])[0].upper(), "api-key": self.key,
                  "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S")}
        status, body = post_form(spec["url"], self.sign(params, spec.get("signature") == "bad"))
        req.send_json(200, {"status": status, "body": body})

    def needs_thread(self, req):
        return req.path.startswith("/_fake/callback") or req.path.startswith("/_fake/inbound") \
            or bool(self.state.rules) or self.state.delay_ms > 0

    def handle(self, req):
        path = urlparse(req.path).path
        if req.command == "POST" and path == "/_fake/callback":
            self.callback(req)
        elif req.command == "POST" and path == "/_fake/inbound":
            self.inbound(req)
        elif fakelib.JsonHandler.control_request(req, req.command):
            return
        elif req.command == "POST" and path == "/sms/json":
            self.send(req)
        else:
            req.send_json(404, http_error(404, {"text": "not found"}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key", default="vkey")
    p.add_argument("--api-secret", default="vsecret")
    p.add_argument("--signature-secret", default="vsigsecret")
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    app = Vonage(args.api_key, args.api_secret, args.signature_secret,
                 fakelib.State(keep_bodies=not args.ids_only))
    server = fakeasync.Server(app, args.port)
    fakelib.announce(server.address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
