#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak test of `wharf serve`: verified and abusive traffic at once against one server for a
while, then checks that nothing leaked and that the server still answers and exits cleanly.

Usage: python3 tests/soak/soak.py --seconds N [--workers W] [--clients C] [--abusers A] [--seed S]

Verified clients check every byte they get back; abusive clients stall, reset, send malformed
or oversized heads, or connect and say nothing. The server's descriptors and memory are read
from /proc every second. Exit status 0 only when every check passed; speed is never judged.
"""

import argparse
import contextlib
import hashlib
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time
from collections import Counter, namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from wharf_server import (  # noqa: E402
    SITE_FILES,
    Response,
    ResponseReader,
    WharfServer,
    exchange,
    fd_count,
    rss_bytes,
)

KIB = 1024
MIB = 1024 * KIB

# Demo endpoints with fixed answers: kind -> (target, body, Content-Type).
FIXED = {
    "plaintext": ("/plaintext", b"Hello, World!", "text/plain"),
    "json": ("/json", b'{"message":"Hello, World!"}', "application/json"),
    "wait": ("/wait?ms=5", b"waited 5 ms", "text/plain"),
    "events": ("/events?count=3&interval_ms=1", b"data: 0\n\ndata: 1\n\ndata: 2\n\n",
               "text/event-stream"),
}
PLAINTEXT = FIXED["plaintext"][1]
# The other demo bodies: byte i is 'a' + (i % 26).
PATTERN = bytes(range(ord("a"), ord("z") + 1)) * (MIB // 26 + 1)
# URL path -> contents of the site files served as themselves (an index.html stands for its
# directory; escape.txt is a symlink out of the site, never followed).
STATIC_FILES = {"/" + name.replace(" ", "%20"): data for name, data in SITE_FILES.items()
                if not name.endswith("index.html")}
SMALL_STATIC = [path for path, data in STATIC_FILES.items() if len(data) < 4 * KIB]

IO_TIMEOUT = 15.0  # generous for a loaded 2-core machine or a sanitizer build
WARMUP_SECONDS = 3.0
SETTLE_SECONDS = 10.0  # at most, for the server to see every connection closed
FD_MARGIN = 2
HEAD_DEADLINE_LIMIT = 25.0  # the server's request-head deadline is 10 s (no flag sets it)
# How far the RSS may end above the highest RSS of the run's first quarter. By then the
# traffic, the same mix throughout, has grown every buffer, arena and cache it needs (the
# largest buffer is a 1 MiB echo body per client), so a server that leaks nothing stays
# within a few MiB of it. A leak of 100 bytes per request (at ~2,500 requests/s) grows by
# ~110 MiB over the last three quarters of a 10-minute run, far past this; a 20 s smoke run
# only shows leaks of ~250 bytes per request or more, which is what the long run is for.
RSS_ALLOWANCE = 8 * MIB

MALFORMED = [  # each must get a 400, then the connection closed
    b"GET /plaintext HTTP/1.1\nHost: x\n\n",
    b"GET /plaintext HTTP/1.1\r\nHost : x\r\n\r\n",
    b"GET /plaintext HTTP/1.1\r\nAccept: */*\r\n\r\n",
    b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
]
OVERSIZED = [  # each must get a 431: more than 100 fields, or a head over 32 KiB
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 40000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"v" * 40000,
]
HALF_HEAD = b"GET /plaintext HTTP/1.1\r\nHost: soak\r\nX-Half: "
# The budget's deadlines, shorter than the defaults so that the abusers of the budget meet them
# within the run; verified clients send and read at full speed and never come near them.
SERVER_ARGS = ["--body-grace", "2000", "--send-grace", "3000",
               "--max-buffered-body-bytes", str(64 * MIB)]
BUDGET_DEADLINE_LIMIT = 20.0  # two body-grace or send-grace windows, with a loaded machine's margin


class Mismatch(AssertionError):
    """An answer that differs from what the server must send."""


def expect(condition, what):
    if not condition:
        raise Mismatch(what)


# One request and what its answer must be: the status, the body (None: any), some header
# values, and check(resp) for anything else.
Exchange = namedtuple("Exchange", "kind request status body headers check",
                      defaults=(None, {}, None))


def verify(resp, ex):
    expect(resp is not None, "connection closed instead of an answer")
    expect(resp.status == ex.status, "status %d, expected %d" % (resp.status, ex.status))
    if ex.body is not None:
        got, want = len(resp.body), len(ex.body)
        expect(resp.body == ex.body, "wrong body: %d bytes, %d expected" % (got, want))
    for name, value in ex.headers.items():
        expect(resp.header(name) == value, "%s %r, expected %r" % (name, resp.header(name), value))
    if ex.check is not None:
        ex.check(resp)


def request(method, target, headers=(), body=b""):
    head = "%s %s HTTP/1.1\r\nHost: soak\r\n" % (method, target)
    return (head + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


def chunked(data, rng):
    """`data` in chunked encoding, cut at random places, ending with the last chunk."""
    out, at = [], 0
    while at < len(data):
        n = min(len(data) - at, rng.randint(1, max(1, len(data) // 3)))
        out.append(b"%x\r\n" % n + data[at : at + n] + b"\r\n")
        at += n
    return b"".join(out) + b"0\r\n\r\n"


def reset(sock):
    """Closes with an RST instead of a FIN (SO_LINGER on, with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Reader(ResponseReader):
    """ResponseReader that also decodes the chunked bodies of /stream and /events."""

    def read_line(self):
        while b"\r\n" not in self.buf:
            expect(self._fill(), "connection closed inside a chunked body")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_chunk_size(self):
        line = self.read_line()  # hex digits only: wharf sends no chunk extensions
        expect(line and not line.strip(b"0123456789abcdefABCDEF"), "chunk-size line %r" % line)
        return int(line, 16)

    def read(self):
        """The next final response, with resp.chunks the chunk sizes of a chunked body; None
        on a clean EOF."""
        while (parsed := self.read_head()) is not None and 100 <= parsed[1] < 200:
            pass
        if parsed is None:
            return None
        resp = Response(*parsed, b"")
        resp.chunks = None
        if resp.status in (204, 304):
            return resp
        if resp.header("Transfer-Encoding", "").lower() == "chunked":
            body, resp.chunks = bytearray(), []
            while (size := self.read_chunk_size()) > 0:
                body += self.read_exact(size)
                expect(self.read_exact(2) == b"\r\n", "chunk data not followed by CRLF")
                resp.chunks.append(size)
            expect(self.read_line() == b"", "trailer fields after the last chunk")
            resp.body = bytes(body)
        else:
            expect(resp.header("Content-Length") is not None, "no framing: %r" % resp)
            resp.body = self.read_exact(int(resp.header("Content-Length")))
        return resp


class Tally:
    """Requests per kind and verification failures (the first few printed), thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.verified = Counter()
        self.abusive = Counter()
        self.failures = 0

    def done(self, kind, abusive=False):
        with self.lock:
            (self.abusive if abusive else self.verified)[kind] += 1

    def fail(self, what):
        with self.lock:
            self.failures += 1
            if self.failures <= 10:
                print("FAILURE: %s" % what, flush=True)


class VerifiedClient:
    """Random verified exchanges, one at a time or pipelined, on a keep-alive connection."""

    def __init__(self, server, tally, rng):
        self.server, self.tally, self.rng = server, tally, rng
        self.sock = self.reader = None
        self.etags = {}  # static path -> the ETag of a 200, for If-None-Match
        self.makers = [self.get_fixed, self.get_fixed, self.post_echo, self.get_static,
                       self.get_bytes, self.get_stream, self.post_upload]
        self.actions, self.weights = (self.single, self.pipeline, self.connection_close), (20, 3, 1)

    def run(self, stop):
        while not stop.is_set():
            self.doing = "?"
            try:
                self.rng.choices(self.actions, self.weights)[0]()
            except Exception as e:  # every surprise in verified traffic is a failure
                self.tally.fail("%s: %s: %s" % (self.doing, type(e).__name__, e))
                self.disconnect()
        self.disconnect()

    def connection(self):
        if self.sock is None:
            self.sock = self.server.connect(timeout=IO_TIMEOUT)
            self.reader = Reader(self.sock, IO_TIMEOUT)
        return self.sock

    def disconnect(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = self.reader = None

    def single(self):
        ex = self.rng.choice(self.makers)(small=False)
        self.doing = ex.kind
        self.connection().sendall(ex.request)
        verify(self.reader.read(), ex)
        self.tally.done(ex.kind)

    def pipeline(self):
        # Small exchanges only: a whole burst and its answers fit in the socket buffers, so
        # sending all of it before reading anything cannot deadlock.
        burst = [self.rng.choice(self.makers)(small=True) for _ in range(self.rng.randint(2, 8))]
        self.connection().sendall(b"".join(ex.request for ex in burst))
        for i, ex in enumerate(burst):
            self.doing = "pipelined %s (%d of %d)" % (ex.kind, i + 1, len(burst))
            verify(self.reader.read(), ex)  # the answers come in the order asked
            self.tally.done("pipelined")

    def connection_close(self):
        self.doing = "connection-close"
        self.connection().sendall(request("GET", "/plaintext", ["Connection: close"]))
        verify(self.reader.read(), Exchange(self.doing, None, 200, PLAINTEXT))
        expect(self.reader.read() is None, "connection left open after Connection: close")
        self.disconnect()
        self.tally.done(self.doing)

    # -- exchanges; `small` ones have short answers, for pipelining ------------------------

    def get_fixed(self, small):
        kind = self.rng.choice(list(FIXED))
        target, body, content_type = FIXED[kind]
        return Exchange(kind, request("GET", target), 200, body, {"Content-Type": content_type})

    def post_echo(self, small):
        size = 2 * KIB if small else self.rng.choice((4 * KIB, MIB))
        body = os.urandom(self.rng.randint(0, size))
        headers = ["Content-Type: application/x-soak", "Content-Length: %d" % len(body)]
        req = request("POST", "/echo", headers, body)
        return Exchange("echo", req, 200, body, {"Content-Type": "application/x-soak"})

    def get_static(self, small):
        path = self.rng.choice(SMALL_STATIC if small else list(STATIC_FILES))
        data = STATIC_FILES[path]
        mode = self.rng.choice(("whole", "range", "conditional"))
        if mode == "conditional" and path in self.etags:
            etag = self.etags[path]
            req = request("GET", path, ["If-None-Match: " + etag])
            return Exchange("static-304", req, 304, b"", {"ETag": etag})
        if mode == "range":
            first = self.rng.randrange(len(data))
            last = self.rng.randrange(first, min(len(data), first + 64 * KIB))
            req = request("GET", path, ["Range: bytes=%d-%d" % (first, last)])
            if first == 0 and last == len(data) - 1:
                return Exchange("static-range", req, 200, data)  # the whole file: a 200
            content_range = "bytes %d-%d/%d" % (first, last, len(data))
            part = data[first : last + 1]
            return Exchange("static-range", req, 206, part, {"Content-Range": content_range})

        def remember_etag(resp):
            expect(resp.header("ETag") is not None, "no ETag")
            self.etags[path] = resp.header("ETag")

        return Exchange("static", request("GET", path), 200, data, check=remember_etag)

    def get_bytes(self, small):
        n = self.rng.randint(0, 16 * KIB if small else MIB)
        return Exchange("bytes", request("GET", "/bytes?n=%d" % n), 200, PATTERN[:n])

    def get_stream(self, small):
        chunks, size = self.rng.randint(1, 8), self.rng.randint(1, 2 * KIB if small else 64 * KIB)
        delay = self.rng.choice((0, 0, 1))
        req = request("GET", "/stream?chunks=%d&size=%d&delay_ms=%d" % (chunks, size, delay))
        return Exchange("stream", req, 200, PATTERN[: chunks * size],  # a chunk per flush:
                        check=lambda r: expect(r.chunks == [size] * chunks, "chunks %s" % r.chunks))

    def post_upload(self, small):
        data = os.urandom(self.rng.randint(0, 2 * KIB if small else 300 * KIB))
        want = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        body = chunked(data, self.rng)
        req = request("POST", "/upload-digest", ["Transfer-Encoding: chunked"], body)
        return Exchange("upload", req, 200,
                        check=lambda r: expect(json.loads(r.body) == want, "answer %r" % r.body))


class AbusiveClient:
    """Misbehaving clients. Connection errors are expected of them; a wrong answer to a
    request that has a right one, or no answer within IO_TIMEOUT, is still a failure."""

    def __init__(self, server, tally, rng):
        self.server, self.tally, self.rng = server, tally, rng
        self.actions = [self.half_head, self.reset_mid_response, self.reset_mid_upload,
                        self.malformed, self.oversized, self.idle,
                        # the budget's abusers (issue 9)
                        self.junk_behind_wait, self.amplified_chunks, self.endless_whitespace,
                        self.trickled_body, self.pinned_upload, self.slow_reader]

    def run(self, stop):
        while not stop.is_set():
            action = self.rng.choice(self.actions)
            try:
                action(stop)
            except Exception as e:
                # Resets and refused connections are the point; silence or a wrong answer is not.
                if not isinstance(e, OSError) or isinstance(e, TimeoutError):
                    self.tally.fail("abusive %s: %s: %s" % (action.__name__, type(e).__name__, e))
            self.tally.done(action.__name__, abusive=True)
            stop.wait(self.rng.uniform(0.01, 0.05))

    def connect(self):
        return self.server.connect(timeout=IO_TIMEOUT)

    def half_head(self, stop):
        with self.connect() as s:
            s.sendall(HALF_HEAD)
            fate = self.rng.choices(("close", "stall", "finish", "outlast"), (3, 3, 3, 1))[0]
            if fate == "outlast":
                return self.outlast(s, stop, Exchange("half-head", None, 408))
            if fate != "close":
                stop.wait(self.rng.uniform(0.1, 2.0))  # well within the 10 s head deadline
            if fate == "finish":
                s.sendall(b"late\r\n\r\n")
                verify(Reader(s, IO_TIMEOUT).read(), Exchange("half-head", None, 200, PLAINTEXT))

    def reset_mid_response(self, stop):
        target = self.rng.choice(("/bytes?n=%d" % (256 * MIB), "/blob.bin", "/wait?ms=200",
                                  "/stream?chunks=1000&size=1000&delay_ms=2",
                                  "/events?count=1000&interval_ms=5"))
        s = self.connect()
        try:
            s.sendall(request("GET", target))
            # Some of the body, or what comes of it within a moment (a /wait sends nothing).
            want, got = self.rng.randint(1, 256 * KIB), 0
            deadline = time.monotonic() + self.rng.uniform(0.01, 0.3)
            with contextlib.suppress(TimeoutError):
                while got < want and (left := deadline - time.monotonic()) > 0:
                    s.settimeout(left)
                    if not (data := s.recv(64 * KIB)):
                        break
                    got += len(data)
        finally:
            reset(s)

    def reset_mid_upload(self, stop):
        s = self.connect()
        try:
            s.sendall(request("POST", "/upload-digest", ["Transfer-Encoding: chunked"]))
            s.sendall(b"10000\r\n" + os.urandom(self.rng.randint(0, 64 * KIB)))
            stop.wait(self.rng.uniform(0, 0.1))
        finally:
            reset(s)

    def malformed(self, stop):
        self.refused(self.rng.choice(MALFORMED), 400)

    def oversized(self, stop):
        self.refused(self.rng.choice(OVERSIZED), 431)

    def refused(self, data, status):
        resp, closed = exchange(self.server.port, data, timeout=IO_TIMEOUT, close_wait=IO_TIMEOUT)
        verify(resp, Exchange("refused", data, status))
        expect(closed, "%r...: connection left open after the %d" % (data[:40], status))

    def idle(self, stop):
        with self.connect() as s:
            if self.rng.random() < 0.1:
                return self.outlast(s, stop, None)
            stop.wait(self.rng.uniform(0.1, 2.0))

    def push(self, s, data, limit, seconds):
        """Sends `data` repeatedly for `seconds` without blocking; returns the bytes taken."""
        s.setblocking(False)
        sent, until = 0, time.monotonic() + seconds
        while sent < limit and time.monotonic() < until:
            try:
                sent += s.send(data)
            except BlockingIOError:
                time.sleep(0.01)
        s.setblocking(True)
        return sent

    def junk_behind_wait(self, stop):
        # The look-ahead behind a pending response is bounded; the junk waits in the kernel.
        with self.connect() as s:
            s.sendall(request("GET", "/wait?ms=500"))
            pushed = self.push(s, b"J" * (64 * KIB), 256 * MIB, 0.4)
            expect(pushed < 64 * MIB, "%s of junk read behind a pending /wait" % mib(pushed))
            reader = Reader(s, IO_TIMEOUT)
            verify(reader.read(), Exchange("wait", None, 200, b"waited 500 ms"))
            resp = reader.read()
            expect(resp is not None and resp.status in (400, 414, 431), "junk answered %r" % resp)

    def amplified_chunks(self, stop):
        # 1-byte chunks with 1000-byte extensions: framing far beyond the payload.
        with self.connect() as s:
            s.sendall(request("POST", "/echo", ["Transfer-Encoding: chunked"]))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                s.sendall((b"1;" + b"e" * 1000 + b"\r\nx\r\n") * 200)
            verify(Reader(s, IO_TIMEOUT).read(), Exchange("amplified", None, 400))

    def endless_whitespace(self, stop):
        with self.connect() as s:
            s.sendall(request("POST", "/echo", ["Transfer-Encoding: chunked"]) + b"1")
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                s.sendall(b" " * (2 * MIB))
            verify(Reader(s, IO_TIMEOUT).read(), Exchange("whitespace", None, 400))

    def trickled_body(self, stop):
        # 50 bytes/s where 1024 are the minimum: a 408 within two windows.
        self.slow_body(stop, 100_000, 0, 10, 0.2)

    def pinned_upload(self, stop):
        # Most of a 4 MiB body, then a byte a second: held for two windows at most (or refused
        # at once with a 503 while the server's body budget is taken by others).
        self.slow_body(stop, 4 * MIB, 4 * MIB - 100, 1, 1.0)

    def slow_body(self, stop, length, burst, step, every):
        """Sends `burst` bytes of a body of `length`, then `step` bytes every `every` s."""
        with self.connect() as s:
            s.sendall(request("POST", "/echo", ["Content-Length: %d" % length]))
            if burst:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    s.sendall(b"p" * burst)
            started = time.monotonic()
            while not select.select([s], [], [], every)[0]:
                if stop.is_set():
                    return
                open_for = time.monotonic() - started
                expect(open_for < BUDGET_DEADLINE_LIMIT, "slow body still read after %.0f s"
                       % open_for)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    s.sendall(b"t" * step)
            resp = Reader(s, IO_TIMEOUT).read()
            expect(resp is not None and resp.status in (408, 503), "slow body answered %r" % resp)

    def slow_reader(self, stop):
        # A download nobody reads: the send-rate deadline resets the connection.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * KIB)
        s.settimeout(IO_TIMEOUT)
        try:
            s.connect((self.server.host, self.server.port))
            s.sendall(request("GET", "/bytes?n=%d" % (1 << 30)))
            started = time.monotonic()
            # Two 3 s send-grace windows: the first may pass on what the client's receive
            # buffer took before it stalled.
            while time.monotonic() - started < 7.0:
                if stop.wait(0.2):
                    return
            got = 0
            with contextlib.suppress(ConnectionResetError):
                while data := s.recv(1 << 20):
                    got += len(data)
                    expect(got < 32 * MIB, "the server kept sending to a reader that stalled")
        finally:
            reset(s)

    def outlast(self, s, stop, answer):
        """Waits for the server's request-head deadline to end the connection, with `answer`
        (a 408) to a half-sent head, silently when nothing was sent. A server that did not
        would hold such connections forever."""
        started = time.monotonic()
        while not select.select([s], [], [], 0.5)[0]:
            if stop.is_set():
                return
            open_for = time.monotonic() - started
            expect(open_for < HEAD_DEADLINE_LIMIT, "still open after %.0f s" % open_for)
        resp = Reader(s, IO_TIMEOUT).read()
        if answer is None:
            expect(resp is None, "%r to a connection that sent nothing" % resp)
        else:
            verify(resp, answer)
        self.tally.done("outlasted", abusive=True)


def run_load(server, args, seconds, tally, seed, every_second):
    """Runs all the clients for `seconds`, calling every_second(elapsed) meanwhile; returns
    how long the load ran."""
    stop = threading.Event()
    rngs = (random.Random("%s-%d" % (seed, i)) for i in range(args.clients + args.abusers))
    clients = [VerifiedClient(server, tally, next(rngs)) for _ in range(args.clients)]
    clients += [AbusiveClient(server, tally, next(rngs)) for _ in range(args.abusers)]
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds and server.alive():
        every_second(elapsed)
        time.sleep(min(1.0, seconds - elapsed))
    stop.set()
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + IO_TIMEOUT + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        tally.fail("client threads still busy %.0f s after the load ended" % (IO_TIMEOUT + 5))
    return elapsed


# -- the server process, through /proc ---------------------------------------------------


def settled_fds(pid):
    """The fd count once it has kept still for a second (or after SETTLE_SECONDS)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last, since = fd_count(pid), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < 1.0:
        time.sleep(0.1)
        if (now := fd_count(pid)) != last:
            last, since = now, time.monotonic()
    return last


def sanitized(binary):
    """True for an ASan build, whose quarantine of freed memory makes RSS grow by design
    (LeakSanitizer looks for leaks when it exits instead)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def mib(n):
    return "%.1f MiB" % (n / MIB)


def soak(server, args):
    """The warm-up, the baseline, the run and the checks; True when every check passed."""
    pid = server.proc.pid
    print("soak: %g s, %d workers, %d verified + %d abusive clients, seed %s"
          % (args.seconds, args.workers, args.clients, args.abusers, args.seed), flush=True)
    # The warm-up grows what a steady server keeps (buffers, arenas, the file cache), so that
    # the baseline is what the end must come back to.
    warmup = Tally()
    run_load(server, args, WARMUP_SECONDS, warmup, args.seed + "-warmup", lambda _: None)
    base_fds, base_rss = settled_fds(pid), rss_bytes(pid)
    print("baseline after the warm-up: %d fds, RSS %s" % (base_fds, mib(base_rss)), flush=True)

    tally = Tally()
    samples = []  # (seconds into the run, fds, RSS)
    next_report = 10.0

    def every_second(elapsed):
        nonlocal next_report
        with contextlib.suppress(OSError):  # the server is gone: the checks say so
            samples.append((elapsed, fd_count(pid), rss_bytes(pid)))
        if samples and elapsed >= next_report:
            next_report += 10.0
            with tally.lock:
                kinds = " ".join("%s=%d" % kv for kv in sorted(tally.verified.items()))
                abusive, failures = sum(tally.abusive.values()), tally.failures
            print("[%4.0fs] %s | abusive=%d failures=%d fds=%d RSS=%s"
                  % (elapsed, kinds, abusive, failures, samples[-1][1], mib(samples[-1][2])),
                  flush=True)

    elapsed = run_load(server, args, args.seconds, tally, args.seed, every_second)

    failures = tally.failures + warmup.failures
    checks = [(failures == 0, "%d verification failures (warm-up included)" % failures)]
    checks.append((server.alive(), "server alive after the load"))
    if server.alive():
        end_fds = settled_fds(pid)
        checks.append((end_fds <= base_fds + FD_MARGIN, "fds: %d at the baseline, %d at the end"
                       % (base_fds, end_fds)))
        checks.append(check_rss(server, base_rss, samples, args.seconds))
        checks.append(check_answers(server))
    try:
        server.stop()
        checks.append((True, "server exited 0 on SIGTERM"))
    except AssertionError as e:
        checks.append((False, str(e)))

    total = sum(tally.verified.values())
    print("\nverified requests: %d in %.1f s (%.0f/s)" % (total, elapsed, total / elapsed))
    for kind, n in sorted(tally.verified.items()):
        print("  %-17s %8d %8.1f/s" % (kind, n, n / elapsed))
    print("abusive clients: %s" % " ".join("%s=%d" % kv for kv in sorted(tally.abusive.items())))
    for passed, what in checks:
        print("%s  %s" % ("ok  " if passed else "FAIL", what))
    passed = all(passed for passed, _ in checks)
    print("soak: %s" % ("PASS" if passed else "FAIL"), flush=True)
    return passed


def check_rss(server, base_rss, samples, seconds):
    end = rss_bytes(server.proc.pid)
    early = max((rss for t, _, rss in samples if t <= seconds / 4), default=base_rss)
    highest = max((rss for _, _, rss in samples), default=base_rss)
    what = "RSS: %s at the baseline, %s at most in the first quarter, %s at most, %s at the end" % (
        mib(base_rss), mib(early), mib(highest), mib(end))
    if sanitized(server.command()[0]):
        return True, what + " (not judged: a sanitizer build)"
    return end <= early + RSS_ALLOWANCE, what + " (limit %s)" % mib(early + RSS_ALLOWANCE)


def check_answers(server):
    try:
        with server.connect(timeout=IO_TIMEOUT) as s:
            s.sendall(request("GET", "/plaintext"))
            verify(Reader(s, IO_TIMEOUT).read(), Exchange("plaintext", None, 200, PLAINTEXT))
        return True, "server still answers /plaintext"
    except Exception as e:
        return False, "server does not answer /plaintext: %s: %s" % (type(e).__name__, e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long (default 600)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="verified clients (default 4)")
    parser.add_argument("--abusers", type=int, default=3, help="abusive clients (default 3)")
    parser.add_argument("--seed", default=str(random.randrange(1 << 32)), help="to replay choices")
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    server = WharfServer(SERVER_ARGS, workers=args.workers)
    server.start()
    try:
        passed = soak(server, args)
    finally:
        server.cleanup()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
