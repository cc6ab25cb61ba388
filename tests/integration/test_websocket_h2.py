# SPDX-License-Identifier: MIT
"""WebSocket over HTTP/2 (RFC 8441): the same /ws/echo and /ws/chat on an extended CONNECT
stream, over h2c and over h2 on TLS.

The server announces SETTINGS_ENABLE_CONNECT_PROTOCOL; a CONNECT with :protocol websocket gets a
200 without END_STREAM, and the stream's DATA then carries WebSocket frames both ways, under the
stream's flow control. Frames are written and read by hand (ws_frames) inside DATA frames
(h2_client), so every byte on the wire is the test's.
"""

import os
import signal
import struct
import time
import unittest
import zlib

from h2_client import CANCEL, DATA, H2Client, NO_ERROR
from tls_certs import certs
from wharf_server import SharedServerTestCase, WharfServer
import ws_frames
from ws_frames import BINARY, CLOSE, PING, PONG, TEXT, close_frame, deflate_message, frame

SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8


class H2WebSocket(ws_frames.Connection):
    """One WebSocket on stream `sid` of `client`: frames in DATA out, the server's frames read
    from the stream's DATA as it comes."""

    def __init__(self, client, sid, response):
        super().__init__(None, response)
        self.client = client
        self.sid = sid

    def send(self, data, end_stream=False):
        self.client.send_data(self.sid, data, end_stream=end_stream)

    def _fill(self, n):
        s = self.client.stream(self.sid)
        deadline = time.monotonic() + self.client.timeout
        while len(self.buf) < n:
            if s.data:
                self.buf += bytes(s.data)
                s.data.clear()
                continue
            if s.done:
                raise EOFError("stream ended with %d bytes buffered (reset=%r)" %
                               (len(self.buf), s.reset))
            self.client.read_one(deadline)

    def stream_ended(self, timeout=5.0):
        """True once the server ended its side (END_STREAM) or reset the stream."""
        s = self.client.stream(self.sid)
        try:
            self.client.read_until(lambda: s.done, timeout)
        except AssertionError:
            return False
        return True


class ExtendedConnect:
    """Opening WebSockets with an extended CONNECT (a mixin for the test cases)."""

    def connect(self, c, path="/ws/echo", extra=(), version="13", protocol="websocket",
                scheme=None):
        """Sends an extended CONNECT; returns (stream id, response stream)."""
        scheme = scheme or ("https" if c.sock.__class__.__name__ == "SSLSocket" else "http")
        sid = c.new_stream_id()
        fields = [(":method", "CONNECT"), (":protocol", protocol), (":scheme", scheme),
                  (":path", path), (":authority", "localhost")]
        if version is not None:
            fields.append(("sec-websocket-version", version))
        fields += list(extra)
        c.send_headers(sid, fields, end_stream=False)
        s = c.stream(sid)
        c.read_until(lambda: s.headers is not None or s.done)
        return sid, s

    def open(self, c, path="/ws/echo", extra=()):
        sid, s = self.connect(c, path, extra)
        self.assertEqual(s.status, 200, s)
        self.assertFalse(s.headers_end_stream, "a 2xx to CONNECT must leave the stream open")
        return H2WebSocket(c, sid, s)


class WebSocketOverHttp2(ExtendedConnect, SharedServerTestCase):
    WORKERS = 1

    @classmethod
    def setUpClass(cls):
        cls.EXTRA_ARGS = certs().server_args()
        super().setUpClass()

    def clients(self):
        """An h2c client and an h2-on-TLS client, each closed after the test."""
        out = []
        for make in (lambda: H2Client.h2c(self.server.port),
                     lambda: H2Client.tls(self.server.tls_port, certs().ca)):
            c = make()
            self.addCleanup(c.close)
            out.append(c)
        return out

    # -- the handshake -------------------------------------------------------------------------

    def test_settings_enable_connect_protocol(self):
        for c in self.clients():
            self.assertEqual(c.wait_settings().get(SETTINGS_ENABLE_CONNECT_PROTOCOL), 1)

    def test_200_without_accept_or_upgrade_fields(self):
        for c in self.clients():
            sid, s = self.connect(c)
            self.assertEqual(s.status, 200)
            names = {k for k, _ in s.headers}
            for banned in ("sec-websocket-accept", "upgrade", "connection", "content-length",
                           "transfer-encoding"):
                self.assertNotIn(banned, names)
            c.rst(sid)

    def test_refusals(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        # No version, another version, another protocol, a plain GET: 400, stream ended.
        for kw in ({"version": None}, {"version": "8"}, {"protocol": "chat"}):
            sid, s = self.connect(c, **kw)
            c.wait_stream(sid)
            self.assertEqual(s.status, 400, (kw, s))
            self.assertEqual(s.header("sec-websocket-version"), "13")
        st = c.get("/ws/echo")
        self.assertEqual(st.status, 400)
        # An extended CONNECT elsewhere is not a WebSocket.
        sid, s = self.connect(c, path="/plaintext")
        c.wait_stream(sid)
        self.assertNotEqual(s.status, 200)
        # The connection still works.
        self.assertEqual(c.get("/plaintext").status, 200)

    def test_subprotocol_and_deflate_offer(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        sid, s = self.connect(c, extra=[("sec-websocket-extensions",
                                         "permessage-deflate; client_max_window_bits")])
        self.assertEqual(s.status, 200)
        self.assertIn("permessage-deflate", s.header("sec-websocket-extensions", ""))
        ws = H2WebSocket(c, sid, s)
        ws.send(frame(TEXT, deflate_message(b"x" * 2000), rsv=4))
        fin, rsv, op, payload = ws.recv_frame()
        self.assertEqual(op, TEXT)
        self.assertEqual(rsv, 4, "a 2000-byte echo comes back compressed")
        d = zlib.decompressobj(-15)
        self.assertEqual(d.decompress(payload + b"\x00\x00\xff\xff"), b"x" * 2000)

    # -- messages ------------------------------------------------------------------------------

    def test_echo_text_binary_ping_close(self):
        for c in self.clients():
            ws = self.open(c)
            ws.send(frame(TEXT, "hello over h2"))
            self.assertEqual(ws.recv_message(), (TEXT, b"hello over h2"))
            ws.send(frame(BINARY, b"\x00\x01\x02"))
            self.assertEqual(ws.recv_message(), (BINARY, b"\x00\x01\x02"))
            ws.send(frame(PING, b"p"))
            self.assertEqual(ws.recv_message(), (PONG, b"p"))
            ws.send(close_frame(1000, b"bye"))
            self.assertEqual(ws.expect_close(), 1000)
            ws.send(b"", end_stream=True)
            self.assertTrue(ws.stream_ended())
            s = c.stream(ws.sid)
            self.assertTrue(s.ended and s.reset is None, s)
            self.assertEqual(c.get("/plaintext").status, 200)

    def test_large_messages_both_ways_under_flow_control(self):
        # 1 MiB each way: the 64 KiB windows open as each side reads.
        for c in self.clients():
            ws = self.open(c)
            big = os.urandom(1 << 20)
            ws.send(frame(BINARY, big))
            op, payload = ws.recv_message()
            self.assertEqual(op, BINARY)
            self.assertEqual(payload, big)

    def test_protocol_error_closes_with_1002_and_ends_the_stream(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        ws = self.open(c)
        ws.send(frame(TEXT, "unmasked", mask=False))
        self.assertEqual(ws.expect_close(), 1002)
        self.assertTrue(ws.stream_ended())
        self.assertEqual(c.get("/plaintext").status, 200)

    def test_many_websockets_beside_requests_on_one_connection(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        sockets = [self.open(c) for _ in range(20)]
        for i, ws in enumerate(sockets):
            ws.send(frame(TEXT, "n%d" % i))
        self.assertEqual(c.get("/plaintext").status, 200)
        for i, ws in enumerate(sockets):
            self.assertEqual(ws.recv_message(), (TEXT, b"n%d" % i))
        for ws in sockets:
            ws.send(close_frame(1000))
            self.assertEqual(ws.expect_close(), 1000)

    def test_client_reset_frees_the_websocket(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        for _ in range(50):
            ws = self.open(c)
            ws.send(frame(TEXT, "x"))
            c.rst(ws.sid, CANCEL)
        self.assertEqual(c.get("/plaintext").status, 200)
        ws = self.open(c)
        ws.send(frame(TEXT, "still here"))
        self.assertEqual(ws.recv_message(), (TEXT, b"still here"))

    def test_chat_between_http1_and_http2_members(self):
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        a = self.open(c, "/ws/chat")
        b = self.open(c, "/ws/chat")
        time.sleep(0.2)  # both subscribed (on_open runs on the loop after the 200)
        a.send(frame(TEXT, "from a"))
        self.assertEqual(a.recv_message(), (TEXT, b"from a"))
        self.assertEqual(b.recv_message(), (TEXT, b"from a"))

    def test_client_end_stream_is_its_fin(self):
        # END_STREAM without a close frame: the WebSocket ends as a TCP FIN would end it
        # (1006 for the application) and the server ends its side.
        c = H2Client.h2c(self.server.port)
        self.addCleanup(c.close)
        ws = self.open(c)
        ws.send(b"", end_stream=True)
        self.assertTrue(ws.stream_ended())
        self.assertEqual(c.get("/plaintext").status, 200)


class WebSocketOverHttp2Shutdown(ExtendedConnect, unittest.TestCase):
    def test_graceful_shutdown_closes_with_1001_then_goaway(self):
        srv = WharfServer(workers=1)
        srv.start()
        try:
            c = H2Client.h2c(srv.port)
            self.addCleanup(c.close)
            ws = self.open(c)
            ws.send(frame(TEXT, "before"))
            self.assertEqual(ws.recv_message(), (TEXT, b"before"))
            srv.proc.send_signal(signal.SIGTERM)
            self.assertEqual(ws.expect_close(), 1001)
            ws.send(close_frame(1001), end_stream=True)
            self.assertTrue(ws.stream_ended())
            self.assertEqual(srv.proc.wait(timeout=10), 0)
            self.assertIsNotNone(c.goaway)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
