#!/usr/bin/python3
"""A fake Twilio-compatible SMS API that records messages and fails on demand.

  fake_sms.py [--port 0] [--account-sid AC...] [--auth-token TOKEN]

  POST /2010-04-01/Accounts/{sid}/Messages.json   (form: To, From | MessagingServiceSid,
       Body, StatusCallback; HTTP Basic auth sid:token) -> 201 message resource
  GET  /2010-04-01/Accounts/{sid}/Messages/{msid}.json

Errors like the real API: 401 code 20003 (bad credentials), 404 (another account),
400 code 21211 (To not E.164), 21602 (no Body), 21603 (no From). Failure rules (see
fakelib.py) apply at stage "send" (match: the To number).

  POST /_fake/callback {"sid": "SM...", "status": "delivered", "error_code": "30003"?}
       sends the status callback of that message to its StatusCallback URL, signed with
       X-Twilio-Signature exactly as Twilio does (HMAC-SHA1 of the URL followed by every
       POST parameter name and value sorted by name, base64), and answers
       {"status": <the callback's HTTP status>}. "signature": "bad" sends a wrong one.
  POST /_fake/inbound {"url": ..., "from": "+1...", "body": "STOP", "signature": "bad"?}
       posts an inbound message (From, To, Body, MessageSid, AccountSid...) to url, signed
       the same way, and answers {"status": <its status>, "body": <its answer>}.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import fakelib

GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
          "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = set("\f^{}\\[~]|€")
MESSAGES = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
ONE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")


def segments(body):
    """Segments as Twilio counts them (independent of Herald's C code)."""
    if all(c in GSM or c in GSM_EXT for c in body):
        septets = sum(2 if c in GSM_EXT else 1 for c in body)
        return 1 if septets <= 160 else -(-septets // 153), "GSM-7"
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67), "UCS-2"


def signature(token, url, params):
    data = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_error(status, rule):
    return {"code": int(rule.get("error_code", 20429 if status == 429 else 20500)),
            "message": rule.get("text", "fake failure"), "more_info": "", "status": status}


class Handler(fakelib.JsonHandler):
    sid = None
    token = None
    by_sid = {}

    def authorized(self):
        want = base64.b64encode(("%s:%s" % (self.sid, self.token)).encode()).decode()
        return self.headers.get("Authorization", "") == "Basic " + want

    def error(self, status, code, message):
        self.send_json(status, {"code": code, "message": message, "more_info": "",
                                "status": status})

    def create(self, params):
        to = params.get("To", "")
        rule = self.state.take_rule("send", to)
        if rule:
            self.apply_rule(rule, twilio_error)
            return
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", to):
            self.error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        elif not params.get("Body"):
            self.error(400, 21602, "Message body is required.")
        elif not (params.get("From") or params.get("MessagingServiceSid")):
            self.error(400, 21603, "A 'From' phone number is required.")
        else:
            self.accept(params)

    def accept(self, params):
        self.state.pause()
        msid = "SM" + secrets.token_hex(16)
        n, encoding = segments(params["Body"])
        doc = {"sid": msid, "account_sid": self.sid, "to": params["To"],
               "from": params.get("From"), "messaging_service_sid":
               params.get("MessagingServiceSid"), "body": params["Body"], "status": "queued",
               "num_segments": str(n), "encoding": encoding, "api_version": "2010-04-01",
               "status_callback": params.get("StatusCallback"), "delivery_id": None}
        self.by_sid[msid] = doc
        self.state.record(doc)
        self.send_json(201, doc)

    def do_POST(self):
        if self.path.startswith("/_fake/callback"):
            self.callback(json.loads(self.body() or "{}"))
            return
        if self.path.startswith("/_fake/inbound"):
            self.inbound(json.loads(self.body() or "{}"))
            return
        if self.control_request("POST"):
            return
        m = MESSAGES.match(urlparse(self.path).path)
        raw = self.body()
        if not m:
            self.error(404, 20404, "The requested resource was not found")
        elif not self.authorized():
            self.error(401, 20003, "Authenticate")
        elif m.group(1) != self.sid:
            self.error(404, 20404, "The requested resource was not found")
        else:
            self.create({k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()})

    def do_GET(self):
        if self.control_request("GET"):
            return
        m = ONE.match(urlparse(self.path).path)
        if m and self.authorized() and m.group(2) in self.by_sid:
            self.send_json(200, self.by_sid[m.group(2)])
        else:
            self.error(404, 20404, "The requested resource was not found")

    def do_DELETE(self):
        if not self.control_request("DELETE"):
            self.error(404, 20404, "The requested resource was not found")

    def callback(self, req):
        doc = self.by_sid.get(req.get("sid"))
        if not doc or not doc.get("status_callback"):
            self.send_json(404, {"error": "no such message or no StatusCallback"})
            return
        params = {"MessageSid": doc["sid"], "SmsSid": doc["sid"], "AccountSid": self.sid,
                  "MessageStatus": req.get("status", "delivered"),
                  "SmsStatus": req.get("status", "delivered"), "To": doc["to"],
                  "From": doc.get("from") or "", "ApiVersion": "2010-04-01"}
        if req.get("error_code"):
            params["ErrorCode"] = str(req["error_code"])
        sig = signature(self.token, doc["status_callback"], params)
        if req.get("signature") == "bad":
            sig = base64.b64encode(b"x" * 20).decode()
        post = urllib.request.Request(doc["status_callback"], data=urlencode(params).encode(),
                                      headers={"X-Twilio-Signature": sig, "Content-Type":
                                               "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(post, timeout=10) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
        self.send_json(200, {"status": status})


    def inbound(self, req):
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": self.sid,
                  "From": req.get("from", ""), "To": "+15005550006",
                  "Body": req.get("body", ""), "NumMedia": "0", "ApiVersion": "2010-04-01"}
        sig = signature(self.token, req["url"], params)
        if req.get("signature") == "bad":
            sig = base64.b64encode(b"x" * 20).decode()
        post = urllib.request.Request(req["url"], data=urlencode(params).encode(),
                                      headers={"X-Twilio-Signature": sig, "Content-Type":
                                               "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(post, timeout=10) as resp:
                status, body = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        self.send_json(200, {"status": status, "body": body})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--account-sid", default="ACfake00000000000000000000000000")
    p.add_argument("--auth-token", default="fake-auth-token")
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    Handler.state = fakelib.State(keep_bodies=not args.ids_only)
    Handler.sid, Handler.token = args.account_sid, args.auth_token
    server = fakelib.serve_http(Handler, args.port)
    fakelib.announce(server.server_address[1])
    fakelib.serve_forever(server)


if __name__ == "__main__":
    main()
