#!/usr/bin/python3
"""fake_stripe.py - a stateful stand-in for the Stripe API, for tests and `make run`.

Speaks the subset of Stripe Herald uses, with Stripe's conventions: form-encoded
requests (nested keys as metadata[key]), JSON answers, Bearer secret keys, list
pagination (limit, starting_after, created[gte|gt|lte|lt]) and Stripe's
idempotency rules (same key and parameters replay the first answer with
Idempotent-Replayed: true; different parameters -> 400 idempotency_error; the same
key while the first request runs -> 409 idempotency_key_in_use).

Objects: customers, payment intents (requires_payment_method -> requires_confirmation
-> processing -> succeeded, or requires_action, or canceled; a declined card sends
the intent back to requires_payment_method with last_payment_error and answers 402),
refunds, payment methods (attach, detach, list) and events. Test payment methods
behave as in Stripe's test mode: pm_card_visa, pm_card_mastercard, pm_card_amex
succeed; pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds,
pm_card_chargeDeclinedExpiredCard decline; pm_card_authenticationRequired and
pm_card_threeDSecure2Required need authentication (requires_action); and
pm_card_processing (a fake-only token) stays processing until told otherwise.

Control API for tests (JSON in and out, no authentication):
  GET  /_fake/health                       -> {"ok": true}
  POST /_fake/reset                        forget every object, call, injection and event
  GET  /_fake/stats                        {"calls": {"POST /v1/payment_intents": n, ...},
                                            "created": {"payment_intents": n, ...}}
  GET  /_fake/requests?path=/v1/...        the requests received (method, path, params,
                                            idempotency_key, status, replayed)
  POST /_fake/inject {"method", "path", "error", "count", "delay_s", "decline_code"}
       error: card_declined (the charge is declined), rate_limit (429), server_error (500),
       timeout (processed and stored, but answered only after delay_s: the answer is
       "lost" to a client with a shorter timeout), hang (the key is held in flight for
       delay_s before processing), refund_pending (refunds stay pending)
  POST /_fake/payment_intents/{id}/{succeed|fail|process|require_action}
  POST /_fake/refunds/{id}/{succeed|fail}
  POST /_fake/payment_intents/{id}/dispute {"reason", "amount", "inquiry", "due_in_s"}
       opens a dispute on the intent's charge (charge.dispute.created)
  POST /_fake/disputes/{id}/{under_review|won|lost}   (charge.dispute.updated / .closed)
  POST /_fake/subscriptions/{id}/renew {"fail": false}  the period ends: the subscription is
       canceled (cancel_at_period_end) or invoiced and charged (failed: past_due)
  POST /_fake/invoices/{id}/retry {"fail": false}       one more attempt at an open invoice
  POST /_fake/webhooks {"url", "secret", "auto"}   where to send events; auto sends each
                                                   new event as it happens
  GET  /_fake/events?type=&object=          events, oldest first
  POST /_fake/events {"type", "object"}     make an event (not delivered)
  POST /_fake/events/deliver {"ids": [...], "times": 1, "timestamp_offset": 0,
                              "tamper": false, "secret": null, "signature": null}
       sends the events in the given order (times > 1: duplicate deliveries), signed
       with t = now + timestamp_offset; tamper changes the body after signing;
       answers {"deliveries": [{"id", "status", "body"}]}

The objects and their rules live in fake_stripe_objects.py (beside this file); this file is
the HTTP server, the idempotency layer, the control API and the webhook sender.

Run: /usr/bin/python3 tests/fakes/fake_stripe.py --port 12111
     [--webhook-url http://127.0.0.1:8080/api/v1/webhooks/stripe --webhook-secret whsec_...]
     [--port-file FILE] [--secret-key sk_test_...] [--quiet] [--exit-with-parent]
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fake_stripe_billing
from fake_stripe_objects import (API_VERSION, State, StripeError, advance_object, new_id, parse_form,
                                 public, route_of)

# ------------------------------------------------------------------ webhooks

def sign(secret, payload, t):
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def deliver(state, evt_id, opts):
    """Sends one event to the configured URL; returns {"id", "status", "body"}."""
    with state.lock:
        evt = state.objects["event"].get(evt_id)
        url = opts.get("url") or state.webhook["url"]
        secret = opts.get("secret") or state.webhook["secret"] or ""
        payload = json.dumps(public(evt) if evt else {}, separators=(",", ":")).encode()
    if evt is None or not url:
        return {"id": evt_id, "status": 0, "body": "unknown event or no webhook url"}
    t = int(time.time()) + int(opts.get("timestamp_offset", 0))
    header = opts.get("signature") or sign(secret, payload, t)
    if opts.get("tamper"):
        payload = payload.replace(b'"livemode":false', b'"livemode":true ', 1)
    req = urllib.request.Request(url, data=payload, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return {"id": evt_id, "status": resp.status, "body": resp.read().decode()}
    except urllib.error.HTTPError as e:
        return {"id": evt_id, "status": e.code, "body": e.read().decode()}
    except OSError as e:
        return {"id": evt_id, "status": 0, "body": str(e)}


def auto_sender(state, quiet):
    while True:
        evt_id = state.outbox.get()
        result = deliver(state, evt_id, {})
        if not quiet:
            print(f"fake_stripe: webhook {evt_id} -> {result['status']}", file=sys.stderr,
                  flush=True)


# ------------------------------------------------------------------ HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeStripe/1.0"

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("fake_stripe: " + (fmt % args) + "\n")

    # -------------------------------------------------------------- plumbing
    def body_bytes(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        raw = self.body_bytes()
        if url.path.startswith("/_fake/"):
            self.control(method, url, raw)
        else:
            self.api(method, url, raw)

    # -------------------------------------------------------------- the API
    def api(self, method, url, raw):
        state = self.server.state
        text = url.query if method == "GET" else raw.decode("utf-8", "replace")
        fn, match, name = route_of(method, url.path)
        with state.lock:
            state.calls[name] = state.calls.get(name, 0) + 1
        key = self.headers.get("Idempotency-Key")
        log = {"method": method, "path": url.path, "idempotency_key": key, "time": time.time()}
        try:
            self.authenticate()
            params = parse_form(text)
            log["params"] = params
            if fn is None:
                raise StripeError(404, "invalid_request_error",
                                  f"Unrecognized request URL ({method}: {url.path}).")
            inject = state.take_injection(method, url.path)
            status, body, replayed = self.run(fn, params, match, key, inject)
        except StripeError as e:
            status, body, replayed = e.status, {"error": e.error}, False
        log.update(status=status, replayed=replayed)
        with state.lock:
            state.requests.append(log)
        self.send(status, public(body) if status < 300 else body,
                  {"Idempotent-Replayed": "true"} if replayed else None)

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        want = self.server.secret_key
        if not key.startswith("sk_") or (want and key != want):
            raise StripeError(401, "invalid_request_error", "Invalid API Key provided.")

    def run(self, fn, params, match, key, inject):
        """Runs fn under Stripe's idempotency rules; returns (status, body, replayed)."""
        state = self.server.state
        if inject and inject["error"] == "rate_limit":
            raise StripeError(429, "invalid_request_error", "Too many requests.",
                              code="rate_limit")
        if inject and inject["error"] == "server_error":
            raise StripeError(500, "api_error", "An unexpected error occurred.")
        slot = self.claim(key, params) if key and self.command == "POST" else None
        if slot is not None and slot.get("state") == "done":
            return slot["status"], slot["body"], True
        if inject and inject["error"] == "hang":
            time.sleep(float(inject.get("delay_s", 5)))
        params["_inject"] = inject
        try:
            with state.lock:
                status, body = fn(state, params, match)
                body = json.loads(json.dumps(public(body)))
        except StripeError as e:
            status, body = e.status, {"error": e.error}
        if slot is not None:
            with state.lock:
                slot.update(state="done", status=status, body=body)
        if inject and inject["error"] == "timeout":
            time.sleep(float(inject.get("delay_s", 5)))
        return status, body, False

    def claim(self, key, params):
        """The idempotency slot of key: a new in-flight one, or the stored answer."""
        state = self.server.state
        fingerprint = json.dumps([self.command, urllib.parse.urlsplit(self.path).path, params],
                                 sort_keys=True)
        with state.lock:
            slot = state.idem.get(key)
            if slot is None:
                slot = {"state": "in_flight", "fingerprint": fingerprint}
                state.idem[key] = slot
                return slot
        if slot["fingerprint"] != fingerprint:
            raise StripeError(400, "idempotency_error",
                              "Keys for idempotent requests can only be used with the same "
                              "parameters they were first used with.", code="idempotency_key_reused")
        if slot["state"] == "in_flight":
            raise StripeError(409, "idempotency_error",
                              "There is currently another in-progress request using this "
                              "Idempotent Key.", code="idempotency_key_in_use")
        return slot

    # -------------------------------------------------------------- control API
    def control(self, method, url, raw):
        state = self.server.state
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self.send(400, {"error": "body must be JSON"})
            return
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path[len("/_fake"):]
        try:
            status, out = control_route(state, method, path, body, query, self.server)
        except StripeError as e:
            status, out = e.status, {"error": e.error}
        self.send(status, out)


def control_route(state, method, path, body, query, server):
    if path == "/health":
        return 200, {"ok": True}
    if method == "POST" and path == "/reset":
        state.reset()
        return 200, {"ok": True}
    if method == "GET" and path == "/stats":
        with state.lock:
            return 200, {"calls": dict(state.calls), "created": dict(state.created)}
    if method == "GET" and path == "/requests":
        with state.lock:
            items = [r for r in state.requests if r["path"].startswith(query.get("path", ""))]
            return 200, {"data": [{k: v for k, v in r.items()} for r in items]}
    if method == "POST" and path == "/inject":
        inj = {"method": body.get("method", "POST"), "path": body["path"],
               "error": body["error"], "count": int(body.get("count", 1)),
               "delay_s": float(body.get("delay_s", 5)),
               "decline_code": body.get("decline_code")}
        with state.lock:
            state.injections.append(inj)
        return 200, inj
    if method == "POST" and path == "/webhooks":
        with state.lock:
            state.webhook.update({k: body[k] for k in ("url", "secret", "auto") if k in body})
            return 200, dict(state.webhook)
    if path == "/events":
        return events_route(state, method, body, query)
    if method == "POST" and path == "/events/deliver":
        results = []
        for evt_id in body.get("ids", []):
            for _ in range(int(body.get("times", 1))):
                results.append(deliver(state, evt_id, body))
        return 200, {"deliveries": results}
    with state.lock:
        made = fake_stripe_billing.control(state, method, path, body)
    if made is not None:
        return 200, public(made)
    m = re.fullmatch(r"/(payment_intents|refunds)/([^/]+)/([a-z_]+)", path)
    if method == "POST" and m:
        with state.lock:
            return 200, public(advance_object(state, m.group(1), m.group(2), m.group(3), body))
    return 404, {"error": f"no control route {method} {path}"}


def events_route(state, method, body, query):
    with state.lock:
        if method == "POST":
            evt = {"id": body.get("id") or new_id("evt"), "object": "event", "type": body["type"],
                   "api_version": API_VERSION, "created": int(time.time()), "livemode": False,
                   "pending_webhooks": 1, "data": {"object": body.get("object", {})}}
            state.add("event", evt)
            state.events.append(evt["id"])
            return 200, public(evt)
        out = []
        for evt_id in state.events:
            evt = state.objects["event"][evt_id]
            obj = evt["data"]["object"]
            if query.get("type") and evt["type"] != query["type"]:
                continue
            if query.get("object") and obj.get("id") != query["object"]:
                continue
            out.append(public(evt))
        return 200, {"data": out}


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="A fake Stripe API for Herald's tests and make run.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the bound port to this file once listening")
    ap.add_argument("--secret-key", default="", help="accept only this sk_ key (default: any sk_)")
    ap.add_argument("--webhook-url", help="send every event here as it happens")
    ap.add_argument("--webhook-secret", default="", help="whsec_ secret that signs webhooks")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the process that started this one exits")
    args = ap.parse_args()
    if args.exit_with_parent:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

    state = State()
    if args.webhook_url:
        state.webhook = {"url": args.webhook_url, "secret": args.webhook_secret, "auto": True}
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = state
    server.quiet = args.quiet
    server.secret_key = args.secret_key
    threading.Thread(target=auto_sender, args=(state, args.quiet), daemon=True).start()
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"fake_stripe: listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
