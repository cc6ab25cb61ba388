# SPDX-License-Identifier: MIT
"""The same behaviour over every protocol wharf speaks: HTTP/1.1 in plaintext and over TLS,
HTTP/2 as h2c (prior knowledge, RFC 9113 §3.3) and as h2 over TLS (ALPN, RFC 9113 §3.2).

One behaviour suite (Behaviours) runs once per transport: H1Test, H1TlsTest, H2cTest,
H2TlsTest, so a failure's name says which protocol broke. Each class starts one server with
a plaintext and a TLS listener. The tests talk through one small client interface,

    transport.fetch(method, path, headers=(), body=b"") -> Reply(status, headers, body, trailers)

whose four implementations are an HTTP/1.1 client over a raw socket (it parses chunked bodies
and their trailer sections itself, which http.client drops) and h2_client.H2Client. Field
names in a Reply are lower case whatever the protocol.

The suite manages its own listeners, so it is not run again with WHARF_TEST_TLS=1
(tests/CMakeLists.txt leaves it out of the py.tls.* set). Timing is only ever checked as a
lower bound (a wait cannot end early, give or take the timers' millisecond clock); nothing
here asserts that something is fast.
"""

import collections
import concurrent.futures
import hashlib
import json
import random
import socket
import time
import unittest

from h2_client import DATA, END_STREAM, HEADERS, SETTINGS_INITIAL_WINDOW_SIZE, H2Client, H2Timeout
from tls_certs import certs
from wharf_server import SITE_FILES, ResponseReader, WharfServer, open_connection

KIB = 1024
MIB = 1024 * KIB

BLOB = SITE_FILES["blob.bin"]

# The demo bodies' pattern (tools/wharf/pattern.hpp): byte i is 'a' + (i % 26).
ALPHABET = bytes(range(ord("a"), ord("z") + 1))
PATTERN = ALPHABET * ((1 << 20) // 26 + 2)  # any slice of up to 1 MiB at any phase


def pattern(n, at=0):
    """n bytes of the demo pattern, starting at body offset `at`."""
    return (ALPHABET * (n // 26 + 2))[at % 26 : at % 26 + n]


def pattern_pieces(total, sizes):
    """`total` pattern bytes cut into pieces whose sizes cycle through `sizes`."""
    pieces, at, i = [], 0, 0
    while at < total:
        n = min(sizes[i % len(sizes)], total - at)
        pieces.append(PATTERN[at % 26 : at % 26 + n])
        at += n
        i += 1
    return pieces


RANGES_DEMO = pattern(100_000)
RANGES_DEMO_ETAG = '"ranges-demo-1"'
RANGES_DEMO_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"  # 1,700,000,000 (tools/wharf/demo.cpp)
LONG_AGO = "Sun, 06 Nov 1994 08:49:37 GMT"

TRAILERS_BODY = b"the trailers follow this body\n"

# How much earlier than asked a server timer may fire: the event loop's clock counts whole
# milliseconds and is read once per iteration (src/loop/event_loop.cpp), so a timer armed
# late in a millisecond, or late in a busy iteration, is due that much early: on a loaded
# 2-core box an iteration with several TLS handshakes in it took 3 ms, so allow 50.
TIMER_SLACK = 0.05


# -- the uniform client --------------------------------------------------------------------


class Reply(collections.namedtuple("Reply", "status headers body trailers")):
    """One response: unpacks as (status, [(name, value)], body bytes, [(name, value)]), names
    in lower case. Also:

    - pieces: how the body arrived, in DATA frames with data (h2) or chunks (h1 chunked);
      None for an h1 body framed by Content-Length
    - rest: h1 only, the bytes that came after the response before the server closed (the
      client always sends Connection: close); must be empty
    - informational: the 1xx statuses that came first
    - frames: h2 only, (type, flags, length) of every frame received on the stream
    - elapsed: seconds from sending the request to the end of the response
    """

    pieces = None
    informational = ()
    rest = b""
    frames = ()
    elapsed = 0.0

    def header(self, name, default=None):
        for k, v in self.headers:
            if k == name:
                return v
        return default


def _lower(fields):
    return [(k.lower(), v) for k, v in fields]


def _is_pieces(body):
    return not isinstance(body, (bytes, bytearray, memoryview))


class H1Reader(ResponseReader):
    """ResponseReader plus chunked bodies with their trailer sections (RFC 9112 §7.1). A slow
    reader takes at most 4 KiB at a time and pauses after each read."""

    def __init__(self, sock, timeout, slow=False):
        super().__init__(sock, timeout)
        self.slow = slow

    def _fill(self):
        if not self.slow:
            return super()._fill()
        self.sock.settimeout(self.timeout)
        data = self.sock.recv(4096)
        time.sleep(0.0005)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise AssertionError("connection closed inside a line: %r" % self.buf[-200:])
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_chunked(self):
        """(body, [chunk sizes], [(name, value)] trailer fields)."""
        body, sizes = bytearray(), []
        while True:
            line = self.read_line()
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise AssertionError("malformed chunk-size line %r" % line)
            size = int(size_text, 16)
            if size == 0:
                break
            body += self.read_exact(size)
            end = self.read_exact(2)
            if end != b"\r\n":
                raise AssertionError("chunk data not followed by CRLF: %r" % end)
            sizes.append(size)
        trailers = []
        while True:
            line = self.read_line()
            if not line:
                return bytes(body), sizes, trailers
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise AssertionError("malformed trailer line %r" % line)
            trailers.append((name.lower(), value.strip()))

    def read_until_close(self):
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data


class H1Transport:
    """HTTP/1.1 over a raw socket (TLS with ALPN http/1.1 when `tls`), one connection per
    request, each with Connection: close so that nothing may follow the response."""

    def __init__(self, server, tls):
        self.server = server
        self.tls = tls
        self.port = server.tls_port if tls else server.port

    def close(self):
        pass

    def _connect(self, timeout, slow=False):
        # A small receive buffer makes a slow reader's window small at once.
        opts = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)] if slow else ()
        return open_connection(self.port, "127.0.0.1", timeout, tls=self.tls, sockopts=opts)

    @staticmethod
    def _head(method, path, headers, body, trailers, expect_continue):
        """The request head, and whether the body goes chunked."""
        fields = list(headers)
        names = {k.lower() for k, _ in fields}
        chunked = False
        if _is_pieces(body) or trailers:
            chunked = "content-length" not in names or bool(trailers)
            if chunked:
                fields.append(("Transfer-Encoding", "chunked"))
        elif (body or method in ("POST", "PUT")) and "content-length" not in names:
            fields.append(("Content-Length", str(len(body))))
        if expect_continue:
            fields.append(("Expect", "100-continue"))
        head = "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % (method, path)
        head += "".join("%s: %s\r\n" % f for f in fields) + "\r\n"
        return head.encode("latin-1"), chunked

    @staticmethod
    def _send_body(sock, body, chunked, trailers, pause):
        for piece in [body] if not _is_pieces(body) else body:
            if piece:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if pause:
                time.sleep(pause)
        if chunked:
            sock.sendall(b"0\r\n" + "".join("%s: %s\r\n" % f for f in trailers).encode()
                         + b"\r\n")

    def _receive(self, reader, method, start, informational):
        while True:
            parsed = reader.read_head()
            if parsed is None:
                raise AssertionError("connection closed before a response")
            version, status, reason, fields = parsed
            if not 100 <= status < 200:
                break
            informational.append(status)
        if version != "HTTP/1.1":
            raise AssertionError("status line %r %r %r" % (version, status, reason))
        fields = _lower(fields)
        length = dict(fields).get("content-length")
        te = dict(fields).get("transfer-encoding")
        pieces, trailers, body = None, [], b""
        if method == "HEAD" or status in (204, 304):
            pass
        elif te is not None:
            if te.lower() != "chunked" or length is not None:
                raise AssertionError("unexpected framing: %r" % fields)
            body, sizes, trailers = reader.read_chunked()
            pieces = len(sizes)
        elif length is not None:
            body = reader.read_exact(int(length))
        else:
            body = reader.read_until_close()  # close-delimited (never from a 1.1 server)
        reply = Reply(status, fields, body, trailers)
        reply.elapsed = time.monotonic() - start
        reply.pieces = pieces
        reply.informational = informational
        reply.rest = reader.read_until_close()
        return reply

    def fetch(self, method, path, headers=(), body=b"", pause=0.0, timeout=30.0, trailers=(),
              expect_continue=False, slow=False):
        """One request. `body` is bytes, or a list of pieces sent one by one `pause` seconds
        apart (chunked unless the headers give a Content-Length); `trailers` go in the
        chunked body's trailer section. With `expect_continue` the body waits for the
        100 (Continue); a `slow` client reads the response 4 KiB at a time."""
        with self._connect(timeout, slow) as sock:
            reader = H1Reader(sock, timeout, slow)
            informational = []
            start = time.monotonic()
            head, chunked = self._head(method, path, headers, body, trailers, expect_continue)
            sock.sendall(head)
            if expect_continue:
                parsed = reader.read_head()
                if parsed is None or parsed[1] != 100:
                    raise AssertionError("no 100 (Continue) before the body: %r" % (parsed,))
                informational.append(100)
            self._send_body(sock, body, chunked, trailers, pause)
            return self._receive(reader, method, start, informational)

    def fetch_concurrently(self, requests, timeout=30.0):
        """`requests` (paths, or (method, path, headers, body) tuples) all in flight at once,
        one connection (and thread) each; the Replies in order."""
        requests = [(r,) if isinstance(r, str) else r for r in requests]
        if not requests:
            return []
        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            futures = [pool.submit(self.fetch, *(r if len(r) > 1 else ("GET",) + r),
                                   timeout=timeout) for r in requests]
            return [f.result() for f in futures]

    def first_answer(self, method, path, headers, timeout):
        """Sends a request head announcing a body, and none of the body; returns (the 1xx
        statuses, the final status or None) that came within `timeout` seconds, stopping at
        the first 1xx or final status."""
        with self._connect(timeout) as sock:
            head, _ = self._head(method, path, headers, b"", (), False)
            sock.sendall(head)
            try:
                parsed = H1Reader(sock, timeout).read_head()
            except socket.timeout:
                return [], None
            if parsed is None:
                return [], None
            status = parsed[1]
            return ([status], None) if 100 <= status < 200 else ([], status)

    def abandon(self, method, path, headers=(), body=b""):
        """Sends a request (and `body`, all of it or the start of a longer one) and leaves:
        the connection closes before the response."""
        sock = self._connect(10)
        try:
            head, _ = self._head(method, path, headers, b"", (), False)
            sock.sendall(head + body)
            time.sleep(0.05)  # let the server start on it
        finally:
            sock.close()


class H2Transport:
    """HTTP/2 with h2_client: h2c with prior knowledge, or h2 over TLS by ALPN. One connection
    for a whole test; every request is a new stream on it."""

    SLOW_WINDOW = 4096  # a slow client's stream window (SETTINGS_INITIAL_WINDOW_SIZE)

    def __init__(self, server, tls):
        self.server = server
        self.tls = tls
        self.client = None
        self.others = []

    def close(self):
        for c in [self.client] + self.others:
            if c is not None:
                c.close()
        self.client, self.others = None, []

    def _open(self, timeout, settings=None):
        if self.tls:
            return H2Client.tls(self.server.tls_port, certs().ca, timeout=timeout,
                                settings=settings)
        return H2Client.h2c(self.server.port, timeout=timeout, settings=settings)

    def connection(self, timeout=30.0):
        if self.client is None:
            self.client = self._open(timeout)
        return self.client

    def _start(self, c, method, path, headers, body, trailers=(), expect_continue=False):
        """Sends the request's HEADERS; returns (stream id, whether DATA is to follow)."""
        fields = [(k.lower(), v) for k, v in headers]
        if not _is_pieces(body) and body and "content-length" not in dict(fields):
            fields.append(("content-length", str(len(body))))
        if expect_continue:
            fields.append(("expect", "100-continue"))
        scheme = "https" if self.tls else "http"
        request = c.request_fields(method, path, scheme=scheme, headers=fields)
        sid = c.new_stream_id()
        more = _is_pieces(body) or bool(body) or bool(trailers)
        c.send_headers(sid, request, end_stream=not more)
        return sid, more

    @staticmethod
    def _end(c, sid, trailers):
        if trailers:
            c.send_headers(sid, [(k.lower(), v) for k, v in trailers], end_stream=True)
        else:
            c.send_data(sid, b"", end_stream=True)

    def _reply(self, c, sid, start):
        s = c.stream(sid)
        if not s.ended or s.reset is not None or s.headers is None:
            raise AssertionError("stream did not end with a response: %r (GOAWAY %r, EOF %r)"
                                 % (s, c.goaway, c.eof))
        fields = [(k, v) for k, v in s.headers if not k.startswith(":")]
        reply = Reply(s.status, fields, bytes(s.data), list(s.trailers or ()))
        reply.elapsed = time.monotonic() - start
        reply.frames = [(f[0], f[1], f[3]) for f in c.frames if f[2] == sid]
        reply.pieces = sum(1 for f in reply.frames if f[0] == DATA and f[2])
        reply.informational = [int(dict(i)[":status"]) for i in s.informational]
        return reply

    def fetch(self, method, path, headers=(), body=b"", pause=0.0, timeout=30.0, trailers=(),
              expect_continue=False, slow=False):
        """One request on a new stream. `body` is bytes, or a list of pieces sent one by one
        (each in as many DATA frames as the windows allow) `pause` seconds apart; `trailers`
        go in a trailing HEADERS. With `expect_continue` the body waits for the 100
        (Continue). A `slow` client has a connection of its own with a 4 KiB stream window,
        and pauses after every DATA frame it reads."""
        if slow:
            c = self._open(timeout, {SETTINGS_INITIAL_WINDOW_SIZE: self.SLOW_WINDOW})
            self.others.append(c)
        else:
            c = self.connection(timeout)
        start = time.monotonic()
        sid, more = self._start(c, method, path, headers, body, trailers, expect_continue)
        st = c.stream(sid)
        if expect_continue:
            c.read_until(lambda: st.informational or st.done, timeout)
            if not st.informational:
                raise AssertionError("no 100 (Continue) before the body: %r" % st)
        if more:
            for piece in [body] if not _is_pieces(body) else body:
                if piece:
                    c.send_data(sid, piece, end_stream=False, timeout=timeout)
                if pause:
                    time.sleep(pause)
            self._end(c, sid, trailers)
        deadline = time.monotonic() + timeout
        while not st.done and not c.eof:
            frame = c.read_one(deadline)
            if slow and frame is not None and frame[0] == DATA:
                time.sleep(0.0005)
        return self._reply(c, sid, start)

    def fetch_concurrently(self, requests, timeout=30.0):
        """`requests` (paths, or (method, path, headers, body) tuples) as concurrent streams
        of one connection, their bodies sent 16 KiB at a time in turn; the Replies in
        order."""
        c = self.connection(timeout)
        requests = [("GET", r, (), b"") if isinstance(r, str) else r for r in requests]
        start = time.monotonic()
        sending = []
        ids = []
        for method, path, headers, body in requests:
            sid, more = self._start(c, method, path, headers, body)
            ids.append(sid)
            if more:
                data = b"".join(body) if _is_pieces(body) else bytes(body)
                sending.append([sid, memoryview(data)])
        while sending:
            for item in list(sending):
                sid, left = item
                piece, item[1] = left[:16 * KIB], left[16 * KIB:]
                c.send_data(sid, piece, end_stream=False, timeout=timeout)
                if not item[1]:
                    self._end(c, sid, ())
                    sending.remove(item)
        c.read_until(lambda: all(c.stream(i).done for i in ids), timeout)
        return [self._reply(c, i, start) for i in ids]

    def first_answer(self, method, path, headers, timeout):
        """Sends HEADERS announcing a body, and none of the body; returns (the 1xx statuses,
        the final status or None) that came within `timeout` seconds, stopping at the first
        1xx or final status."""
        c = self.connection()
        sid, _ = self._start(c, method, path, headers, [b""])
        st = c.stream(sid)
        try:
            c.read_until(lambda: st.informational or st.headers or st.done, timeout)
        except H2Timeout:
            pass
        return [int(dict(i)[":status"]) for i in st.informational], st.status

    def abandon(self, method, path, headers=(), body=b""):
        """Sends a request (and `body`, all of it or the start of a longer one) and resets
        the stream (RST_STREAM CANCEL) before the response; the connection stays."""
        c = self.connection()
        sid, _ = self._start(c, method, path, headers, b"" if not body else [body])
        if body:
            c.send_data(sid, body, end_stream=False)
        time.sleep(0.05)  # let the server start on it
        c.rst(sid)


# -- the behaviours ------------------------------------------------------------------------


def parse_event_stream(body):
    """The events of a text/event-stream (HTML Living Standard §9.2.6), as [{field: value}];
    "data" lines joined with newlines."""
    events, current = [], {}
    for line in body.decode("utf-8").replace("\r\n", "\n").split("\n"):
        if not line:
            if current:
                events.append(current)
            current = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data" and "data" in current:
            current["data"] += "\n" + value
        else:
            current[name] = value
    if current:
        raise AssertionError("event stream ends inside an event: %r" % body[-200:])
    return events


def parse_byteranges(body, boundary):
    """The parts of a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1.1), as
    [({lower-case name: value}, data)]."""
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    if chunks[0] not in (b"", b"\r\n"):
        raise AssertionError("preamble before the first part: %r" % chunks[0][:100])
    if chunks[-1] not in (b"--", b"--\r\n"):
        raise AssertionError("no close delimiter: %r" % chunks[-1][:100])
    parts = []
    for chunk in chunks[1:-1]:
        if not (chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")):
            raise AssertionError("malformed part %r" % chunk[:100])
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("part without a header section: %r" % chunk[:100])
        fields = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        parts.append((fields, data))
    return parts


class Behaviours:
    """The tests, run once per transport by the classes at the end of the module."""

    TLS = False
    H2 = False
    server = None

    @classmethod
    def setUpClass(cls):
        # The main listener stays plaintext even under WHARF_TEST_TLS: this class picks.
        cls.server = WharfServer(extra_args=certs().server_args(), tls=False)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    def setUp(self):
        transport = H2Transport if self.H2 else H1Transport
        self.transport = transport(self.server, self.TLS)
        self.addCleanup(self.transport.close)

    def tearDown(self):
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.stderr())

    def fetch(self, method, path, headers=(), body=b"", **kw):
        reply = self.transport.fetch(method, path, headers, body, **kw)
        self.assert_whole(reply)
        return reply

    def get(self, path, headers=(), **kw):
        return self.fetch("GET", path, headers, **kw)

    def assert_whole(self, reply):
        """Nothing after the response (h1); a body of exactly Content-Length bytes."""
        self.assertEqual(reply.rest, b"", "bytes after the response")
        length = reply.header("content-length")
        if length is not None and reply.status != 304 and reply.body:
            self.assertEqual(int(length), len(reply.body), "Content-Length vs body")

    def assert_no_content(self, reply):
        """No body bytes at all: on h2 not a single DATA frame (RFC 9113 §8.1), on h1 nothing
        between the head and the close."""
        self.assertEqual(reply.body, b"")
        if self.H2:
            self.assertEqual([f for f in reply.frames if f[0] == DATA], [], reply.frames)
            self.assertEqual(reply.frames[-1][0], HEADERS, reply.frames)
            self.assertTrue(reply.frames[-1][1] & END_STREAM, reply.frames)

    def assert_pattern(self, body, n):
        self.assertEqual(len(body), n)
        if body != pattern(n):
            at = next(i for i in range(n) if body[i] != PATTERN[i % 26])
            self.fail("pattern broken at offset %d" % at)

    # -- streaming ---------------------------------------------------------------------

    def test_stream_chunks_complete_in_order(self):
        # Each chunk is flushed on its own, 60 ms after the last (demo.cpp stream_next), so
        # each is at least one DATA frame (h2) and one chunk (h1) of its own.
        chunks, size, delay = 5, 3000, 60
        r = self.get("/stream?chunks=%d&size=%d&delay_ms=%d" % (chunks, size, delay))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "text/plain")
        self.assert_pattern(r.body, chunks * size)
        self.assertGreaterEqual(r.pieces, chunks, "chunks merged")
        self.assertGreaterEqual(r.elapsed, (chunks - 1) * (delay / 1000 - TIMER_SLACK))
        if not self.H2:
            self.assertEqual(r.header("transfer-encoding"), "chunked")
            self.assertEqual(r.pieces, chunks)

    def test_stream_many_chunks_no_delay(self):
        r = self.get("/stream?chunks=200&size=777")
        self.assertEqual(r.status, 200)
        self.assert_pattern(r.body, 200 * 777)

    def test_bytes_from_body_source_exact(self):
        n = 5_000_000
        r = self.get("/bytes?n=%d" % n)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/octet-stream")
        self.assert_pattern(r.body, n)
        if self.H2:
            self.assertGreater(r.pieces, 1)

    def test_slow_reader_gets_everything(self):
        # The server sends only as fast as the client reads (h1: a 4 KiB receive buffer
        # read a little at a time; h2: a 4 KiB stream window, reopened as DATA is read).
        r = self.get("/bytes?n=1500000", slow=True)
        self.assertEqual(r.status, 200)
        self.assert_pattern(r.body, 1_500_000)
        r = self.get("/stream?chunks=4&size=200000", slow=True)
        self.assertEqual(r.status, 200)
        self.assert_pattern(r.body, 800_000)
        r = self.get("/blob.bin", slow=True)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body == BLOB, "blob.bin differs")
        if self.H2:
            self.assertGreaterEqual(r.pieces, len(BLOB) // H2Transport.SLOW_WINDOW)

    def test_gather_exact(self):
        r = self.get("/gather?parts=50&size=1000")
        self.assertEqual(r.status, 200)
        self.assert_pattern(r.body, 50_000)

    # -- uploads -----------------------------------------------------------------------

    def check_upload_digest(self, total, declare_length):
        # Odd piece sizes, a pause after each: the server takes the body as it comes,
        # holding back the client (TCP, or the h2 windows) while it hashes.
        pieces = pattern_pieces(total, [256 * KIB + 1, 1, 65_535, 512 * KIB, 100_000])
        headers = [("Content-Type", "application/octet-stream")]
        if declare_length:
            headers.append(("Content-Length", str(total)))
        expected = hashlib.sha256(b"".join(pieces)).hexdigest()
        r = self.fetch("POST", "/upload-digest", headers, pieces, pause=0.005, timeout=60)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(json.loads(r.body), {"bytes": total, "sha256": expected})

    def test_upload_digest_declared_length(self):
        self.check_upload_digest(4 * MIB + 3, declare_length=True)

    def test_upload_digest_undeclared_length(self):
        # h1: chunked; h2: DATA frames and END_STREAM, no content-length.
        self.check_upload_digest(3 * MIB + 11, declare_length=False)

    def test_upload_digest_client_pauses(self):
        # The body stops for a while in the middle; the server waits for the rest.
        pieces = pattern_pieces(2 * MIB, [MIB])
        r = self.fetch("POST", "/upload-digest", (), pieces, pause=0.4)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(json.loads(r.body), {
            "bytes": 2 * MIB, "sha256": hashlib.sha256(b"".join(pieces)).hexdigest()})
        self.assertGreaterEqual(r.elapsed, 0.8)  # the client's own pauses

    def test_echo_one_mib_exact(self):
        body = random.Random(7).randbytes(MIB)
        r = self.fetch("POST", "/echo", [("Content-Type", "application/x-test")], body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/x-test")
        self.assertEqual(r.header("content-length"), str(MIB))
        self.assertTrue(r.body == body, "echoed body differs")

    def test_echo_in_pieces(self):
        pieces = [bytes([i]) * (10_000 + i) for i in range(20)]
        r = self.fetch("POST", "/echo", (), pieces, pause=0.002)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/octet-stream")
        self.assertTrue(r.body == b"".join(pieces), "echoed body differs")

    def test_echo_empty(self):
        r = self.fetch("POST", "/echo", (), b"")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.header("content-length"), "0")

    def test_upload_expect_continue(self):
        # RFC 9110 §10.1.1: the client holds the body back until the 100 (Continue).
        pieces = pattern_pieces(MIB + 5, [300_000])
        r = self.fetch("POST", "/upload-digest", [("Content-Length", str(MIB + 5))], pieces,
                       expect_continue=True)
        self.assertEqual(r.informational, [100])
        self.assertEqual((r.status, json.loads(r.body)), (200, {
            "bytes": MIB + 5, "sha256": hashlib.sha256(b"".join(pieces)).hexdigest()}))
        r = self.fetch("POST", "/echo", (), b"after the continue", expect_continue=True)
        self.assertEqual(r.informational, [100])
        self.assertEqual((r.status, r.body), (200, b"after the continue"))

    def test_oversized_declared_body_refused_before_it_is_sent(self):
        # RFC 9110 §10.1.1: a server that gets 100-continue "MUST send either an immediate
        # response with a final status code, if that status can be determined by examining
        # just the method, target URI, and header fields, or an immediate 100 (Continue)".
        # A Content-Length over --max-body-size (8 MiB) is such a case: 413 (§15.5.14) at
        # once, so that the client never sends what would be refused.
        informational, status = self.transport.first_answer(
            "POST", "/echo", [("Content-Length", str(9 * MIB)), ("Expect", "100-continue")],
            timeout=3)
        self.assertEqual((informational, status), ([], 413))

    def test_upload_with_request_trailers(self):
        # A body that ends with a trailer section (h1: chunked, RFC 9112 §7.1.2; h2: a
        # trailing HEADERS with END_STREAM, RFC 9113 §8.1) is taken whole.
        pieces = pattern_pieces(600_000, [100_000])
        r = self.fetch("POST", "/upload-digest", (), pieces, trailers=[("X-Checksum", "abc")])
        self.assertEqual((r.status, json.loads(r.body)), (200, {
            "bytes": 600_000, "sha256": hashlib.sha256(b"".join(pieces)).hexdigest()}))
        r = self.fetch("POST", "/echo", (), [b"one ", b"two"], trailers=[("X-T", "1")])
        self.assertEqual((r.status, r.body), (200, b"one two"))

    def test_concurrent_uploads(self):
        # h2: six request bodies interleaved on one connection, each held to its own
        # window; h1: six connections at once.
        rng = random.Random(11)
        uploads = [rng.randbytes(MIB + i * 1000) for i in range(4)]
        echoes = [rng.randbytes(300_000 + i) for i in range(2)]
        requests = [("POST", "/upload-digest", (), u) for u in uploads]
        requests += [("POST", "/echo", (), e) for e in echoes]
        replies = self.transport.fetch_concurrently(requests, timeout=60)
        for data, r in zip(uploads, replies):
            self.assert_whole(r)
            self.assertEqual((r.status, json.loads(r.body)), (200, {
                "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}))
        for data, r in zip(echoes, replies[len(uploads):]):
            self.assert_whole(r)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.body == data, "echoed body differs")

    # -- suspend/resume ----------------------------------------------------------------

    def test_wait_answers_after_the_wait(self):
        r = self.get("/wait?ms=300")
        self.assertEqual((r.status, r.body), (200, b"waited 300 ms"))
        self.assertEqual(r.header("content-type"), "text/plain")
        self.assertGreaterEqual(r.elapsed, 0.3 - TIMER_SLACK)

    def test_compute(self):
        r = self.get("/compute?n=1000000")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(json.loads(r.body), {"n": 1_000_000, "sum": 500_000_500_000})

    def test_concurrent_waits_all_answered(self):
        # h2: 16 streams of one connection; h1: 16 connections; all in flight at once.
        ms = [200 + 10 * i for i in range(12)]
        paths = ["/wait?ms=%d" % m for m in ms] + ["/compute?n=%d" % n for n in (1, 10, 1000, 0)]
        replies = self.transport.fetch_concurrently(paths)
        for path, r in zip(paths, replies):
            self.assert_whole(r)
            self.assertEqual(r.status, 200, path)
        for m, r in zip(ms, replies):
            self.assertEqual(r.body, b"waited %d ms" % m)
            self.assertGreaterEqual(r.elapsed, m / 1000 - TIMER_SLACK)
        sums = [json.loads(r.body) for r in replies[len(ms):]]
        self.assertEqual(sums, [{"n": 1, "sum": 1}, {"n": 10, "sum": 55},
                                {"n": 1000, "sum": 500500}, {"n": 0, "sum": 0}])

    def test_wait_then_more_requests(self):
        # A suspended request is resumed on its connection; the next ones are served after it.
        for path, body in (("/wait?ms=0", b"waited 0 ms"), ("/wait?ms=50", b"waited 50 ms"),
                           ("/plaintext", b"Hello, World!")):
            r = self.get(path)
            self.assertEqual((r.status, r.body), (200, body), path)

    def test_abandoned_requests_leave_the_server_serving(self):
        # Clients that leave mid-request (h1: the connection closes; h2: RST_STREAM on a
        # connection that stays): suspended, offloaded, streaming and uploading ones.
        t = self.transport
        t.abandon("GET", "/wait?ms=500")
        t.abandon("GET", "/compute?n=100000000")
        t.abandon("GET", "/events?count=100&interval_ms=10")
        t.abandon("GET", "/stream?chunks=100&size=1000&delay_ms=10")
        t.abandon("GET", "/bytes?n=100000000")
        t.abandon("POST", "/upload-digest", [("Content-Length", str(10 * MIB))],
                  pattern(100_000))
        t.abandon("POST", "/echo", [("Content-Length", str(MIB))], pattern(1000))
        r = self.get("/wait?ms=10")
        self.assertEqual((r.status, r.body), (200, b"waited 10 ms"))
        r = self.get("/compute?n=10")
        self.assertEqual(json.loads(r.body), {"n": 10, "sum": 55})
        r = self.get("/stream?chunks=3&size=10&delay_ms=5")
        self.assert_pattern(r.body, 30)

    # -- server-sent events ------------------------------------------------------------

    def test_events_in_order(self):
        r = self.get("/events?count=6&interval_ms=40", [("Accept", "text/event-stream")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "text/event-stream")
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(r.body, b"".join(b"data: %d\n\n" % i for i in range(6)))
        self.assertEqual(parse_event_stream(r.body), [{"data": str(i)} for i in range(6)])
        self.assertGreaterEqual(r.pieces, 6, "events merged (each is sent 40 ms apart)")
        self.assertGreaterEqual(r.elapsed, 5 * (0.040 - TIMER_SLACK))

    def test_events_none(self):
        r = self.get("/events?count=0")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.header("content-type"), "text/event-stream")

    # -- ranges ------------------------------------------------------------------------

    def test_single_ranges(self):
        # RFC 9110 §14.2, §15.3.7.
        for path, data in (("/blob.bin", BLOB), ("/ranges-demo", RANGES_DEMO)):
            total = len(data)
            for spec, first, last in (("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199),
                                      ("bytes=%d-" % (total - 10), total - 10, total - 1),
                                      ("bytes=-500", total - 500, total - 1),
                                      ("bytes=1000-%d" % (total * 2), 1000, total - 1)):
                r = self.get(path, [("Range", spec)])
                self.assertEqual(r.status, 206, (path, spec))
                self.assertEqual(r.header("content-range"),
                                 "bytes %d-%d/%d" % (first, last, total), (path, spec))
                self.assertEqual(r.header("content-length"), str(last - first + 1))
                self.assertTrue(r.body == data[first:last + 1], (path, spec))

    def test_multiple_ranges_multipart(self):
        # RFC 9110 §14.6.
        for path, data, ctype in (("/blob.bin", BLOB, "application/octet-stream"),
                                  ("/ranges-demo", RANGES_DEMO, "text/plain; charset=utf-8")):
            total = len(data)
            r = self.get(path, [("Range", "bytes=0-9,100-109,-5")])
            self.assertEqual(r.status, 206, path)
            media, _, boundary = r.header("content-type").partition("; boundary=")
            self.assertEqual(media, "multipart/byteranges", path)
            self.assertTrue(boundary)
            self.assertIsNone(r.header("content-range"))
            self.assertEqual(r.header("content-length"), str(len(r.body)))
            parts = parse_byteranges(r.body, boundary.strip('"'))
            expected = [(0, 9), (100, 109), (total - 5, total - 1)]
            self.assertEqual(len(parts), len(expected), path)
            for (fields, got), (first, last) in zip(parts, expected):
                self.assertEqual(fields.get("content-range"),
                                 "bytes %d-%d/%d" % (first, last, total), path)
                self.assertEqual(fields.get("content-type"), ctype, path)
                self.assertEqual(got, data[first:last + 1], path)

    def test_unsatisfiable_range(self):
        # RFC 9110 §15.5.17.
        for path, total in (("/blob.bin", len(BLOB)), ("/ranges-demo", len(RANGES_DEMO))):
            r = self.get(path, [("Range", "bytes=%d-" % total)])
            self.assertEqual(r.status, 416, path)
            self.assertEqual(r.header("content-range"), "bytes */%d" % total, path)
            self.assertEqual(r.header("content-length"), str(len(r.body)))

    def test_if_range(self):
        # RFC 9110 §13.1.5: the range only while the validator still matches.
        etag = self.get("/blob.bin").header("etag")
        self.assertTrue(etag)
        r = self.get("/blob.bin", [("Range", "bytes=10-19"), ("If-Range", etag)])
        self.assertEqual((r.status, r.body), (206, BLOB[10:20]))
        r = self.get("/blob.bin", [("Range", "bytes=10-19"), ("If-Range", '"stale"')])
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body == BLOB, "If-Range mismatch must send the whole file")
        r = self.get("/ranges-demo", [("Range", "bytes=10-19"),
                                      ("If-Range", RANGES_DEMO_MODIFIED)])
        self.assertEqual((r.status, r.body), (206, RANGES_DEMO[10:20]))
        r = self.get("/ranges-demo", [("Range", "bytes=10-19"), ("If-Range", LONG_AGO)])
        self.assertEqual((r.status, r.body), (200, RANGES_DEMO))
        r = self.get("/ranges-demo", [("Range", "bytes=10-19"), ("If-Range", RANGES_DEMO_ETAG)])
        self.assertEqual((r.status, r.body), (206, RANGES_DEMO[10:20]))

    # -- conditional requests ----------------------------------------------------------

    def test_if_none_match_304(self):
        # RFC 9110 §13.1.2, §15.4.5: 304 has no content.
        full = self.get("/hello.txt")
        etag = full.header("etag")
        self.assertTrue(etag)
        for path, tag in (("/hello.txt", etag), ("/ranges-demo", RANGES_DEMO_ETAG)):
            r = self.get(path, [("If-None-Match", tag)])
            self.assertEqual(r.status, 304, path)
            self.assertEqual(r.header("etag"), tag, path)
            self.assert_no_content(r)
            r = self.get(path, [("If-None-Match", '"other", ' + tag)])
            self.assertEqual(r.status, 304, path)
        r = self.get("/hello.txt", [("If-None-Match", '"other"')])
        self.assertEqual((r.status, r.body), (200, SITE_FILES["hello.txt"]))

    def test_if_modified_since_304(self):
        # RFC 9110 §13.1.3.
        modified = self.get("/blob.bin").header("last-modified")
        self.assertTrue(modified)
        for path, date in (("/blob.bin", modified), ("/ranges-demo", RANGES_DEMO_MODIFIED)):
            r = self.get(path, [("If-Modified-Since", date)])
            self.assertEqual(r.status, 304, path)
            self.assert_no_content(r)
        r = self.get("/ranges-demo", [("If-Modified-Since", LONG_AGO)])
        self.assertEqual((r.status, r.body), (200, RANGES_DEMO))
        # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        r = self.get("/ranges-demo", [("If-None-Match", '"other"'),
                                      ("If-Modified-Since", RANGES_DEMO_MODIFIED)])
        self.assertEqual((r.status, r.body), (200, RANGES_DEMO))

    def test_head_no_body_right_length(self):
        # RFC 9110 §9.3.2: the fields of a GET, no content.
        for path, length in (("/blob.bin", len(BLOB)), ("/hello.txt", len(SITE_FILES["hello.txt"])),
                             ("/ranges-demo", len(RANGES_DEMO)), ("/plaintext", 13)):
            get = self.get(path)
            r = self.fetch("HEAD", path)
            self.assertEqual(r.status, 200, path)
            self.assert_no_content(r)
            self.assertEqual(r.header("content-length"), str(length), path)
            for name in ("content-type", "etag", "last-modified", "accept-ranges"):
                self.assertEqual(r.header(name), get.header(name), (path, name))

    def test_head_of_generated_bodies(self):
        # Streamed, pulled, gathered, suspended, offloaded and trailer-carrying responses:
        # HEAD gets the head alone (on h1 not even the last chunk or the trailer section).
        for path in ("/stream?chunks=3&size=10&delay_ms=5", "/bytes?n=100000",
                     "/gather?parts=3&size=1000", "/events?count=2&interval_ms=5",
                     "/trailers", "/wait?ms=20", "/compute?n=10", "/json", "/tls"):
            r = self.fetch("HEAD", path)
            self.assertEqual(r.status, 200, path)
            self.assert_no_content(r)
            self.assertEqual(r.trailers, [], path)
        r = self.get("/plaintext")
        self.assertEqual((r.status, r.body), (200, b"Hello, World!"))

    def test_conditional_and_range_together(self):
        # RFC 9110 §13.2.2: If-None-Match is evaluated before Range; a weak entity tag
        # matches If-None-Match (weak comparison, §13.1.2) but never If-Range (strong, §13.1.5).
        weak = "W/" + RANGES_DEMO_ETAG
        r = self.get("/ranges-demo", [("If-None-Match", RANGES_DEMO_ETAG), ("Range", "bytes=0-9")])
        self.assertEqual(r.status, 304)
        self.assert_no_content(r)
        r = self.get("/ranges-demo", [("If-None-Match", weak)])
        self.assertEqual(r.status, 304)
        r = self.get("/ranges-demo", [("If-None-Match", "*")])
        self.assertEqual(r.status, 304)
        r = self.get("/ranges-demo", [("Range", "bytes=0-9"), ("If-Range", weak)])
        self.assertEqual((r.status, r.body), (200, RANGES_DEMO))
        # Range is defined for GET only, so HEAD ignores it (RFC 9110 §14.2).
        for path, total in (("/ranges-demo", len(RANGES_DEMO)), ("/blob.bin", len(BLOB))):
            r = self.fetch("HEAD", path, [("Range", "bytes=10-19")])
            self.assertEqual(r.status, 200, path)
            self.assertIsNone(r.header("content-range"), path)
            self.assertEqual(r.header("content-length"), str(total), path)
            self.assert_no_content(r)
        etag = self.get("/blob.bin").header("etag")
        r = self.fetch("HEAD", "/blob.bin", [("If-None-Match", etag)])
        self.assertEqual(r.status, 304)
        self.assert_no_content(r)

    # -- trailers ----------------------------------------------------------------------

    def test_trailers(self):
        r = self.get("/trailers", [("TE", "trailers")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, TRAILERS_BODY)
        self.assertEqual(r.trailers, [("x-body-length", str(len(TRAILERS_BODY))),
                                      ("grpc-status", "0")])
        self.assertIsNone(r.header("x-body-length"), "a trailer among the header fields")
        if self.H2:
            # RFC 9113 §8.1: the trailer section is a HEADERS frame that ends the stream,
            # after the DATA, none of which ends it.
            self.assertEqual(r.frames[0][0], HEADERS)
            self.assertFalse(r.frames[0][1] & END_STREAM)
            self.assertEqual(r.frames[-1][0], HEADERS)
            self.assertTrue(r.frames[-1][1] & END_STREAM)
            data = [f for f in r.frames if f[0] == DATA]
            self.assertTrue(data and not any(f[1] & END_STREAM for f in data), r.frames)
        else:
            # RFC 9112 §7.1.2: in the chunked body's trailer section.
            self.assertEqual(r.header("transfer-encoding"), "chunked")

    # -- /tls --------------------------------------------------------------------------

    def test_tls_report(self):
        r = self.get("/tls")
        self.assertEqual(r.status, 200)
        report = json.loads(r.body)
        if not self.TLS:
            self.assertEqual(report, {"tls": None})
            return
        self.assertEqual(report["tls"]["alpn"], "h2" if self.H2 else "http/1.1")
        self.assertTrue(report["tls"]["version"].startswith("TLSv1."), report)
        self.assertEqual(report["tls"]["sni"], "localhost")


class H1Test(Behaviours, unittest.TestCase):
    """HTTP/1.1 in plaintext."""


class H1TlsTest(Behaviours, unittest.TestCase):
    """HTTP/1.1 over TLS (ALPN http/1.1)."""

    TLS = True


class H2cTest(Behaviours, unittest.TestCase):
    """HTTP/2 in plaintext, prior knowledge."""

    H2 = True


class H2TlsTest(Behaviours, unittest.TestCase):
    """HTTP/2 over TLS, ALPN h2."""

    TLS = True
    H2 = True


if __name__ == "__main__":
    unittest.main()
