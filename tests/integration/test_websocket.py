# SPDX-License-Identifier: MIT
"""WebSocket (RFC 6455, RFC 7692) against the demo's /ws/echo and /ws/chat: a real client
library (Debian's python3-websockets) and raw frames for what a library would never send.
Plaintext here; TLS when the suite runs with WHARF_TEST_TLS."""
import asyncio
import os
import socket
import struct
import threading
import time
import unittest

from wharf_server import SharedServerTestCase, rss_bytes, wait_for
import tls_certs
import ws_frames as wf
from ws_frames import BINARY, CLOSE, CONT, PING, PONG, TEXT, close_frame, frame

import debian_modules  # noqa: F401  (before websockets)
import websockets


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("EOF before the response head: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def fields_of(head):
    out = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return out


class WebSocketTestCase(SharedServerTestCase):
    WORKERS = 2

    def ws_url(self, path):
        scheme = "wss" if self.server.tls else "ws"
        host = "localhost" if self.server.tls else self.server.host
        return "%s://%s:%d%s" % (scheme, host, self.server.port, path)

    def ws_connect(self, path, **kw):
        if self.server.tls:
            kw["ssl"] = tls_certs.client_context(alpn=None)
        return websockets.connect(self.ws_url(path), max_size=None, **kw)

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, 60))

    def open(self, path="/ws/echo", extra=(), early=b""):
        """A raw connection after its 101."""
        s = self.server.connect()
        request, key = wf.handshake_request(path, extra=extra)
        s.sendall(request + early)
        head, rest = read_head(s)
        self.assertTrue(head.startswith("HTTP/1.1 101 "), head)
        fields = fields_of(head)
        self.assertEqual(fields["upgrade"].lower(), "websocket")
        self.assertEqual(fields["sec-websocket-accept"], accept_for(key))
        return wf.Connection(s, head, rest)

    def refused(self, request):
        s = self.server.connect()
        with s:
            s.sendall(request)
            head, _ = read_head(s)
            return int(head.split(" ")[1]), fields_of(head)

    def assert_closed_with(self, c, code):
        with c.sock:
            self.assertEqual(c.expect_close(), code)
            self.assertTrue(c.closed_after(), "the TCP connection stays open after the close")


def accept_for(key):
    import base64
    import hashlib
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


class HandshakeTest(WebSocketTestCase):
    def test_accept_key_of_rfc_6455(self):
        # RFC 6455 §1.3's example key and answer.
        s = self.server.connect()
        with s:
            request, _ = wf.handshake_request(key="dGhlIHNhbXBsZSBub25jZQ==")
            s.sendall(request)
            head, _ = read_head(s)
            self.assertEqual(fields_of(head)["sec-websocket-accept"],
                             "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            self.assertNotIn("content-length", fields_of(head))

    def test_other_version_is_426_naming_13(self):
        status, fields = self.refused(wf.handshake_request(version="8")[0])
        self.assertEqual(status, 426)
        self.assertEqual(fields["sec-websocket-version"], "13")
        status, fields = self.refused(wf.handshake_request(version=None)[0])
        self.assertEqual(status, 426)
        self.assertEqual(fields["sec-websocket-version"], "13")

    def test_plain_get_is_426_with_upgrade(self):
        # RFC 9110 §15.5.22 and §7.8: Upgrade names the protocol, Connection carries "upgrade".
        status, fields = self.refused(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 426)
        self.assertEqual(fields["upgrade"], "websocket")
        self.assertIn("upgrade", fields["connection"].lower())
        status, fields = self.refused(wf.handshake_request(version="8")[0])
        self.assertEqual((status, fields["upgrade"]), (426, "websocket"))
        self.assertIn("upgrade", fields["connection"].lower())

    def test_head_with_the_upgrade_fields_is_426(self):
        # RFC 6455 §4.1: the handshake is a GET; HEAD reaches GET routes but cannot switch.
        request = wf.handshake_request()[0].replace(b"GET ", b"HEAD ", 1)
        status, fields = self.refused(request)
        self.assertEqual(status, 426)
        self.assertNotIn("sec-websocket-accept", fields)

    def test_bad_keys_are_400(self):
        for key in ["", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==",
                    "dGhlIHNhbXBsZSBub25j!Q==", "dGhlIHNhbXBsZSBub25jZQ==x"]:
            with self.subTest(key=key):
                status, _ = self.refused(wf.handshake_request(key=key)[0])
                self.assertEqual(status, 400)

    def test_two_keys_are_400(self):
        request, _ = wf.handshake_request(extra=["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
        self.assertEqual(self.refused(request)[0], 400)

    def test_post_is_405(self):
        request = wf.handshake_request()[0].replace(b"GET ", b"POST ", 1)
        request = request.replace(b"\r\n\r\n", b"\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(self.refused(request)[0], 405)

    def test_http_1_0_is_400(self):
        request = wf.handshake_request()[0].replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        self.assertEqual(self.refused(request)[0], 400)

    def test_tokens_in_lists_and_any_case(self):
        s = self.server.connect()
        with s:
            request, key = wf.handshake_request()
            request = request.replace(b"Upgrade: websocket", b"Upgrade: foo, WebSocket")
            request = request.replace(b"Connection: Upgrade", b"Connection: keep-alive, upgrade")
            s.sendall(request)
            head, _ = read_head(s)
            self.assertTrue(head.startswith("HTTP/1.1 101 "), head)

    def test_frames_sent_with_the_handshake_are_read(self):
        c = self.open(early=frame(TEXT, "early"))
        with c.sock:
            self.assertEqual(c.recv_message(), (TEXT, b"early"))

    def test_deflate_negotiation(self):
        cases = [
            ("permessage-deflate", "permessage-deflate; server_no_context_takeover"),
            ("permessage-deflate; client_max_window_bits",
             "permessage-deflate; server_no_context_takeover"),
            ("permessage-deflate; client_no_context_takeover",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ("permessage-deflate; server_max_window_bits=10",
             "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
            # An offer zlib cannot honour, then one it can: the second is taken.
            ("permessage-deflate; server_max_window_bits=8, permessage-deflate",
             "permessage-deflate; server_no_context_takeover"),
            ("permessage-deflate; unknown_param", None),
            ("permessage-deflate; server_max_window_bits=16", None),
            ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
            ("x-webkit-deflate-frame", None),
        ]
        for offer, answer in cases:
            with self.subTest(offer=offer):
                c = self.open(extra=["Sec-WebSocket-Extensions: " + offer])
                with c.sock:
                    self.assertEqual(fields_of(c.head).get("sec-websocket-extensions"), answer)


class LibraryClientTest(WebSocketTestCase):
    def test_echo_text_binary_and_large(self):
        async def run():
            async with self.ws_connect("/ws/echo") as ws:
                await ws.send("hello")
                self.assertEqual(await ws.recv(), "hello")
                await ws.send(b"\x00\xffbinary")
                self.assertEqual(await ws.recv(), b"\x00\xffbinary")
                await ws.send("")
                self.assertEqual(await ws.recv(), "")
                big = os.urandom(3 << 20)
                await ws.send(big)
                self.assertEqual(await ws.recv(), big)
                text = "żółw " * 100000
                await ws.send(text)
                self.assertEqual(await ws.recv(), text)
        self.run_async(run())

    def test_compressed_echo(self):
        async def run():
            async with self.ws_connect("/ws/echo", compression="deflate") as ws:
                ext = ws.response_headers.get("Sec-WebSocket-Extensions")
                self.assertIn("permessage-deflate", ext)
                for size in [1, 100, 1000, 100000, 2 << 20]:
                    message = ("wharf " * size)[:size]
                    await ws.send(message)
                    self.assertEqual(await ws.recv(), message)
                random = os.urandom(50000)  # does not shrink: sent uncompressed
                await ws.send(random)
                self.assertEqual(await ws.recv(), random)
        self.run_async(run())

    def test_fragmented_messages_from_the_library(self):
        async def run():
            async with self.ws_connect("/ws/echo") as ws:
                await ws.send(iter(["frag", "ment", "ed"]))
                self.assertEqual(await ws.recv(), "fragmented")
        self.run_async(run())

    def test_ping_gets_pong_and_close_is_clean(self):
        async def run():
            ws = await self.ws_connect("/ws/echo")
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 10)
            await ws.close(code=4000, reason="bye")
            self.assertEqual(ws.close_code, 4000)  # echoed
        self.run_async(run())

    def test_many_messages_in_flight(self):
        async def run():
            async with self.ws_connect("/ws/echo") as ws:
                messages = ["m%d" % i for i in range(5000)]
                for m in messages:
                    await ws.send(m)
                got = [await ws.recv() for _ in messages]
                self.assertEqual(got, messages)
        self.run_async(run())

    def test_chat_reaches_everyone_in_order(self):
        async def run():
            clients = [await self.ws_connect("/ws/chat") for _ in range(6)]
            # Every client is subscribed once its handshake is done; a round trip makes sure.
            for i, c in enumerate(clients):
                await c.send("hello from %d" % i)
            for c in clients:
                got = [await c.recv() for _ in clients]
                self.assertEqual(sorted(got), sorted("hello from %d" % i for i in range(6)))
            # Per sender, order holds (on every worker).
            for n in range(50):
                await clients[0].send("seq %d" % n)
            for c in clients:
                got = [await c.recv() for _ in range(50)]
                self.assertEqual(got, ["seq %d" % n for n in range(50)])
            for c in clients:
                await c.close()
        self.run_async(run())

    def test_chat_refuses_binary(self):
        async def run():
            async with self.ws_connect("/ws/chat") as ws:
                await ws.send(b"bin")
                with self.assertRaises(websockets.ConnectionClosed):
                    await ws.recv()
                self.assertEqual(ws.close_code, 1003)
        self.run_async(run())


class FrameRulesTest(WebSocketTestCase):
    def test_unmasked_frame_is_1002(self):
        c = self.open()
        c.send(frame(TEXT, "no mask", mask=False))
        self.assert_closed_with(c, 1002)

    def test_reserved_bits_are_1002(self):
        for rsv in (1, 2, 4):
            with self.subTest(rsv=rsv):
                c = self.open()  # no deflate negotiated: RSV1 is reserved too
                c.send(frame(TEXT, "x", rsv=rsv))
                self.assert_closed_with(c, 1002)

    def test_reserved_opcodes_are_1002(self):
        for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
            with self.subTest(op=op):
                c = self.open()
                c.send(frame(op, "x"))
                self.assert_closed_with(c, 1002)

    def test_control_frame_rules(self):
        for bad in [frame(PING, b"x" * 126), frame(PING, b"x", fin=False),
                    frame(PONG, b"x", fin=False), frame(CLOSE, b"\x03\xe8" + b"x" * 124)]:
            with self.subTest(bad=bad[:2]):
                c = self.open()
                c.send(bad)
                self.assert_closed_with(c, 1002)

    def test_fragmentation_rules(self):
        for frames in [[frame(CONT, "orphan")],
                       [frame(TEXT, "a", fin=False), frame(TEXT, "b")],
                       [frame(BINARY, "a", fin=False), frame(BINARY, "b", fin=True)]]:
            with self.subTest(frames=len(frames)):
                c = self.open()
                c.send(b"".join(frames))
                self.assert_closed_with(c, 1002)

    def test_non_minimal_length_is_1002(self):
        c = self.open()
        head = bytes([0x81, 0x80 | 126]) + struct.pack("!H", 5) + b"\0\0\0\0" + b"hello"
        c.send(head)
        self.assert_closed_with(c, 1002)

    def test_fragments_with_control_frames_between(self):
        c = self.open()
        with c.sock:
            c.send(frame(TEXT, "frag", fin=False) + frame(PING, "p1") + frame(CONT, "ment", fin=False)
                   + frame(PONG, "unasked") + frame(PING, "p2") + frame(CONT, "ed"))
            self.assertEqual(c.recv_frame()[2:], (PONG, b"p1"))
            self.assertEqual(c.recv_frame()[2:], (PONG, b"p2"))
            self.assertEqual(c.recv_message(), (TEXT, b"fragmented"))

    def test_one_byte_at_a_time(self):
        c = self.open()
        with c.sock:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = frame(TEXT, "κόσμε", fin=False) + frame(PING, "p") + frame(CONT, " slowly")
            for b in data:
                c.send(bytes([b]))
            self.assertEqual(c.recv_frame()[2:], (PONG, b"p"))
            self.assertEqual(c.recv_message(), (TEXT, "κόσμε slowly".encode()))

    def test_empty_frames_and_messages(self):
        c = self.open()
        with c.sock:
            c.send(frame(TEXT, "") + frame(BINARY, "", fin=False) + frame(CONT, "", fin=False)
                   + frame(CONT, ""))
            self.assertEqual(c.recv_message(), (TEXT, b""))
            self.assertEqual(c.recv_message(), (BINARY, b""))

    def test_message_over_16_mib_is_1009(self):
        c = self.open()
        c.send(frame(BINARY, b"", length=(16 << 20) + 1)[:14])  # the head alone is enough
        self.assert_closed_with(c, 1009)

    def test_fragments_over_16_mib_are_1009(self):
        c = self.open()
        chunk = b"x" * (1 << 20)
        try:
            c.send(frame(BINARY, chunk, fin=False))
            for _ in range(16):
                c.send(frame(CONT, chunk, fin=False))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assert_closed_with(c, 1009)


class Utf8Test(WebSocketTestCase):
    VALID = ["", "ascii", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000",
             "\U0010ffff", "\ud7ff", "\ue000", "mixed κόσμε \U0001f600 end"]
    INVALID = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
               b"\xf0\x80\x80\xaf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xfe", b"\xff",
               b"\xce\xba\xe1\xbd", b"\xce"]

    def test_valid_text_split_at_every_byte(self):
        c = self.open()
        with c.sock:
            for text in self.VALID:
                data = text.encode()
                for cut in range(len(data) + 1):
                    c.send(frame(TEXT, data[:cut], fin=False) + frame(CONT, data[cut:]))
                    self.assertEqual(c.recv_message(), (TEXT, data), (text, cut))

    def test_invalid_text_is_1007(self):
        for data in self.INVALID:
            with self.subTest(data=data):
                c = self.open()
                c.send(frame(TEXT, b"ok " + data))
                self.assert_closed_with(c, 1007)

    def test_invalid_text_fails_fast_across_fragments(self):
        # The message never ends: the first invalid byte is enough (Autobahn's 6.4.x).
        c = self.open()
        c.send(frame(TEXT, "κόσμε".encode(), fin=False) + frame(CONT, b"\xed\xa0\x80", fin=False))
        self.assert_closed_with(c, 1007)
        c = self.open()
        c.send(frame(TEXT, b"\xce", fin=False) + frame(CONT, b"\xba\xe1", fin=False)
               + frame(CONT, b"\xbd\xff", fin=False))
        self.assert_closed_with(c, 1007)

    def test_binary_is_not_checked(self):
        c = self.open()
        with c.sock:
            c.send(frame(BINARY, b"\xff\xfe"))
            self.assertEqual(c.recv_message(), (BINARY, b"\xff\xfe"))


class CloseTest(WebSocketTestCase):
    def test_valid_codes_are_echoed(self):
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000,
                     4999]:
            with self.subTest(code=code):
                c = self.open()
                c.send(close_frame(code, b"reason"))
                self.assert_closed_with(c, code)

    def test_invalid_codes_are_1002(self):
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]:
            with self.subTest(code=code):
                c = self.open()
                c.send(close_frame(code))
                self.assert_closed_with(c, 1002)

    def test_empty_close_is_answered_empty(self):
        c = self.open()
        with c.sock:
            c.send(close_frame())
            fin, _, op, payload = c.recv_frame()
            self.assertEqual((op, payload), (CLOSE, b""))
            self.assertTrue(c.closed_after())

    def test_one_byte_close_is_1002(self):
        c = self.open()
        c.send(frame(CLOSE, b"\x03"))
        self.assert_closed_with(c, 1002)

    def test_close_reason_must_be_utf8(self):
        c = self.open()
        c.send(close_frame(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
        self.assert_closed_with(c, 1007)

    def test_nothing_after_close_is_read(self):
        c = self.open()
        with c.sock:
            c.send(close_frame(1000) + frame(TEXT, "after close") + frame(PING, "p"))
            fin, _, op, payload = c.recv_frame()
            self.assertEqual((op, payload[:2]), (CLOSE, b"\x03\xe8"))
            self.assertTrue(c.closed_after())

    def test_tcp_fin_without_close_frame(self):
        c = self.open()
        with c.sock:
            c.sock.shutdown(socket.SHUT_WR)
            self.assertTrue(c.closed_after())


class CompressionTest(WebSocketTestCase):
    def open_deflate(self, offer="permessage-deflate"):
        return self.open(extra=["Sec-WebSocket-Extensions: " + offer])

    def test_compressed_frames_in_and_out(self):
        c = self.open_deflate()
        with c.sock:
            message = b"compress me " * 200
            c.send(frame(TEXT, wf.deflate_message(message), rsv=4))
            fin, rsv, op, payload = c.recv_frame()
            self.assertEqual((fin, rsv, op), (True, 4, TEXT))
            import zlib
            d = zlib.decompressobj(-15)
            self.assertEqual(d.decompress(payload + b"\x00\x00\xff\xff"), message)
            # A tiny message goes uncompressed.
            c.send(frame(TEXT, wf.deflate_message(b"hi"), rsv=4))
            self.assertEqual(c.recv_frame(), (True, 0, TEXT, b"hi"))

    def test_compressed_message_in_fragments(self):
        c = self.open_deflate()
        with c.sock:
            packed = wf.deflate_message(b"fragment " * 50)
            third = len(packed) // 3
            c.send(frame(TEXT, packed[:third], fin=False, rsv=4)
                   + frame(PING, "between")
                   + frame(CONT, packed[third:2 * third], fin=False)
                   + frame(CONT, packed[2 * third:]))
            self.assertEqual(c.recv_frame()[2:], (PONG, b"between"))
            fin, rsv, op, payload = c.recv_frame()
            import zlib
            self.assertEqual(zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff"),
                             b"fragment " * 50)

    def test_rsv1_on_a_continuation_is_1002(self):
        c = self.open_deflate()
        c.send(frame(TEXT, wf.deflate_message(b"abc"), fin=False, rsv=4)
               + frame(CONT, b"", rsv=4))
        self.assert_closed_with(c, 1002)

    def test_rsv1_on_a_control_frame_is_1002(self):
        c = self.open_deflate()
        c.send(frame(PING, b"", rsv=4))
        self.assert_closed_with(c, 1002)

    def test_zip_bomb_is_1009(self):
        c = self.open_deflate()
        bomb = wf.deflate_message(b"\0" * (40 << 20))  # 40 MiB in about 40 KiB
        self.assertLess(len(bomb), 100000)
        c.send(frame(BINARY, bomb, rsv=4))
        self.assert_closed_with(c, 1009)

    def test_corrupt_deflate_data_is_1007(self):
        c = self.open_deflate()
        c.send(frame(BINARY, b"\xff\xff\xff\xff not deflate", rsv=4))
        self.assert_closed_with(c, 1007)

    def test_invalid_utf8_inside_compressed_text_is_1007(self):
        c = self.open_deflate()
        c.send(frame(TEXT, wf.deflate_message(b"ok \xed\xa0\x80"), rsv=4))
        self.assert_closed_with(c, 1007)

    def test_client_context_takeover(self):
        # The client's compressor keeps its history: the second message refers back to it.
        import zlib
        c = self.open_deflate()
        with c.sock:
            comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            for message in [b"repeated text " * 20, b"repeated text " * 20 + b"!"]:
                packed = comp.compress(message) + comp.flush(zlib.Z_SYNC_FLUSH)
                c.send(frame(TEXT, packed[:-4], rsv=4))
                fin, rsv, op, payload = c.recv_frame()
                self.assertEqual(zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff"),
                                 message)


class BackpressureTest(WebSocketTestCase):
    def test_a_client_that_never_reads_is_bounded(self):
        # It sends 64 MiB of echo requests and reads nothing: the server stops reading it
        # (high_water), its memory stays put, and other clients are served meanwhile.
        c = self.open()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        before = rss_bytes(self.server.proc.pid)
        sent = [0]
        chunk = frame(BINARY, b"x" * 65536)

        def flood():
            c.sock.settimeout(5)
            try:
                while sent[0] < 1024:
                    c.sock.sendall(chunk)
                    sent[0] += 1
            except (socket.timeout, OSError):
                pass
        t = threading.Thread(target=flood)
        t.start()
        t.join(30)
        self.assertLess(sent[0], 1024, "the server kept reading a client that never reads")
        grown = rss_bytes(self.server.proc.pid) - before
        self.assertLess(grown, 32 << 20)

        async def other():
            async with self.ws_connect("/ws/echo") as ws:
                await ws.send("still served")
                self.assertEqual(await ws.recv(), "still served")
        self.run_async(other())
        c.sock.close()


if __name__ == "__main__":
    unittest.main()
