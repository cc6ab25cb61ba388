# SPDX-License-Identifier: MIT
"""Streamed responses and request bodies of `wharf serve`'s demo endpoints, over raw sockets
(and curl): chunked and close-delimited framing, pull-based sources read by slow clients,
clients that vanish mid-stream, multi-GiB uploads, 100-continue and pipelining around streams.
Memory and descriptors of the server process are watched through /proc while they run.

The demo bodies follow one pattern: byte i of a body is 'a' + (i % 26).
"""

import hashlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from wharf_server import (
    RssSampler,
    report,
    rss_bounds_apply,
    Response,
    ResponseReader,
    SharedServerTestCase,
    WharfServer,
    fd_count,
    get,
    rss_bytes,
)

ALPHABET = bytes(range(ord("a"), ord("z") + 1))
# Long enough for any slice of up to 1 MiB at any phase.
PATTERN = ALPHABET * ((1 << 20) // 26 + 2)

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Server memory may grow by at most this much while it streams (it should stay flat: a source
# is read 64 KiB at a time, a streamed request body is held up to a 64 KiB window).
RSS_GROWTH_LIMIT = 32 * MIB


def pattern(n, at=0):
    """n bytes of the demo pattern, starting at body offset `at`."""
    reps = n // 26 + 2
    p = at % 26
    return (ALPHABET * reps)[p : p + n]


def pattern_slice(n, at):
    """Like pattern() for n <= 1 MiB, without building anything."""
    p = at % 26
    return PATTERN[p : p + n]


def sha256_of_pattern(n):
    h = hashlib.sha256()
    at = 0
    while at < n:
        k = min(MIB, n - at)
        h.update(pattern_slice(k, at))
        at += k
    return h.hexdigest()


# -- a response reader that also understands chunked and close-delimited bodies --------------


class StreamReader(ResponseReader):
    """ResponseReader plus chunked (with the chunk sizes seen) and close-delimited bodies, and
    arrival times of body bytes."""

    def read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise AssertionError("connection closed inside a line: %r" % self.buf[-200:])
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_chunked(self, on_chunk=None):
        """Reads a chunked body; returns (body, [chunk sizes]). on_chunk(size) is called as
        each chunk's data is complete."""
        body = bytearray()
        sizes = []
        while True:
            line = self.read_line()
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise AssertionError("malformed chunk-size line %r" % line)
            size = int(size_text, 16)
            if size == 0:
                # No trailers from wharf: the empty line follows at once.
                self.assertion_equal(self.read_line(), b"", "trailer section")
                return bytes(body), sizes
            body += self.read_exact(size)
            self.assertion_equal(self.read_exact(2), b"\r\n", "chunk data end")
            sizes.append(size)
            if on_chunk:
                on_chunk(size)

    @staticmethod
    def assertion_equal(got, want, what):
        if got != want:
            raise AssertionError("%s: expected %r, got %r" % (what, want, got))

    def read_until_close(self):
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def read_any(self, head_request=False):
        """The next final response (1xx skipped) with its body however it is framed; sets
        resp.chunks to the chunk sizes of a chunked body (None otherwise)."""
        while True:
            parsed = self.read_head()
            if parsed is None:
                return None
            version, status, reason, headers = parsed
            if not 100 <= status < 200:
                break
        resp = Response(version, status, reason, headers, b"")
        resp.chunks = None
        if head_request or status in (204, 304):
            return resp
        te = resp.header("Transfer-Encoding")
        length = resp.header("Content-Length")
        if te is not None:
            if te.lower() != "chunked" or length is not None:
                raise AssertionError("unexpected framing: %r" % resp)
            resp.body, resp.chunks = self.read_chunked()
        elif length is not None:
            resp.body = self.read_exact(int(length))
        else:
            resp.body = self.read_until_close()
        return resp


def send_request(sock, method, target, headers=(), body=b"", version="HTTP/1.1"):
    head = "%s %s %s\r\nHost: test\r\n" % (method, target, version)
    for h in headers:
        head += h + "\r\n"
    sock.sendall(head.encode() + b"\r\n" + body)


def request_bytes(method, target, headers=(), body=b""):
    head = "%s %s HTTP/1.1\r\nHost: test\r\n" % (method, target)
    for h in headers:
        head += h + "\r\n"
    return head.encode() + b"\r\n" + body


def chunked(pieces):
    """Chunked encoding of `pieces` (a list of bytes), with the last chunk."""
    out = b""
    for p in pieces:
        out += b"%x\r\n" % len(p) + p + b"\r\n"
    return out + b"0\r\n\r\n"


def digest_of(data):
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class StreamingTestCase(SharedServerTestCase):
    @property
    def pid(self):
        return self.server.proc.pid

    def assert_server_works(self):
        resp = get(self.server.port, "/plaintext")
        self.assertIsNotNone(resp)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"Hello, World!")

    def fetch(self, target, method="GET", headers=(), body=b"", version="HTTP/1.1"):
        """One request on a new connection; the response read with StreamReader.read_any."""
        with self.server.connect(timeout=30) as s:
            send_request(s, method, target, headers, body, version)
            return StreamReader(s, 30).read_any(head_request=method == "HEAD")

    def wait_until(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


# -- 1, 2: /stream ----------------------------------------------------------------------------


class StreamEndpointTest(StreamingTestCase):
    def test_chunked_framing_exact(self):
        for chunks, size in ((1, 1), (3, 10), (7, 26), (50, 100000), (4, 1 << 20)):
            with self.subTest(chunks=chunks, size=size):
                resp = self.fetch("/stream?chunks=%d&size=%d" % (chunks, size))
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.version, "HTTP/1.1")
                self.assertEqual(resp.header("Transfer-Encoding"), "chunked")
                self.assertIsNone(resp.header("Content-Length"))
                self.assertEqual(resp.header("Content-Type"), "text/plain")
                # Each flush is exactly one chunk; the 0 chunk ends the body.
                self.assertEqual(resp.chunks, [size] * chunks)
                self.assertEqual(len(resp.body), chunks * size)
                self.assertTrue(resp.body == pattern(chunks * size), "pattern broken")

    def test_zero_chunks_is_an_empty_chunked_body(self):
        resp = self.fetch("/stream?chunks=0&size=5")
        self.assertEqual(resp.status, 200)
        # Either framing is fine for an empty body, but it must be exactly empty.
        self.assertEqual(resp.body, b"")
        if resp.chunks is not None:
            self.assertEqual(resp.chunks, [])

    def test_chunked_pieces_arrive_spread_in_time(self):
        with self.server.connect(timeout=10) as s:
            start = time.monotonic()
            send_request(s, "GET", "/stream?chunks=3&size=1000&delay_ms=100")
            reader = StreamReader(s, 10)
            _, status, _, headers = reader.read_head()
            self.assertEqual(status, 200)
            self.assertIn(("Transfer-Encoding", "chunked"), headers)
            arrivals = []
            body, sizes = reader.read_chunked(
                on_chunk=lambda n: arrivals.append(time.monotonic() - start)
            )
            total = time.monotonic() - start
        self.assertEqual(sizes, [1000, 1000, 1000])
        self.assertEqual(body, pattern(3000))
        self.assertLess(arrivals[0], 0.25, "first piece late: %r" % arrivals)
        self.assertGreaterEqual(total, 0.18, "pieces not delayed: %r" % arrivals)
        self.assertGreaterEqual(arrivals[2] - arrivals[0], 0.15, "arrivals %r" % arrivals)
        self.assertLess(total, 5.0)

    def test_http10_close_delimited(self):
        for chunks, size, delay in ((4, 1000, 0), (3, 77, 30), (20, 65536, 0)):
            with self.subTest(chunks=chunks, size=size, delay=delay):
                with self.server.connect(timeout=10) as s:
                    send_request(
                        s,
                        "GET",
                        "/stream?chunks=%d&size=%d&delay_ms=%d" % (chunks, size, delay),
                        version="HTTP/1.0",
                    )
                    reader = StreamReader(s, 10)
                    version, status, _, headers = reader.read_head()
                    body = reader.read_until_close()
                self.assertEqual(status, 200)
                resp = Response(version, status, "", headers, body)
                self.assertIsNone(resp.header("Content-Length"), headers)
                self.assertIsNone(resp.header("Transfer-Encoding"), headers)
                self.assertEqual(resp.header("Connection", "").lower(), "close")
                self.assertEqual(len(body), chunks * size)
                self.assertTrue(body == pattern(chunks * size), "pattern broken")

    def test_bad_query_values(self):
        for target in (
            "/stream?chunks=-1",
            "/stream?chunks=x",
            "/stream?size=0",
            "/stream?size=99999999999",
            "/stream?delay_ms=abc",
            "/stream?chunks=1000001",
        ):
            with self.subTest(target=target):
                self.assertEqual(self.fetch(target).status, 400)


# -- 3, 4: /gather and /bytes -----------------------------------------------------------------


class GatherAndBytesTest(StreamingTestCase):
    def test_gather(self):
        for parts, size in ((9999, 7), (100, 65536), (1, 1), (26, 27)):
            with self.subTest(parts=parts, size=size):
                resp = self.fetch("/gather?parts=%d&size=%d" % (parts, size))
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.header("Content-Length"), str(parts * size))
                self.assertIsNone(resp.header("Transfer-Encoding"))
                self.assertEqual(len(resp.body), parts * size)
                self.assertTrue(resp.body == pattern(parts * size), "pattern broken")

    def test_gather_bad_params(self):
        for target in (
            "/gather?parts=0&size=1",
            "/gather?parts=10000&size=1",
            "/gather?parts=1",
            "/gather?size=1",
            "/gather?parts=9999&size=1048576",  # more than 256 MiB in all
        ):
            with self.subTest(target=target):
                self.assertEqual(self.fetch(target).status, 400)

    def test_bytes_exact(self):
        for n in (0, 1, 25, 26, 27, 65535, 65536, 65537, 1000003):
            with self.subTest(n=n):
                resp = self.fetch("/bytes?n=%d" % n)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.header("Content-Length"), str(n))
                self.assertIsNone(resp.header("Transfer-Encoding"))
                self.assertEqual(resp.header("Content-Type"), "application/octet-stream")
                self.assertEqual(len(resp.body), n)
                self.assertTrue(resp.body == pattern(n), "pattern broken")

    def test_bytes_keep_alive_and_head(self):
        # Sources on a kept-alive connection, and HEAD: the length without a body (the very
        # next bytes are the following response).
        with self.server.connect(timeout=10) as s:
            reader = StreamReader(s, 10)
            for n in (10, 0, 70000):
                send_request(s, "GET", "/bytes?n=%d" % n)
                resp = reader.read_any()
                self.assertEqual(resp.body, pattern(n))
            send_request(s, "HEAD", "/bytes?n=5")
            resp = reader.read_any(head_request=True)
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.header("Content-Length"), "5")
            send_request(s, "HEAD", "/bytes?n=1099511627776")
            resp = reader.read_any(head_request=True)
            self.assertEqual(resp.header("Content-Length"), "1099511627776")
            send_request(s, "GET", "/plaintext")
            resp = reader.read_any()
            self.assertEqual(resp.body, b"Hello, World!")
            self.assertEqual(reader.buf, b"")

    def test_bytes_bad_params(self):
        for target in (
            "/bytes?n=-1",
            "/bytes?n=abc",
            "/bytes",
            "/bytes?n=",
            "/bytes?n=1099511627777",
        ):
            with self.subTest(target=target):
                resp = self.fetch(target)
                self.assertEqual(resp.status, 400)
                self.assertIn(b"'n'", resp.body)


# -- 5, 6: slow readers and vanishing clients of a source ---------------------------------------


def read_head_raw(sock):
    """Reads a response head from `sock`; returns (head text, surplus body bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise AssertionError("closed inside the head: %r" % data)
        data += more
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


class SourceMemoryTest(StreamingTestCase):
    def test_throttled_reader_of_one_gib(self):
        total = GIB
        throttle_for = 15.0  # seconds of throttled reading; then as fast as possible
        expected_sha = sha256_of_pattern(total)
        self.fetch("/bytes?n=%d" % MIB)  # warm up: buffers the server keeps are in the baseline

        rcvbuf = (socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * KIB)
        sock = self.server.connect(timeout=30, sockopts=[rcvbuf])
        with sock, RssSampler(self.pid) as rss:
            start = time.monotonic()
            send_request(sock, "GET", "/bytes?n=%d" % total)
            head, rest = read_head_raw(sock)
            self.assertTrue(head.startswith("HTTP/1.1 200 "), head)
            self.assertIn("\r\nContent-Length: %d" % total, head)
            h = hashlib.sha256()
            got = 0
            mismatch = None

            def take(view):
                nonlocal got, mismatch
                n = len(view)
                if got + n > total:
                    raise AssertionError("more body than announced")
                if mismatch is None and view != pattern_slice(n, got):
                    mismatch = got
                h.update(view)
                got += n

            take(bytes(rest))
            buf = bytearray(64 * KIB)
            view = memoryview(buf)
            throttled_bytes = 0
            throttled_time = 0.0
            while got < total:
                n = sock.recv_into(buf)
                if n == 0:
                    break
                take(view[:n].tobytes())
                elapsed = time.monotonic() - start
                if elapsed < throttle_for:
                    throttled_bytes = got
                    throttled_time = elapsed
                    time.sleep(0.004)
            duration = time.monotonic() - start
        self.assertEqual(got, total, "body ended early")
        self.assertIsNone(mismatch, "pattern broken at offset %r" % mismatch)
        self.assertEqual(h.hexdigest(), expected_sha)
        report(
            "throttled 1 GiB read: %.1f s (%.0f MiB in the first %.1f s throttled), server RSS %s"
            % (duration, throttled_bytes / MIB, throttled_time, rss.describe())
        )
        if rss_bounds_apply():
            self.assertLess(rss.growth, RSS_GROWTH_LIMIT, rss.describe())
        self.assert_server_works()

    def test_clients_vanishing_mid_stream_leak_nothing(self):
        ten_gib = 10 * GIB
        self.fetch("/bytes?n=%d" % MIB)
        self.assert_server_works()
        time.sleep(0.2)  # connections of earlier requests are closed by now
        fds_before = fd_count(self.pid)
        with RssSampler(self.pid) as rss:
            for i in range(20):
                with self.server.connect(timeout=10) as s:
                    send_request(s, "GET", "/bytes?n=%d" % ten_gib)
                    head, rest = read_head_raw(s)
                    self.assertIn("Content-Length: %d" % ten_gib, head)
                    got = len(rest)
                    while got < MIB:
                        data = s.recv(65536)
                        self.assertTrue(data, "closed early")
                        got += len(data)
                    # While that stream is open and stalled, another connection is served.
                    if i % 5 == 0:
                        self.assert_server_works()
                # Closed with unread bytes: the kernel resets the connection.
                self.assert_server_works()
        self.assertTrue(
            self.wait_until(lambda: fd_count(self.pid) <= fds_before, 5),
            "server fds: %d before, %d after" % (fds_before, fd_count(self.pid)),
        )
        after = rss_bytes(self.pid)
        report(
            "20 vanished 10 GiB streams: fds %d -> %d, RSS %s, after %.1f MiB"
            % (fds_before, fd_count(self.pid), rss.describe(), after / MIB)
        )
        if rss_bounds_apply():
            self.assertLess(rss.growth, 16 * MIB, rss.describe())
            self.assertLess(after - rss.baseline, 8 * MIB, rss.describe())


# -- 7, 8: large uploads and 100-continue -----------------------------------------------------


def framed_chunks(piece):
    """The 26 chunked-encoded pieces of `piece` pattern bytes, one per phase, and the raw data."""
    out = []
    for phase in range(26):
        data = PATTERN[phase : phase + piece]
        out.append((b"%x\r\n" % piece + data + b"\r\n", data))
    return out


class UploadTest(StreamingTestCase):
    def upload(self, total, chunked_encoding, piece=MIB):
        """Streams `total` pattern bytes to /upload-digest, generating and hashing them on the
        fly; returns (response JSON, client-side sha256 hex, RssSampler)."""
        framed = framed_chunks(piece)
        h = hashlib.sha256()
        with self.server.connect(timeout=60) as s, RssSampler(self.pid) as rss:
            if chunked_encoding:
                send_request(s, "POST", "/upload-digest", ["Transfer-Encoding: chunked"])
            else:
                send_request(s, "POST", "/upload-digest", ["Content-Length: %d" % total])
            at = 0
            while at < total:
                n = min(piece, total - at)
                wire, data = framed[at % 26]
                if n != piece:
                    data = pattern_slice(n, at)
                    wire = b"%x\r\n" % n + data + b"\r\n"
                h.update(data)
                s.sendall(wire if chunked_encoding else data)
                at += n
            if chunked_encoding:
                s.sendall(b"0\r\n\r\n")
            resp = StreamReader(s, 60).read_any()
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/json")
        return json.loads(resp.body), h.hexdigest(), rss

    def test_two_gib_chunked_upload(self):
        start = time.monotonic()
        answer, sha, rss = self.upload(2 * GIB, chunked_encoding=True)
        elapsed = time.monotonic() - start
        report("2 GiB chunked upload: %.1f s, server RSS %s" % (elapsed, rss.describe()))
        self.assertEqual(answer, {"bytes": 2 * GIB, "sha256": sha})
        if rss_bounds_apply():
            self.assertLess(rss.growth, RSS_GROWTH_LIMIT, rss.describe())

    def test_content_length_upload(self):
        total = 256 * MIB + 13
        start = time.monotonic()
        answer, sha, rss = self.upload(total, chunked_encoding=False)
        report(
            "256 MiB Content-Length upload: %.1f s, server RSS %s"
            % (time.monotonic() - start, rss.describe())
        )
        self.assertEqual(answer, {"bytes": total, "sha256": sha})
        if rss_bounds_apply():
            self.assertLess(rss.growth, RSS_GROWTH_LIMIT, rss.describe())

    def test_small_uploads_odd_chunks(self):
        data = os.urandom(200_000)
        cases = [
            ("empty length", ["Content-Length: 0"], b"", b""),
            ("empty chunked", ["Transfer-Encoding: chunked"], chunked([]), b""),
            ("length", ["Content-Length: %d" % len(data)], data, data),
            (
                "odd chunks",
                ["Transfer-Encoding: chunked"],
                chunked([data[:1], data[1:8], data[8:70000], data[70000:70001], data[70001:]]),
                data,
            ),
        ]
        for name, headers, wire, payload in cases:
            with self.subTest(name):
                resp = self.fetch("/upload-digest", "POST", headers, wire)
                self.assertEqual(resp.status, 200)
                self.assertEqual(json.loads(resp.body), digest_of(payload))

    def test_expect_100_continue_raw(self):
        body = os.urandom(3 * MIB + 5)
        for framing in ("length", "chunked"):
            with self.subTest(framing=framing), self.server.connect(timeout=10) as s:
                headers = ["Expect: 100-continue"]
                if framing == "length":
                    headers.append("Content-Length: %d" % len(body))
                    wire = body
                else:
                    headers.append("Transfer-Encoding: chunked")
                    wire = chunked([body[: MIB], body[MIB:]])
                send_request(s, "POST", "/upload-digest", headers)
                # Nothing but the interim answer before the body is sent.
                reader = StreamReader(s, 10)
                version, status, reason, _ = reader.read_head()
                self.assertEqual((version, status, reason), ("HTTP/1.1", 100, "Continue"))
                self.assertEqual(reader.buf, b"")
                s.sendall(wire)
                resp = reader.read_any()
                self.assertEqual(resp.status, 200)
                self.assertEqual(json.loads(resp.body), digest_of(body))
                # The connection stays usable.
                send_request(s, "GET", "/plaintext")
                self.assertEqual(reader.read_any().body, b"Hello, World!")

    def test_chunked_end_split_across_reads(self):
        # The last chunk and the trailer section arrive in pieces, each after a pause: the
        # streamed reader must wait for the rest, not spin on the part it cannot use yet.
        splits = [
            [b"5\r\nhello\r\n0\r\n\r", b"\n"],
            [b"5\r\nhello\r\n0\r\nX-T: 1\r\n", b"\r\n"],
            [b"5\r\nhello\r\n0", b"\r\nX-T", b": 1\r", b"\n\r\n"],
        ]
        for pieces in splits:
            with self.subTest(pieces=pieces), self.server.connect(timeout=10) as s:
                send_request(s, "POST", "/upload-digest", ["Transfer-Encoding: chunked"])
                for piece in pieces:
                    s.sendall(piece)
                    time.sleep(0.1)
                reader = StreamReader(s, 10)
                resp = reader.read_any()
                self.assertEqual(resp.status, 200)
                self.assertEqual(json.loads(resp.body), digest_of(b"hello"))
                send_request(s, "GET", "/plaintext")  # the worker and the connection carry on
                self.assertEqual(reader.read_any().body, b"Hello, World!")

    def test_expect_100_continue_with_body_already_sent(self):
        # A client that does not wait: no 100 is required, the answer must still be right.
        body = os.urandom(100_000)
        with self.server.connect(timeout=10) as s:
            send_request(
                s,
                "POST",
                "/upload-digest",
                ["Expect: 100-continue", "Content-Length: %d" % len(body)],
                body,
            )
            resp = StreamReader(s, 10).read_any()
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(resp.body), digest_of(body))

    def test_expect_100_continue_curl(self):
        with tempfile.NamedTemporaryFile(prefix="wharf-upload-") as f:
            body = os.urandom(2 * MIB + 1)
            f.write(body)
            f.flush()
            start = time.monotonic()
            r = subprocess.run(
                [
                    "curl",
                    "-sS",
                    "-v",
                    "--http1.1",
                    "--expect100-timeout",
                    "20",
                    "-H",
                    "Expect: 100-continue",
                    "-H",
                    "Content-Type: application/octet-stream",
                    "--data-binary",
                    "@" + f.name,
                    *self.server.curl_args(),
                    self.server.url("/upload-digest"),
                ],
                capture_output=True,
                timeout=60,
            )
            elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        stderr = r.stderr.decode("latin-1")
        self.assertIn("Expect: 100-continue", stderr)
        self.assertIn("< HTTP/1.1 100 Continue", stderr)
        # curl went on because of the 100, not because its 20 s wait ran out.
        self.assertLess(elapsed, 15)
        self.assertEqual(json.loads(r.stdout), digest_of(body))


# -- 9: pipelining around streams -------------------------------------------------------------


class PipelineAroundStreamsTest(StreamingTestCase):
    def test_pipelined_behind_streamed_upload_and_response(self):
        up1 = os.urandom(100_000)
        up2 = os.urandom(5 * MIB + 3)
        up3 = os.urandom(3000)
        steps = [
            (request_bytes("POST", "/upload-digest", ["Content-Length: %d" % len(up1)], up1),
             "json", digest_of(up1)),
            (request_bytes("GET", "/stream?chunks=3&size=1000&delay_ms=20"), "body", pattern(3000)),
            (request_bytes("GET", "/plaintext"), "body", b"Hello, World!"),
            (request_bytes("POST", "/upload-digest", ["Transfer-Encoding: chunked"],
                           chunked([up3[:1000], up3[1000:]])), "json", digest_of(up3)),
            (request_bytes("GET", "/bytes?n=12345"), "body", pattern(12345)),
            (request_bytes("POST", "/upload-digest", ["Content-Length: %d" % len(up2)], up2),
             "json", digest_of(up2)),
            (request_bytes("GET", "/gather?parts=10&size=3"), "body", pattern(30)),
            (request_bytes("HEAD", "/bytes?n=5"), "head", "5"),
            (request_bytes("GET", "/stream?chunks=2&size=5"), "body", pattern(10)),
            (request_bytes("POST", "/echo", ["Content-Length: 4"], b"done"), "body", b"done"),
        ]
        with self.server.connect(timeout=20) as s:
            sender = threading.Thread(target=s.sendall, args=(b"".join(w for w, _, _ in steps),))
            sender.start()
            reader = StreamReader(s, 20)
            for i, (_, kind, want) in enumerate(steps):
                with self.subTest(step=i):
                    resp = reader.read_any(head_request=kind == "head")
                    self.assertIsNotNone(resp, "EOF before response %d" % i)
                    self.assertEqual(resp.status, 200, resp)
                    if kind == "json":
                        self.assertEqual(json.loads(resp.body), want)
                    elif kind == "head":
                        self.assertEqual(resp.header("Content-Length"), want)
                    else:
                        self.assertEqual(resp.body, want)
            sender.join()
            # Still open, nothing extra.
            send_request(s, "GET", "/plaintext")
            self.assertEqual(reader.read_any().body, b"Hello, World!")
            self.assertEqual(reader.buf, b"")

    def test_requests_after_streams_on_one_connection(self):
        with self.server.connect(timeout=10) as s:
            reader = StreamReader(s, 10)
            for round_ in range(3):
                send_request(s, "GET", "/stream?chunks=4&size=333&delay_ms=5")
                resp = reader.read_any()
                self.assertEqual(resp.chunks, [333] * 4)
                self.assertEqual(resp.body, pattern(1332))
                body = os.urandom(70_000 + round_)
                send_request(s, "POST", "/upload-digest", ["Transfer-Encoding: chunked"],
                             chunked([body[:5], body[5:]]))
                self.assertEqual(json.loads(reader.read_any().body), digest_of(body))
                send_request(s, "GET", "/bytes?n=%d" % (65536 * 3 + round_))
                self.assertEqual(reader.read_any().body, pattern(65536 * 3 + round_))


if __name__ == "__main__":
    unittest.main()
