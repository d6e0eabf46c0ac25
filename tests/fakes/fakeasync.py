"""An asyncio HTTP/1.1 server for fakes that must keep up with a benchmark.

fakelib.serve_http (a thread per connection under the GIL) tops out near a thousand
requests a second; this one parses and answers on one event loop, with keep-alive,
and runs only the slow requests (a handler that sleeps, waits on a failure rule or
calls a subprocess) on a thread pool. Requests of one connection are answered in
order. Handlers see a Request with the parts of BaseHTTPRequestHandler they use
(command, path, headers.get, body(), send_json, send_raw, hang_up, state), so
fakelib.JsonHandler.apply_rule and control_request work on it unchanged.

  app.handle(req)          answers req (runs on the loop or on a pool thread)
  app.needs_thread(req)    True when handle may block

The pool has 256 threads, so up to 256 slow requests (a /_fake/delay) are answered at
once, as a provider answers many clients' requests at once. The stat "max_in_flight"
(GET /_fake/stats) is the most requests the fake was answering at the same time since
its last reset: what a client kept in flight.
"""

import asyncio
import concurrent.futures
import json
from http import HTTPStatus

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024


class Headers(dict):
    """Request headers; get() is case-insensitive like http.client's."""

    def get(self, key, default=None):
        return dict.get(self, key.lower(), default)


class Request:
    """One request and the response a handler builds for it."""

    def __init__(self, method, path, version, headers, body, server_address, state):
        self.command, self.path, self.request_version = method, path, version
        self.headers, self.raw_body = headers, body
        self.server_address = server_address
        self.state = state
        self.out = []
        self.close_connection = (version == "HTTP/1.0"
                                 or headers.get("connection", "").lower() == "close")
        self.hung_up = False

    def body(self):
        return self.raw_body.decode("utf-8")

    def send_raw(self, status, data, content_type="text/plain", headers=None):
        head = ["HTTP/1.1 %d %s" % (status, _REASONS.get(status, "Status")),
                "Content-Type: " + content_type, "Content-Length: %d" % len(data)]
        head += ["%s: %s" % kv for kv in (headers or {}).items()]
        if self.close_connection:
            head.append("Connection: close")
        self.out.append(("\r\n".join(head) + "\r\n\r\n").encode() + data)

    def send_json(self, status, doc, headers=None):
        self.send_raw(status, json.dumps(doc).encode(), "application/json", headers)

    def hang_up(self):
        self.hung_up = True


class _Connection(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.buf = bytearray()
        self.busy = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        if not self.busy:
            self.serve()

    def connection_lost(self, exc):
        self.transport = None

    def parse(self):
        """The next complete request in buf (removed from it), None when incomplete;
        False when the bytes are not HTTP (the connection is closed)."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None if len(self.buf) < _MAX_HEAD else False
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return False
        headers = Headers()
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return False
            headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            return False
        if length < 0 or length > _MAX_BODY:
            return False
        if len(self.buf) < end + 4 + length:
            return None
        body = bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        return Request(parts[0], parts[1], parts[2], headers, body,
                       self.server.address, self.server.app.state)

    def serve(self):
        """Answers the complete requests in buf, in order."""
        while self.transport is not None:
            req = self.parse()
            if req is False:
                self.transport.close()
                return
            if req is None:
                return
            if self.server.app.needs_thread(req):
                self.busy = True
                fut = self.server.loop.run_in_executor(self.server.pool, self.server.run, req)
                fut.add_done_callback(lambda _f, r=req: self.finished(r))
                return
            self.server.run(req)
            if not self.respond(req):
                return

    def finished(self, req):
        self.busy = False
        if self.respond(req):
            self.serve()

    def respond(self, req):
        """Writes req's response; False when the connection is over."""
        if self.transport is None:
            return False
        if req.out:
            self.transport.write(b"".join(req.out))
        if req.hung_up or req.close_connection or not req.out:
            self.transport.close()
            self.transport = None
            return False
        return True


class Server:
    def __init__(self, app, port, host="127.0.0.1", threads=256):
        self.app = app
        self.active = 0  # requests being answered now (on the loop or a pool thread)
        self.loop = asyncio.new_event_loop()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        self.aserver = self.loop.run_until_complete(
            self.loop.create_server(lambda: _Connection(self), host, port, backlog=1024))
        sock = self.aserver.sockets[0]
        self.address = sock.getsockname()[:2]
        self.server_address = self.address

    def run(self, req):
        state = self.app.state
        with state.lock:
            self.active += 1
            if self.active > state.counters.get("max_in_flight", 0):
                state.counters["max_in_flight"] = self.active
        try:
            self.app.handle(req)
        except Exception as e:  # a broken request must not kill the fake
            req.out = []
            req.send_json(500, {"error": {"code": 500, "message": "fake error: %r" % (e,),
                                          "status": "INTERNAL"}})
        finally:
            with state.lock:
                self.active -= 1

    def serve_forever(self):
        try:
            self.loop.run_forever()
        except KeyboardInterrupt:
            pass
