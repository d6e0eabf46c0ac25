"""Shared parts of Herald's fake providers (run with Debian's /usr/bin/python3).

Every fake records what it received and can be told to fail. Tests drive it over
HTTP under /_fake/:

  GET    /_fake/messages[?since=N][&ids=1]  what was received (ids=1: delivery ids only)
  DELETE /_fake/messages                    forget it
  GET    /_fake/stats                       counters
  POST   /_fake/fail   {rule}               add a failure rule (see Rules)
  DELETE /_fake/fail                        remove every rule
  POST   /_fake/delay  {"ms": N}            answer every request N ms late

Rules: {"stage": where it applies (fake-specific, e.g. "rcpt", "send"),
        "match": substring of the recipient it applies to (default: any),
        "count": how many times (default 1, -1: until removed),
        "mode":  "status" (HTTP status / SMTP reply code), "timeout" (say nothing for
                 "delay_s" seconds, then hang up), "malformed" (a reply that is not
                 the protocol), "disconnect" (hang up at once),
        "status"/"code": the status or reply code, "retry_after": seconds (HTTP),
        "error_code": provider error name (FCM), "text": reply text}

A fake prints one line "READY <port> [<control port>]" on stdout once it listens.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class State:
    """Messages, counters and failure rules, shared by the fake's threads."""

    def __init__(self, keep_bodies=True):
        self.lock = threading.Lock()
        self.messages = []
        self.rules = []
        self.counters = {}
        self.delay_ms = 0
        self.keep_bodies = keep_bodies

    def count(self, name, n=1):
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def record(self, message):
        with self.lock:
            if not self.keep_bodies:
                message = {"delivery_id": message.get("delivery_id")}
            self.messages.append(message)
            self.counters["messages"] = self.counters.get("messages", 0) + 1
            return len(self.messages)

    def take_rule(self, stage, target=""):
        """The first rule for stage whose match is in target (its count used up)."""
        with self.lock:
            for rule in self.rules:
                if rule.get("stage", stage) != stage:
                    continue
                if rule.get("match") and rule["match"] not in (target or ""):
                    continue
                count = rule.get("count", 1)
                if count > 0:
                    rule["count"] = count - 1
                    if rule["count"] == 0:
                        self.rules.remove(rule)
                self.counters["failures"] = self.counters.get("failures", 0) + 1
                return dict(rule)
        return None

    def pause(self):
        if self.delay_ms > 0:
            time.sleep(self.delay_ms / 1000.0)

    def control(self, method, path, query, body):
        """Handles /_fake/...; returns (status, document)."""
        if path == "/_fake/messages" and method == "GET":
            since = int(query.get("since", ["0"])[0])
            with self.lock:
                items = self.messages[since:]
                if query.get("ids", ["0"])[0] == "1":
                    items = [m.get("delivery_id") for m in items]
                return 200, {"total": len(self.messages), "messages": list(items)}
        if path == "/_fake/messages" and method == "DELETE":
            with self.lock:
                self.messages = []
                self.counters = {}
            return 200, {"ok": True}
        if path == "/_fake/stats" and method == "GET":
            with self.lock:
                stats = dict(self.counters)
                stats["rules"] = len(self.rules)
            return 200, stats
        if path == "/_fake/fail" and method == "POST":
            rule = json.loads(body or "{}")
            with self.lock:
                self.rules.append(rule)
            return 200, {"ok": True, "rules": len(self.rules)}
        if path == "/_fake/fail" and method == "DELETE":
            with self.lock:
                self.rules = []
            return 200, {"ok": True}
        if path == "/_fake/delay" and method == "POST":
            self.delay_ms = int(json.loads(body or "{}").get("ms", 0))
            return 200, {"ok": True}
        return 404, {"error": "no such control endpoint"}


class JsonHandler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 handler with JSON helpers and /_fake/ routing."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls
    state = None  # set by the fake

    def log_message(self, fmt, *args):  # quiet
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8") if length else ""

    def send_json(self, status, doc, headers=None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_raw(self, status, data, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def hang_up(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)
        except OSError:
            pass

    def control_request(self, method):
        """Serves /_fake/ paths; True when it did."""
        url = urlparse(self.path)
        if not url.path.startswith("/_fake/"):
            return False
        body = self.body() if method in ("POST", "PUT") else ""
        status, doc = self.state.control(method, url.path, parse_qs(url.query), body)
        self.send_json(status, doc)
        return True

    def apply_rule(self, rule, error_doc):
        """Answers with a failure rule; error_doc(status, rule) builds the body."""
        mode = rule.get("mode", "status")
        if mode == "timeout":
            time.sleep(float(rule.get("delay_s", 30)))
            self.hang_up()
        elif mode == "disconnect":
            self.hang_up()
        elif mode == "malformed":
            self.send_raw(int(rule.get("status", 200)), b"<html>this is not json",
                          "application/json")
        else:
            status = int(rule.get("status", 500))
            headers = {}
            if "retry_after" in rule:
                headers["Retry-After"] = str(rule["retry_after"])
            self.send_json(status, error_doc(status, rule), headers)


def serve_http(handler, port):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def announce(*ports):
    print("READY " + " ".join(str(p) for p in ports), flush=True)


def serve_forever(server):
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    sys.exit(0)
