#!/usr/bin/python3
"""A fake M-Pesa Daraja API (STK push, status query, reversals) behaving like the sandbox.

  fake_mpesa.py [--port 0] [--port-file F] [--consumer-key K --consumer-secret S]
                [--shortcode 174379 --passkey P] [--token-ttl 3599] [--delay-ms 300] [--quiet]

  GET  /oauth/v1/generate?grant_type=client_credentials  (Basic key:secret)
       -> {"access_token", "expires_in": "<seconds as text>"}
  POST /mpesa/stkpush/v1/processrequest   (Bearer) -> {"MerchantRequestID",
       "CheckoutRequestID", "ResponseCode": "0", ...}; the Password must be
       base64(shortcode + passkey + Timestamp), PhoneNumber 2547XXXXXXXX / 2541XXXXXXXX.
       The payer "answers" delay-ms later (per number: POST /_fake/outcome); then the query
       reports the ResultCode and the callback is POSTed to CallBackURL (loopback only).
  POST /mpesa/stkpushquery/v1/query       -> 500 errorCode 500.001.1001 "The transaction is
       being processed" until the payer answered, then {"ResultCode": "<code>", ...}; an
       unknown CheckoutRequestID is 400 errorCode 400.002.02.
  POST /mpesa/reversal/v1/request         -> {"ConversationID", "ResponseCode": "0", ...};
       the result is POSTed to ResultURL delay-ms later (a second reversal of the same
       TransactionID fails with ResultCode R000001).

Errors as Daraja sends them: {"requestId", "errorCode", "errorMessage"}; a bad or expired
token is 401 errorCode 404.001.04. Failure rules (fakelib.py) apply at stages "token",
"stkpush", "query" and "reversal" (match: the phone number or CheckoutRequestID).

Control (besides fakelib's /_fake/messages, /_fake/stats, /_fake/fail, /_fake/delay):
  POST /_fake/outcome {"phone", "result_code": 0|1|1032|1037|2001, "delay_ms"?,
                       "callback": true|false}    how that number's next pushes end
  POST /_fake/callback {"checkout_id", "result_code"?, "amount"?, "receipt"?, "url"?}
       (re)sends the callback of a push, as it is or forged; answers {"status", "body"}
  GET  /_fake/transactions                   every push and reversal with its state
"""

import argparse
import base64
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import fakelib

RESULTS = {0: "The service request is processed successfully.",
           1: "The balance is insufficient for the transaction.",
           1032: "Request cancelled by user",
           1037: "DS timeout user cannot be reached",
           2001: "The initiator information is invalid."}


def daraja_error(status, rule):
    return {"requestId": secrets.token_hex(8),
            "errorCode": rule.get("error_code", "%d.001.1001" % status),
            "errorMessage": rule.get("text", "fake failure")}


def loopback(url):
    host = urlparse(url or "").hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def post_json(url, doc):
    """POSTs doc to url; returns (status, body text)."""
    req = urllib.request.Request(url, data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


class Handler(fakelib.JsonHandler):
    opts = None
    tokens = {}      # token -> expiry (monotonic)
    pushes = {}      # CheckoutRequestID -> transaction
    reversals = {}   # ConversationID -> reversal
    outcomes = {}    # phone -> {"result_code", "delay_ms", "callback"}
    reversed = set()
    lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    def error(self, status, code, message):
        self.send_json(status, {"requestId": secrets.token_hex(8), "errorCode": code,
                                "errorMessage": message})

    def bearer_ok(self):
        auth = self.headers.get("Authorization", "")
        with self.lock:
            expiry = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        return expiry is not None and expiry > time.monotonic()

    def token(self, query):
        self.state.count("token")
        rule = self.state.take_rule("token")
        if rule:
            self.apply_rule(rule, daraja_error)
            return
        want = "Basic " + base64.b64encode(("%s:%s" % (self.opts.consumer_key,
                                                      self.opts.consumer_secret)).encode()).decode()
        if query.get("grant_type", [""])[0] != "client_credentials":
            self.error(400, "400.008.02", "Invalid grant type passed")
        elif self.headers.get("Authorization", "") != want:
            self.error(400, "400.008.01", "Invalid Authentication passed")
        else:
            tok = secrets.token_urlsafe(24)
            with self.lock:
                self.tokens[tok] = time.monotonic() + self.opts.token_ttl
            self.send_json(200, {"access_token": tok, "expires_in": str(self.opts.token_ttl)})

    def password_ok(self, doc):
        ts = str(doc.get("Timestamp", ""))
        want = base64.b64encode((self.opts.shortcode + self.opts.passkey + ts).encode()).decode()
        return (re.fullmatch(r"20[0-9]{12}", ts) is not None and doc.get("Password") == want
                and str(doc.get("BusinessShortCode")) == self.opts.shortcode)

    # ------------------------------------------------------------------ STK push
    def stkpush(self, doc):
        self.state.count("stkpush")
        phone = str(doc.get("PhoneNumber", ""))
        rule = self.state.take_rule("stkpush", phone)
        if rule:
            self.apply_rule(rule, daraja_error)
            return
        amount = doc.get("Amount")
        if not self.password_ok(doc):
            self.error(400, "400.002.02", "Bad Request - Invalid Password or Timestamp")
        elif not re.fullmatch(r"254[71][0-9]{8}", phone) or doc.get("PartyA") != phone:
            self.error(400, "400.002.02", "Bad Request - Invalid PhoneNumber")
        elif not isinstance(amount, int) or amount < 1 or amount > 250000:
            self.error(400, "400.002.02", "Bad Request - Invalid Amount")
        elif not str(doc.get("CallBackURL", "")).startswith("http"):
            self.error(400, "400.002.02", "Bad Request - Invalid CallBackURL")
        elif len(str(doc.get("AccountReference", ""))) > 12:
            self.error(400, "400.002.02", "Bad Request - Invalid AccountReference")
        else:
            self.state.pause()
            self.accept_push(doc, phone, amount)

    def accept_push(self, doc, phone, amount):
        checkout = "ws_CO_%s" % secrets.token_hex(10)
        merchant = "%d-%d-1" % (secrets.randbelow(90000) + 10000, secrets.randbelow(9999999))
        with self.lock:
            plan = dict(self.outcomes.get(phone, {}))
        tx = {"checkout_id": checkout, "merchant_id": merchant, "phone": phone,
              "amount": amount, "callback_url": doc["CallBackURL"],
              "reference": doc.get("AccountReference"), "state": "pending",
              "result_code": int(plan.get("result_code", 0)),
              "callback": plan.get("callback", True), "receipt": None,
              "delivery_id": None}
        with self.lock:
            self.pushes[checkout] = tx
        self.state.record(dict(tx, kind="stkpush"))
        delay = plan.get("delay_ms", self.opts.delay_ms) / 1000.0
        threading.Timer(delay, self.answer, args=(checkout,)).start()
        self.send_json(200, {"MerchantRequestID": merchant, "CheckoutRequestID": checkout,
                             "ResponseCode": "0", "ResponseDescription":
                             "Success. Request accepted for processing", "CustomerMessage":
                             "Success. Request accepted for processing"})

    @classmethod
    def callback_body(cls, tx, result_code=None, amount=None, receipt=None):
        code = tx["result_code"] if result_code is None else result_code
        cb = {"MerchantRequestID": tx["merchant_id"], "CheckoutRequestID": tx["checkout_id"],
              "ResultCode": code, "ResultDesc": RESULTS.get(code, "Failed")}
        if code == 0:
            cb["CallbackMetadata"] = {"Item": [
                {"Name": "Amount", "Value": tx["amount"] if amount is None else amount},
                {"Name": "MpesaReceiptNumber", "Value": receipt or tx["receipt"]},
                {"Name": "TransactionDate", "Value": int(time.strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(tx["phone"])}]}
        return {"Body": {"stkCallback": cb}}

    def answer(self, checkout):
        """The payer answers: the push's outcome becomes final, the callback goes out."""
        with self.lock:
            tx = self.pushes[checkout]
            tx["state"] = "done"
            if tx["result_code"] == 0:
                tx["receipt"] = "S" + secrets.token_hex(5).upper()[:9]
        self.state.count("answered")
        if tx["callback"] and loopback(tx["callback_url"]):
            status, _ = post_json(tx["callback_url"], self.callback_body(tx))
            self.state.count("callbacks")
            self.state.count("callback_status_%d" % status)

    def query(self, doc):
        self.state.count("query")
        checkout = str(doc.get("CheckoutRequestID", ""))
        rule = self.state.take_rule("query", checkout)
        if rule:
            self.apply_rule(rule, daraja_error)
            return
        with self.lock:
            tx = dict(self.pushes.get(checkout) or {})
        if not self.password_ok(doc):
            self.error(400, "400.002.02", "Bad Request - Invalid Password or Timestamp")
        elif not tx:
            self.error(400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
        elif tx["state"] == "pending":
            self.error(500, "500.001.1001", "The transaction is being processed")
        else:
            code = tx["result_code"]
            self.send_json(200, {"ResponseCode": "0", "ResponseDescription":
                                 "The service request has been accepted successsfully",
                                 "MerchantRequestID": tx["merchant_id"],
                                 "CheckoutRequestID": checkout, "ResultCode": str(code),
                                 "ResultDesc": RESULTS.get(code, "Failed")})

    # ------------------------------------------------------------------ reversals
    def reversal(self, doc):
        self.state.count("reversal")
        trans = str(doc.get("TransactionID", ""))
        rule = self.state.take_rule("reversal", trans)
        if rule:
            self.apply_rule(rule, daraja_error)
            return
        if doc.get("CommandID") != "TransactionReversal" or not doc.get("Initiator") or \
                not doc.get("SecurityCredential"):
            self.error(400, "400.002.02", "Bad Request - Invalid Initiator or CommandID")
            return
        if not str(doc.get("ResultURL", "")).startswith("http") or \
                not isinstance(doc.get("Amount"), int):
            self.error(400, "400.002.02", "Bad Request - Invalid ResultURL or Amount")
            return
        conv = "AG_%s" % secrets.token_hex(10)
        rev = {"conversation_id": conv, "originator_id": secrets.token_hex(6),
               "transaction_id": trans, "amount": doc["Amount"], "url": doc["ResultURL"],
               "state": "pending", "delivery_id": None}
        with self.lock:
            self.reversals[conv] = rev
        self.state.record(dict(rev, kind="reversal"))
        threading.Timer(self.opts.delay_ms / 1000.0, self.reversal_result, args=(conv,)).start()
        self.send_json(200, {"OriginatorConversationID": rev["originator_id"],
                             "ConversationID": conv, "ResponseCode": "0",
                             "ResponseDescription": "Accept the service request successfully."})

    def reversal_result(self, conv):
        with self.lock:
            rev = self.reversals[conv]
            known = any(t["receipt"] == rev["transaction_id"] for t in self.pushes.values())
            twice = rev["transaction_id"] in self.reversed
            code = 0 if known and not twice else ("R000001" if twice else 2001)
            if code == 0:
                self.reversed.add(rev["transaction_id"])
            rev["state"] = "done"
        doc = {"Result": {"ResultType": 0, "ResultCode": 0 if code == 0 else 1,
                          "ResultDesc": "The service request is processed successfully."
                          if code == 0 else ("The transaction has already been reversed"
                                             if twice else "Invalid TransactionID"),
                          "OriginatorConversationID": rev["originator_id"],
                          "ConversationID": conv, "TransactionID":
                          "R" + secrets.token_hex(5).upper()[:9]}}
        if loopback(rev["url"]):
            post_json(rev["url"], doc)
            self.state.count("reversal_results")

    # ------------------------------------------------------------------ control
    def fake_control(self, path, doc):
        if path == "/_fake/outcome":
            with self.lock:
                self.outcomes[str(doc.get("phone", ""))] = doc
            self.send_json(200, {"ok": True})
            return True
        if path == "/_fake/callback":
            with self.lock:
                tx = dict(self.pushes.get(doc.get("checkout_id"), {}))
            if not tx:
                self.send_json(404, {"error": "no such push"})
                return True
            body = self.callback_body(tx, doc.get("result_code"), doc.get("amount"),
                                      doc.get("receipt"))
            status, text = post_json(doc.get("url") or tx["callback_url"], body)
            self.send_json(200, {"status": status, "body": text})
            return True
        return False

    def do_GET(self):
        if self.control_request("GET"):
            return
        url = urlparse(self.path)
        if url.path == "/_fake/transactions":
            with self.lock:
                self.send_json(200, {"pushes": list(self.pushes.values()),
                                     "reversals": list(self.reversals.values())})
        elif url.path == "/oauth/v1/generate":
            self.token(parse_qs(url.query))
        else:
            self.error(404, "404.001.01", "Resource not found")

    def do_POST(self):
        path = urlparse(self.path).path
        if path in ("/_fake/outcome", "/_fake/callback"):
            self.fake_control(path, json.loads(self.body() or "{}"))
            return
        if self.control_request("POST"):
            return
        routes = {"/mpesa/stkpush/v1/processrequest": self.stkpush,
                  "/mpesa/stkpushquery/v1/query": self.query,
                  "/mpesa/reversal/v1/request": self.reversal}
        raw = self.body()
        if path not in routes:
            self.error(404, "404.001.01", "Resource not found")
        elif not self.bearer_ok():
            self.error(401, "404.001.04", "Invalid Access Token")
        else:
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                self.error(400, "400.002.02", "Bad Request - Invalid JSON")
            else:
                routes[path](doc)

    def do_DELETE(self):
        if not self.control_request("DELETE"):
            self.error(404, "404.001.01", "Resource not found")


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    p = argparse.ArgumentParser(description="A fake M-Pesa Daraja API for Herald's tests.")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--consumer-key", default="herald-key")
    p.add_argument("--consumer-secret", default="herald-secret")
    p.add_argument("--shortcode", default="174379")
    p.add_argument("--passkey", default="herald-passkey")
    p.add_argument("--token-ttl", type=int, default=3599)
    p.add_argument("--delay-ms", type=int, default=300, help="how long the payer takes")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit once the process that started this one is gone")
    args = p.parse_args()
    if args.exit_with_parent:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    Handler.opts = args
    Handler.state = fakelib.State()
    server = fakelib.serve_http(Handler, args.port)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.port_file + ".tmp", args.port_file)
    fakelib.announce(port)
    fakelib.serve_forever(server)


if __name__ == "__main__":
    main()
