# SPDX-License-Identifier: MIT
"""`wharf serve` over raw sockets: pipelining, connection management, malformed requests,
chunked bodies, many connections and slow clients."""

import json
import socket
import threading
import time
import unittest

from wharf_server import SITE_FILES, ResponseReader, SharedServerTestCase, WharfServer, exchange, get, wait_closed


class RawTestCase(SharedServerTestCase):
    def assert_server_works(self):
        resp = get(self.server.port, "/plaintext")
        self.assertIsNotNone(resp)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"Hello, World!")


class PipelineTest(RawTestCase):
    def test_fifty_pipelined_requests_in_one_send(self):
        reqs = []
        for i in range(50):
            path = "/plaintext" if i % 2 == 0 else "/json"
            reqs.append(("GET %s?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % (path, i)).encode())
        with self.server.connect() as s:
            s.sendall(b"".join(reqs))
            reader = ResponseReader(s)
            for i in range(50):
                resp = reader.read_response()
                self.assertIsNotNone(resp, "EOF before response %d" % i)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
                if i % 2 == 0:
                    self.assertEqual(resp.header("Content-Type"), "text/plain")
                    self.assertEqual(resp.body, b"Hello, World!", "response %d out of order" % i)
                else:
                    self.assertEqual(resp.header("Content-Type"), "application/json")
                    self.assertEqual(json.loads(resp.body), {"message": "Hello, World!"})
            # Nothing extra, and the connection stays open for more.
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(reader.read_response().body, b"Hello, World!")
            self.assertEqual(reader.buf, b"")

    def test_pipelined_posts_and_gets(self):
        bodies = [("body-%d-" % i).encode() * (i + 1) for i in range(20)]
        data = b""
        for b in bodies:
            data += b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            data += b"Content-Length: %d\r\n\r\n" % len(b) + b
            data += b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
        with self.server.connect() as s:
            # Byte by byte for the first few hundred bytes: splits land everywhere.
            for i in range(300):
                s.send(data[i : i + 1])
            s.sendall(data[300:])
            reader = ResponseReader(s)
            for b in bodies:
                self.assertEqual(reader.read_response().body, b)
                head = reader.read_response(head_request=True)
                self.assertEqual(head.status, 200)
                self.assertEqual(head.header("Content-Length"), "13")


class ConnectionManagementTest(RawTestCase):
    def test_http10_closes_by_default(self):
        with self.server.connect() as s:
            s.sendall(b"GET /plaintext HTTP/1.0\r\n\r\n")
            reader = ResponseReader(s)
            resp = reader.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"Hello, World!")
            self.assertEqual((resp.header("Connection") or "").lower(), "close")
            self.assertTrue(reader.eof or wait_closed(s, 3), "HTTP/1.0 connection left open")

    def test_http10_keep_alive(self):
        with self.server.connect() as s:
            reader = ResponseReader(s)
            for _ in range(3):
                s.sendall(b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                resp = reader.read_response()
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, b"Hello, World!")
                self.assertEqual((resp.header("Connection") or "").lower(), "keep-alive")
            s.sendall(b"GET /json HTTP/1.0\r\n\r\n")
            resp = reader.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual((resp.header("Connection") or "").lower(), "close")
            self.assertTrue(wait_closed(s, 3))

    def test_http11_connection_close(self):
        with self.server.connect() as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reader = ResponseReader(s)
            resp = reader.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.header("Connection"), "close")
            s.settimeout(3)
            self.assertEqual(reader.buf, b"")
            self.assertEqual(s.recv(100), b"", "server did not close after Connection: close")

    def test_requests_after_connection_close_are_ignored(self):
        with self.server.connect() as s:
            s.sendall(
                b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n"
                b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            reader = ResponseReader(s)
            self.assertEqual(reader.read_response().body, b"Hello, World!")
            self.assertIsNone(reader.read_response(), "answered a request after Connection: close")

    def test_http11_default_keep_alive(self):
        with self.server.connect() as s:
            reader = ResponseReader(s)
            for _ in range(5):
                s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                resp = reader.read_response()
                self.assertEqual(resp.status, 200)
                self.assertIsNone(resp.header("Connection"))
            self.assertFalse(wait_closed(s, 0.3))

    def test_half_close_after_a_pause(self):
        with self.server.connect() as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            reader = ResponseReader(s, timeout=5)
            self.assertEqual(reader.read_response().body, b"Hello, World!")
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(wait_closed(s, 3), "server did not close after the client's FIN")

    def test_half_close_still_gets_response(self):
        with self.server.connect() as s:
            # Corked: the request and the FIN leave in one segment and arrive together.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            reader = ResponseReader(s)
            resp = reader.read_response()
            self.assertIsNotNone(resp, "no response after half-close")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"Hello, World!")
            self.assertTrue(
                reader.eof or wait_closed(s, 3),
                "server did not close a half-closed connection after its answer",
            )

    def test_half_close_pipelined(self):
        with self.server.connect() as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            s.sendall(
                b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" * 3
                + b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
            )
            s.shutdown(socket.SHUT_WR)
            reader = ResponseReader(s, timeout=5)
            for _ in range(3):
                self.assertEqual(reader.read_response().body, b"Hello, World!")
            self.assertEqual(reader.read_response().body, b"body")
            try:
                self.assertIsNone(reader.read_response(), "response to nothing")
            except socket.timeout:
                self.fail("server did not close a half-closed connection after its answers")

    def test_leading_empty_lines_ignored(self):
        resp, _ = exchange(
            self.server.port, b"\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", close_wait=0
        )
        self.assertEqual(resp.status, 200)

    def test_absolute_form(self):
        resp, closed = exchange(
            self.server.port,
            b"GET http://example/plaintext HTTP/1.1\r\nHost: example\r\n\r\n",
            close_wait=0.3,
        )
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"Hello, World!")
        self.assertFalse(closed)


# name, request bytes, expected status, whether the connection must be closed afterwards
# (None: either is fine).
MALFORMED = [
    ("bare LF line ends", b"GET /plaintext HTTP/1.1\nHost: x\n\n", 400, True),
    ("bare LF after headers", b"GET /plaintext HTTP/1.1\r\nHost: x\n\r\n", 400, True),
    ("bare CR", b"GET /plaintext HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400, True),
    ("obs-fold", b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n", 400, True),
    ("space before colon", b"GET /plaintext HTTP/1.1\r\nHost : x\r\n\r\n", 400, True),
    ("empty field name", b"GET /plaintext HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400, True),
    (
        "CL + TE",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        True,
    ),
    (
        "two different CL",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
        True,
    ),
    (
        "CL list disagreeing",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!",
        400,
        True,
    ),
    ("negative CL", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, True),
    (
        "CL with sign",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
        400,
        True,
    ),
    ("empty CL", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400, True),
    (
        "TE gzip (final coding not chunked)",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
        True,
    ),
    (
        "TE chunked, gzip",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        400,
        True,
    ),
    (
        "TE gzip, chunked",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
        True,
    ),
    (
        "TE in HTTP/1.0",
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        True,
    ),
    (
        "bad chunk size",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nhello\r\n0\r\n\r\n",
        400,
        True,
    ),
    (
        "chunk data longer than its size",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nhello\r\n0\r\n\r\n",
        400,
        True,
    ),
    (
        "huge chunk size",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"ffffffffffffffffffff\r\n",
        400,
        True,
    ),
    (
        "chunk size over the body limit",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000\r\n",
        413,
        True,
    ),
    ("missing Host on 1.1", b"GET /plaintext HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, True),
    ("two Hosts", b"GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, True),
    ("Host with a slash", b"GET /plaintext HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, True),
    ("NUL in header value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, True),
    ("DEL in header value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", 400, True),
    ("control char in name", b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX\x01A: b\r\n\r\n", 400, True),
    (
        "request line > 8 KiB",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
        True,
    ),
    (
        "endless request line",
        b"GET /" + b"a" * 20000,
        414,
        True,
    ),
    (
        "200 header fields",
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
        + b"\r\n",
        431,
        True,
    ),
    (
        "header block > 32 KiB",
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 1000) for i in range(40))
        + b"\r\n",
        431,
        True,
    ),
    (
        "endless header block",
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * 40000,
        431,
        True,
    ),
    (
        "body with CL > 8 MiB",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (9 * 1024 * 1024),
        413,
        True,
    ),
    (
        "CL too long to parse",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        400,
        True,
    ),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, True),
    ("HTTP/3.0 request line", b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, True),
    ("lowercase http version", b"GET / http/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("HTTP/1.10", b"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400, True),
    ("missing version", b"GET /plaintext\r\nHost: x\r\n\r\n", 400, True),
    ("two spaces after method", b"GET  /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("invalid method chars", b"G@T /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("method with a slash", b"GET/ /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("space in target", b"GET /plain text HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("control char in target", b"GET /plain\x01text HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("bad percent-encoding", b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("encoded NUL in path", b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("relative target", b"GET plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400, True),
    ("asterisk target on GET", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
    ("Expect: something-else", b"GET / HTTP/1.1\r\nHost: x\r\nExpect: x-y\r\n\r\n", 417, True),
    # A well-formed request with an unknown method: the connection may stay open.
    ("unknown method FOO", b"FOO /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 501, None),
    ("lowercase method", b"get /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 501, None),
    ("CONNECT", b"CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n", 501, None),
]


class MalformedRequestTest(RawTestCase):
    def test_malformed_requests(self):
        for name, data, status, must_close in MALFORMED:
            with self.subTest(name):
                resp, closed = exchange(self.server.port, data, close_wait=3.0 if must_close else 0)
                self.assertIsNotNone(resp, "no response (connection just closed)")
                self.assertEqual(resp.status, status, repr(resp))
                self.assertEqual(resp.version, "HTTP/1.1")
                self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
                if must_close:
                    self.assertEqual(resp.header("Connection"), "close")
                    self.assertTrue(closed, "connection left open after %d" % status)
                # The server is unharmed: a new connection works.
                self.assert_server_works()

    def test_error_then_pipelined_request_not_answered(self):
        # After a framing error nothing behind it may be taken as a request (smuggling).
        data = (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\n"
            b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        with self.server.connect() as s:
            s.sendall(data)
            reader = ResponseReader(s)
            self.assertEqual(reader.read_response().status, 400)
            self.assertIsNone(reader.read_response())

    def test_unknown_method_keeps_connection_usable(self):
        with self.server.connect() as s:
            s.sendall(
                b"FOO /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            reader = ResponseReader(s)
            self.assertEqual(reader.read_response().status, 501)
            self.assertEqual(reader.read_response().body, b"Hello, World!")

    def test_exactly_at_limits_is_accepted(self):
        # 100 fields is the limit, not over it.
        data = (
            b"GET /headers HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(99))
            + b"\r\n"
        )
        resp, _ = exchange(self.server.port, data, close_wait=0)
        self.assertEqual(resp.status, 200)
        self.assertEqual(len(json.loads(resp.body)), 100)
        # An 8 KiB request line (method + target + version) is accepted.
        target = b"/plaintext?" + b"q" * (8 * 1024 - len(b"GET /plaintext? HTTP/1.1"))
        line = b"GET " + target + b" HTTP/1.1"
        self.assertEqual(len(line), 8 * 1024)
        resp, _ = exchange(self.server.port, line + b"\r\nHost: x\r\n\r\n", close_wait=0)
        self.assertEqual(resp.status, 200)


class RejectAfterGoodRequestTest(unittest.TestCase):
    """A head rejected early (bad method, empty method, endless request line) on a connection
    that already served a request: the answer must not depend on the previous request. Each
    test has its own server, so one crash does not hide the others."""

    def setUp(self):
        self.server = WharfServer(workers=1)
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def tearDown(self):
        self.server.stop()

    assert_server_works = RawTestCase.assert_server_works

    def check(self, first, second, status):
        with self.server.connect() as s:
            reader = ResponseReader(s, timeout=5)
            s.sendall(first)
            first_resp = reader.read_response(head_request=first.startswith(b"HEAD"))
            self.assertEqual(first_resp.status, 200)
            time.sleep(0.1)  # let the server go idle (and recycle its receive buffer)
            try:
                s.sendall(second)
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = reader.read_response()
            self.assertIsNotNone(resp, "connection closed without an answer")
            self.assertEqual(resp.status, status)
            self.assertEqual(resp.header("Connection"), "close")
            self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.stderr())
        self.assert_server_works()

    def test_bad_method_after_small_request(self):
        self.check(
            b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
            b"G@T /x HTTP/1.1\r\nHost: x\r\n\r\n",
            400,
        )

    def test_empty_method_after_head_request(self):
        # After HEAD, a stale method would also drop the error page's body.
        self.check(
            b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", b" / HTTP/1.1\r\nHost: x\r\n\r\n", 400
        )

    def test_endless_request_line_after_request(self):
        self.check(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /" + b"a" * 20000, 414)

    def test_bad_method_after_large_body(self):
        # The 1 MiB body grows the receive buffer, which is freed once the connection is idle.
        body = b"x" * (1 << 20)
        first = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.check(first, b"G@T /x HTTP/1.1\r\nHost: x\r\n\r\n", 400)

    def test_endless_request_line_after_large_body(self):
        body = b"y" * (1 << 20)
        first = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.check(first, b"GET /" + b"a" * 20000, 414)


# name, request bytes, expected status, expected body (None: not checked). All valid HTTP/1.1
# that a strict parser must still accept.
UNUSUAL_BUT_VALID = [
    ("identical Content-Length list",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 200, b"hello"),
    ("repeated identical Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
     200, b"hello"),
    ("empty Host", b"GET /plaintext HTTP/1.1\r\nHost:\r\n\r\n", 200, b"Hello, World!"),
    ("whitespace around values", b"GET /plaintext HTTP/1.1\r\nHost: \t x \t\r\n\r\n", 200, None),
    ("obs-text in a value", b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n", 200,
     b"Hello, World!"),
    ("field name case", b"GET /plaintext HTTP/1.1\r\nhOsT: x\r\n\r\n", 200, b"Hello, World!"),
    ("Transfer-Encoding in capitals",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     200, b"abc"),
    ("upper-case chunk size",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"A\r\n0123456789\r\n0\r\n\r\n", 200, b"0123456789"),
    ("zero-padded chunk size",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0003\r\nabc\r\n000\r\n\r\n", 200, b"abc"),
    ("empty chunked body",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, b""),
    ("Content-Length: 0", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 200, b""),
    ("HTTP/1.0 body", b"POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 200, b"abc"),
    ("query on a static file", b"GET /hello.txt?v=1&x HTTP/1.1\r\nHost: x\r\n\r\n", 200,
     b"Hello from a static file.\n"),
    (
        "percent-encoded letters",
        b"GET /%70laintext HTTP/1.1\r\nHost: x\r\n\r\n",
        200,
        b"Hello, World!",
    ),
    ("absolute form with port and query",
     b"GET http://example:8080/plaintext?a=1 HTTP/1.1\r\nHost: example:8080\r\n\r\n", 200,
     b"Hello, World!"),
    ("absolute form without a path", b"GET http://example HTTP/1.1\r\nHost: example\r\n\r\n", 200,
     None),
    ("Upgrade request answered normally",
     b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 200,
     b"Hello, World!"),
]


class UnusualButValidTest(RawTestCase):
    def test_accepted(self):
        for name, data, status, body in UNUSUAL_BUT_VALID:
            with self.subTest(name):
                resp, _ = exchange(self.server.port, data, close_wait=0)
                self.assertIsNotNone(resp)
                self.assertEqual(resp.status, status, repr(resp))
                if body is not None:
                    self.assertEqual(resp.body, body)

    def test_connection_close_any_case(self):
        resp, closed = exchange(
            self.server.port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n"
        )
        self.assertEqual(resp.header("Connection"), "close")
        self.assertTrue(closed)


class BackPressureTest(RawTestCase):
    def test_many_pipelined_requests_while_reading_slowly(self):
        # ~3 MB of answers: more than the socket buffers hold while nobody reads, so the
        # server has to stop reading requests until its output drains.
        n = 20000
        data = b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n" * n
        with self.server.connect(timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            time.sleep(0.3)  # the server fills our small receive window and must pause
            reader = ResponseReader(s, timeout=30)
            for i in range(n):
                resp = reader.read_response()
                self.assertIsNotNone(resp, "EOF at response %d" % i)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, b'{"message":"Hello, World!"}')
            sender.join(30)
            self.assertFalse(sender.is_alive())

    def test_large_responses_pipelined(self):
        size = len(SITE_FILES["blob.bin"])
        with self.server.connect(timeout=30) as s:
            s.sendall(b"GET /blob.bin HTTP/1.1\r\nHost: x\r\n\r\n" * 40)
            reader = ResponseReader(s, timeout=30)
            for _ in range(40):
                resp = reader.read_response()
                self.assertEqual(resp.status, 200)
                self.assertEqual(len(resp.body), size)
            self.assertTrue(resp.body == SITE_FILES["blob.bin"])


class ChunkedTest(RawTestCase):
    def test_chunked_body_echoed(self):
        data = (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b"5\r\nHello\r\n"
            b"2;ext=1;other=\"q\"\r\n, \r\n"
            b"A\r\nchunked wo\r\n"
            b"3 ;e\r\nrld\r\n"
            b"1\r\n!\r\n"
            b"0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n"
        )
        with self.server.connect() as s:
            s.sendall(data)
            reader = ResponseReader(s)
            resp = reader.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"Hello, chunked world!")
            self.assertEqual(resp.header("Content-Type"), "text/plain")
            # The connection carries on after the trailer section.
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(reader.read_response().body, b"Hello, World!")

    def test_chunked_body_trickled(self):
        data = (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"
        )
        with self.server.connect() as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                s.send(data[i : i + 1])
                if i % 16 == 0:
                    time.sleep(0.001)
            resp = ResponseReader(s).read_response()
            self.assertEqual(resp.body, b"Wikipedia in\r\n\r\nchunks.")

    def test_chunked_large(self):
        payload = bytes((i * 13) % 256 for i in range(3 * 1024 * 1024 + 17))
        parts = [b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"]
        step = 100_003
        for i in range(0, len(payload), step):
            chunk = payload[i : i + step]
            parts.append(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        parts.append(b"0\r\n\r\n")
        with self.server.connect() as s:
            sender = threading.Thread(target=s.sendall, args=(b"".join(parts),))
            sender.start()
            resp = ResponseReader(s, timeout=30).read_response()
            sender.join()
            self.assertEqual(resp.status, 200)
            self.assertTrue(resp.body == payload, "chunked body differs")

    def test_expect_continue_raw(self):
        with self.server.connect() as s:
            s.sendall(
                b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            reader = ResponseReader(s)
            interim = reader.read_response(skip_interim=False)
            self.assertEqual(interim.status, 100)
            s.sendall(b"hello")
            resp = reader.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"hello")

    def test_expect_continue_with_body_already_sent(self):
        with self.server.connect() as s:
            s.sendall(
                b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Expect: 100-Continue\r\n\r\nhello"
            )
            resp = ResponseReader(s).read_response(skip_interim=False)
            self.assertIn(resp.status, (100, 200))


class ConcurrencyTest(RawTestCase):
    def test_200_connections_5_requests_each(self):
        n_conns, n_reqs = 200, 5
        errors = []
        done = []
        barrier = threading.Barrier(n_conns, timeout=30)

        def client(k):
            try:
                with self.server.connect(timeout=30) as s:
                    barrier.wait()  # every connection open at once
                    reader = ResponseReader(s, timeout=30)
                    for j in range(n_reqs):
                        if j % 2:
                            body = b"client %d request %d" % (k, j)
                            s.sendall(
                                b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                                % len(body)
                                + body
                            )
                            expect = body
                        else:
                            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                            expect = b"Hello, World!"
                        resp = reader.read_response()
                        if resp is None or resp.status != 200 or resp.body != expect:
                            errors.append((k, j, resp))
                            return
                done.append(k)
            except Exception as e:  # noqa: BLE001 - collected and reported below
                errors.append((k, repr(e)))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(n_conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors[:5], [])
        self.assertEqual(len(done), n_conns)


class SlowClientTest(RawTestCase):
    def test_partial_head_gets_408(self):
        # The default request-head deadline is 10 s; the CLI has no flag to shorten it.
        started = time.monotonic()
        with self.server.connect(timeout=20) as partial, self.server.connect(timeout=20) as silent:
            partial.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            reader = ResponseReader(partial, timeout=15)
            resp = reader.read_response()
            elapsed = time.monotonic() - started
            self.assertIsNotNone(resp, "closed without a 408")
            self.assertEqual(resp.status, 408)
            self.assertEqual(resp.header("Connection"), "close")
            self.assertGreater(elapsed, 8.0, "408 came too early")
            self.assertLess(elapsed, 12.5)
            self.assertTrue(reader.eof or wait_closed(partial, 3))
            # A connection that never sends a byte is closed silently by the same deadline.
            silent.settimeout(3)
            self.assertEqual(silent.recv(1024), b"", "silent connection not closed silently")
        self.assert_server_works()


class UriGrammarTest(RawTestCase):
    """Targets with bytes outside the URI grammar and Host values that are not
    uri-host [":" port] get a 400 that says why (RFC 9112 §3.2, RFC 9110 §7.2)."""

    REJECTED = [
        (b"GET /a<b HTTP/1.1\r\nHost: x\r\n\r\n", b"invalid character in request target"),
        (b"GET /a?q={} HTTP/1.1\r\nHost: x\r\n\r\n", b"invalid character in request target"),
        (b"GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", b"invalid character in request target"),
        (b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", b"invalid character in request target"),
        (b"GET /a?q=%4 HTTP/1.1\r\nHost: x\r\n\r\n",
         b"malformed percent-encoding in request target"),
        (b"GET /plaintext HTTP/1.1\r\nHost: host:8x0\r\n\r\n", b"malformed port in Host header"),
        (b"GET /plaintext HTTP/1.1\r\nHost: [::1\r\n\r\n", b"malformed IP literal in Host header"),
        (b"GET http://h:99999/plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
         b"malformed port in the request target"),
    ]

    def test_rejected_with_a_reason(self):
        for data, reason in self.REJECTED:
            with self.subTest(data):
                resp, closed = exchange(self.server.port, data, close_wait=3.0)
                self.assertIsNotNone(resp, "no response (connection just closed)")
                self.assertEqual(resp.status, 400, repr(resp))
                self.assertIn(reason, resp.body)
                self.assertTrue(closed, "connection left open after a 400")
        self.assert_server_works()

    def test_brackets_and_literals_accepted(self):
        for data in (
            b"GET /plaintext?a[]=1&b[x]=2 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /plaintext HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
            b"GET /plaintext HTTP/1.1\r\nHost: [v1.x]\r\n\r\n",
            b"GET http://[::1]:8080/plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        ):
            with self.subTest(data):
                resp, _ = exchange(self.server.port, data, close_wait=0)
                self.assertIsNotNone(resp)
                self.assertEqual(resp.status, 200, repr(resp))
                self.assertEqual(resp.body, b"Hello, World!")


if __name__ == "__main__":
    unittest.main()
