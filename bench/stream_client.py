#!/usr/bin/env python3
"""stream_client.py - the notification-stream load client of bench/stream.sh (asyncio, stdlib).

  hold     open one stream per token of --tokens (lines "user_id token"), report when all are
           open, keep them open (reading and counting) until --seconds pass or stdin closes.
           Notifications titled "lat <wall-clock ms>" (bench/stream_post.lua sends them) are
           timed: arrival minus that stamp, reported as p50/p99/max with how many arrived.
Output: one "RESULT key=value ..." line on stdout; progress on stderr.
"""
import argparse
import asyncio
import json
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
        self.latencies = []  # ms from a probe's send to its arrival
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
                                self.latencies.append(time.time() * 1000 - int(title[4:]))
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


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hold"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--seconds", type=float, default=30)
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
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    await asyncio.wait([stdin_closed], timeout=a.seconds)
    lat = s.latencies
    print(f"RESULT opened={s.opened} failed={s.failed} events={s.events} heartbeats={s.heartbeats}"
          f" probes={len(lat)} p50={pct(lat, .5):.1f} p99={pct(lat, .99):.1f}"
          f" max={max(lat, default=float('nan')):.1f}", flush=True)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    asyncio.run(main())
