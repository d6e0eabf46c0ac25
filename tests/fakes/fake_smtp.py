#!/usr/bin/python3
"""A fake SMTP server (asyncio) that records messages and fails on demand.

  fake_smtp.py [--port 0] [--control-port 0] [--auth USER:PASS] [--tls-cert C --tls-key K]
               [--implicit-tls] [--delay-ms N] [--ids-only]

ESMTP with PIPELINING, 8BITMIME, SIZE, AUTH PLAIN/LOGIN (with --auth: required before
MAIL), STARTTLS (with --tls-cert; --implicit-tls: TLS from the first byte, smtps).
Control over HTTP on the control port (see fakelib.py); rule stages: "connect",
"ehlo", "mail", "rcpt" (match: the recipient), "data" (after the final dot; match: a
recipient). Rule modes: "status" with "code"/"text" (an SMTP reply), "timeout",
"malformed", "disconnect".

Each received message: {mail_from, rcpt, data, delivery_id (X-Herald-Delivery-Id),
message_id, tls, auth, size}.
"""

import argparse
import asyncio
import base64
import email.parser
import ssl
import threading

import fakelib


class Session:
    def __init__(self, fake, reader, writer, tls):
        self.fake = fake
        self.reader = reader
        self.writer = writer
        self.tls = tls
        self.auth = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpt = []

    async def reply(self, line):
        self.writer.write((line + "\r\n").encode())
        await self.writer.drain()

    async def readline(self):
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("client closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    async def fail(self, rule):
        """Applies a failure rule; False when the connection is gone."""
        mode = rule.get("mode", "status")
        if mode == "timeout":
            await asyncio.sleep(float(rule.get("delay_s", 30)))
            return False
        if mode == "disconnect":
            return False
        if mode == "malformed":
            await self.reply("this is not an SMTP reply")
            return True
        code = int(rule.get("code", rule.get("status", 451)))
        await self.reply("%d %s" % (code, rule.get("text", "fake failure")))
        return True

    async def ehlo(self, arg, extended):
        if not extended:
            await self.reply("250 fake-smtp")
            return
        lines = ["fake-smtp greets " + arg, "PIPELINING", "8BITMIME", "SIZE 52428800"]
        if self.fake.auth and (self.tls or not self.fake.tls_ctx):
            lines.append("AUTH PLAIN LOGIN")
        if self.fake.tls_ctx and not self.tls:
            lines.append("STARTTLS")
        for line in lines[:-1]:
            self.writer.write(("250-" + line + "\r\n").encode())
        await self.reply("250 " + lines[-1])

    async def starttls(self):
        await self.reply("220 2.0.0 ready to start TLS")
        await self.writer.start_tls(self.fake.tls_ctx)
        self.tls = True
        self.reset()

    async def authenticate(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        if mech == "PLAIN":
            blob = parts[1] if len(parts) > 1 else None
            if blob is None:
                await self.reply("334 ")
                blob = await self.readline()
            fields = base64.b64decode(blob).split(b"\0")
            user, password = fields[-2].decode(), fields[-1].decode()
        elif mech == "LOGIN":
            if len(parts) > 1:  # initial response (SASL-IR) carries the user name
                user = base64.b64decode(parts[1]).decode()
            else:
                await self.reply("334 VXNlcm5hbWU6")
                user = base64.b64decode(await self.readline()).decode()
            await self.reply("334 UGFzc3dvcmQ6")
            password = base64.b64decode(await self.readline()).decode()
        else:
            await self.reply("504 5.5.4 unrecognized authentication type")
            return
        if self.fake.auth == (user, password):
            self.auth = user
            self.fake.state.count("auth_ok")
            await self.reply("235 2.7.0 authentication successful")
        else:
            self.fake.state.count("auth_failed")
            await self.reply("535 5.7.8 authentication credentials invalid")

    async def data(self):
        rule = self.fake.state.take_rule("data_start", " ".join(self.rcpt))
        if rule and not await self.fail(rule):
            return False
        if rule:
            return True
        await self.reply("354 end data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise ConnectionError("client closed in DATA")
            line = raw.decode("utf-8", "replace")
            if line in (".\r\n", ".\n"):
                break
            lines.append(line[1:] if line.startswith(".") else line)
        text = "".join(lines)
        rule = self.fake.state.take_rule("data", " ".join(self.rcpt))
        if rule:
            self.reset()
            return await self.fail(rule)
        await self.deliver(text)
        return True

    async def deliver(self, text):
        headers = email.parser.Parser().parsestr(text, headersonly=True)
        delay = self.fake.delay_s + self.fake.state.delay_ms / 1000.0
        if delay > 0:
            await asyncio.sleep(delay)
        n = self.fake.state.record({
            "mail_from": self.mail_from, "rcpt": self.rcpt, "data": text,
            "delivery_id": headers.get("X-Herald-Delivery-Id"),
            "message_id": headers.get("Message-ID"), "tls": self.tls, "auth": self.auth,
            "size": len(text)})
        self.reset()
        await self.reply("250 2.0.0 Ok: queued as FAKE%06d" % n)

    async def command(self, line):
        """One command; False ends the session."""
        verb, _, arg = line.partition(" ")
        verb = verb.upper()
        if verb in ("EHLO", "HELO"):
            rule = self.fake.state.take_rule("ehlo")
            if rule:
                return await self.fail(rule)
            await self.ehlo(arg, verb == "EHLO")
        elif verb == "STARTTLS" and self.fake.tls_ctx and not self.tls:
            await self.starttls()
        elif verb == "AUTH" and self.fake.auth:
            await self.authenticate(arg)
        elif verb == "MAIL":
            if self.fake.auth and not self.auth:
                await self.reply("530 5.7.0 authentication required")
                return True
            rule = self.fake.state.take_rule("mail", arg)
            if rule:
                return await self.fail(rule)
            self.mail_from = (arg[5:] if arg.upper().startswith("FROM:") else arg).split()[0]
            await self.reply("250 2.1.0 Ok")
        elif verb == "RCPT":
            to = arg[3:].strip() if arg.upper().startswith("TO:") else arg
            rule = self.fake.state.take_rule("rcpt", to)
            if rule:
                return await self.fail(rule)
            self.rcpt.append(to.strip("<>"))
            await self.reply("250 2.1.5 Ok")
        elif verb == "DATA":
            if not self.rcpt:
                await self.reply("503 5.5.1 need RCPT first")
                return True
            return await self.data()
        elif verb == "RSET":
            self.reset()
            await self.reply("250 2.0.0 Ok")
        elif verb == "NOOP":
            await self.reply("250 2.0.0 Ok")
        elif verb == "QUIT":
            await self.reply("221 2.0.0 Bye")
            return False
        else:
            await self.reply("502 5.5.2 command not recognized")
        return True

    async def run(self):
        self.fake.state.count("connections")
        rule = self.fake.state.take_rule("connect")
        if rule:
            await self.fail(rule)  # a refused greeting ends the session either way
            return
        await self.reply("220 fake-smtp ESMTP ready")
        while await self.command(await self.readline()):
            pass


class FakeSmtp:
    def __init__(self, args):
        self.state = fakelib.State(keep_bodies=not args.ids_only)
        self.auth = tuple(args.auth.split(":", 1)) if args.auth else None
        self.delay_s = args.delay_ms / 1000.0
        self.tls_ctx = None
        if args.tls_cert:
            self.tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_ctx.load_cert_chain(args.tls_cert, args.tls_key)
        self.implicit = args.implicit_tls

    async def client(self, reader, writer):
        session = Session(self, reader, writer, self.implicit)
        try:
            await session.run()
        except (ConnectionError, ssl.SSLError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except (ConnectionError, OSError):
                pass


def control_thread(state, port):
    handler = type("Control", (fakelib.JsonHandler,), {"state": state})

    def do_get(self):
        if not self.control_request("GET"):
            self.send_json(404, {"error": "not found"})

    def do_post(self):
        if not self.control_request("POST"):
            self.send_json(404, {"error": "not found"})

    def do_delete(self):
        if not self.control_request("DELETE"):
            self.send_json(404, {"error": "not found"})

    handler.do_GET, handler.do_POST, handler.do_DELETE = do_get, do_post, do_delete
    server = fakelib.serve_http(handler, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--auth")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--ids-only", action="store_true")
    args = p.parse_args()
    fake = FakeSmtp(args)
    ssl_ctx = fake.tls_ctx if fake.implicit else None
    server = await asyncio.start_server(fake.client, "127.0.0.1", args.port, ssl=ssl_ctx,
                                        backlog=512)
    control = control_thread(fake.state, args.control_port)
    fakelib.announce(server.sockets[0].getsockname()[1], control)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
