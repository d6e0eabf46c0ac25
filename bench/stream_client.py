#!/usr/bin/env python3
"""stream_client.py - the notification-stream load client of bench/stream.sh (asyncio, stdlib).

  hold     open one stream per token of --tokens (lines "user_id token"), report when all are
           open, keep them open (reading and counting) until --seconds pass or stdin closes
  latency  the same streams, plus POST /api/v1/notifications at --rate per second for --seconds
           to random users of --tokens (as --admin); each notification's title carries its
           number, and the time from the POST's send (and from its 202 answer) to the event on
           the user's stream is recorded. Prints p50/p99/max and how many events arrived.
Output: one "RESULT key=value ..." line on stdout; progress on stderr.
"""
import argparse
import asyncio
import json
import random
import resource
import sys
import time


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Streams:
    def __init__(self, host, port, tokens):
        self.host, self.port, self.tokens = host, port, tokens
        self.opened = 0
        self.failed = 0
        self.events = 0
        self.heartbeats = 0
        self.arrivals = {}  # notification number -> arrival time
        self.ready = asyncio.Event()

    async def one(self, user, token, sem):
        await sem.acquire()
        held = True
        try:
            r, w = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
            w.write(f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise RuntimeError(head.split(b"\r\n")[0].decode())
        except Exception as e:  # noqa: BLE001 - counted and reported
            self.failed += 1
            if self.failed <= 3:
                log(f"stream for {user} failed: {e}")
            sem.release()
            self.check_ready()
            return
        event = None
        try:
            while True:
                size = int((await r.readuntil(b"\r\n")).strip(), 16)  # chunked framing
                if size == 0:
                    break
                chunk = await r.readexactly(size + 2)
                now = time.monotonic()
                for line in chunk[:-2].split(b"\n"):
                    if line.startswith(b"event: "):
                        event = line[7:]
                    elif line.startswith(b": hb"):
                        self.heartbeats += 1
                    elif line.startswith(b"data: ") and event is not None:
                        self.events += 1
                        if held and event == b"unread_count":
                            held = False
                            sem.release()
                            self.opened += 1
                            self.check_ready()
                        elif event == b"notification.created":
                            title = json.loads(line[6:]).get("title") or ""
                            if title.startswith("lat "):
                                self.arrivals[int(title[4:])] = now
                        event = None
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        if held:
            sem.release()

    def check_ready(self):
        if self.opened + self.failed >= len(self.tokens):
            self.ready.set()

    async def open_all(self, concurrency=200):
        sem = asyncio.Semaphore(concurrency)  # connections opening at once
        return [asyncio.create_task(self.one(u, t, sem)) for u, t in self.tokens]


async def poster(host, port, admin, users, rate, seconds, sent, answered, conns=32):
    queue = asyncio.Queue()

    async def worker():
        r, w = await asyncio.open_connection(host, port)
        while True:
            item = await queue.get()
            if item is None:
                break
            n, user = item
            body = json.dumps({"user_id": user, "category": "bench", "title": f"lat {n}",
                               "body": "latency probe", "channels": ["in_app"]}).encode()
            sent[n] = time.monotonic()
            w.write(b"POST /api/v1/notifications HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                    b"Authorization: Bearer " + admin.encode() + b"\r\nContent-Length: " +
                    str(len(body)).encode() + b"\r\n\r\n" + body)
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await r.readexactly(length)
            if b" 202 " in head.split(b"\r\n")[0]:
                answered[n] = time.monotonic()
        w.close()

    workers = [asyncio.create_task(worker()) for _ in range(conns)]
    start = time.monotonic()
    total = int(rate * seconds)
    for n in range(total):
        due = start + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((n, random.choice(users)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return time.monotonic() - start, total


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hold", "latency"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--admin")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tokens = [line.split() for line in open(a.tokens) if line.strip()]
    s = Streams("127.0.0.1", a.port, tokens)
    t0 = time.monotonic()
    tasks = await s.open_all()
    await s.ready.wait()
    log(f"{s.opened} streams open, {s.failed} failed, in {time.monotonic() - t0:.1f} s")
    print(f"OPEN opened={s.opened} failed={s.failed} seconds={time.monotonic() - t0:.1f}", flush=True)
    if a.mode == "hold":
        loop = asyncio.get_running_loop()
        stdin_closed = loop.run_in_executor(None, sys.stdin.read)
        await asyncio.wait([stdin_closed], timeout=a.seconds)
        print(f"RESULT opened={s.opened} failed={s.failed} events={s.events} heartbeats={s.heartbeats}",
              flush=True)
    else:
        sent, answered = {}, {}
        took, total = await poster("127.0.0.1", a.port, a.admin, [u for u, _ in tokens], a.rate,
                                   a.seconds, sent, answered)
        await asyncio.sleep(2)  # the last events
        lat_send = [(s.arrivals[n] - sent[n]) * 1000 for n in s.arrivals if n in sent]
        lat_ans = [(s.arrivals[n] - answered[n]) * 1000 for n in s.arrivals if n in answered]
        print(f"RESULT sent={total} answered={len(answered)} rate={total / took:.0f}/s"
              f" arrived={len(s.arrivals)} still_open={s.opened}"
              f" send_p50={pct(lat_send, .5):.1f} send_p99={pct(lat_send, .99):.1f}"
              f" send_max={max(lat_send, default=float('nan')):.1f}"
              f" commit_p50={pct(lat_ans, .5):.1f} commit_p99={pct(lat_ans, .99):.1f}"
              f" commit_max={max(lat_ans, default=float('nan')):.1f}", flush=True)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    asyncio.run(main())
