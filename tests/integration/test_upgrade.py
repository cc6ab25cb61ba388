# SPDX-License-Identifier: MIT
"""session::upgrade over real sockets (plaintext here; TLS when the suite runs with
WHARF_TEST_TLS): the demo's GET /upgrade/echo answers 101 and then echoes raw bytes, including
those sent with the request head, until the client's FIN."""
import os
import socket
import threading
import unittest

from wharf_server import ResponseReader, SharedServerTestCase, get, wait_closed

UPGRADE = b"GET /upgrade/echo HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"


def read_head(sock):
    """The response head's bytes and what followed it in the same reads."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("EOF before the response head: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def recv_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(1 << 20, n - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


class UpgradeTest(SharedServerTestCase):
    def upgraded(self, early=b""):
        s = self.server.connect()
        s.sendall(UPGRADE + early)
        head, rest = read_head(s)
        lines = head.split("\r\n")
        self.assertEqual(lines[0], "HTTP/1.1 101 Switching Protocols")
        fields = [l.lower() for l in lines[1:]]
        self.assertIn("upgrade: echo", fields)
        self.assertIn("connection: upgrade", fields)
        # RFC 9110 §15.2.2: a 101 has no content, so no framing of one.
        self.assertFalse(any(f.startswith(("content-length", "transfer-encoding")) for f in fields))
        return s, rest

    def test_bytes_sent_with_the_head_come_first(self):
        s, rest = self.upgraded(early=b"early|")
        with s:
            rest += recv_exactly(s, len(b"early|") - len(rest))
            self.assertEqual(rest, b"early|")
            s.sendall(b"then more")
            self.assertEqual(recv_exactly(s, 9), b"then more")

    def test_a_megabyte_each_way_in_order(self):
        s, rest = self.upgraded()
        self.assertEqual(rest, b"")
        payload = os.urandom(1 << 20)
        with s:
            sender = threading.Thread(target=s.sendall, args=(payload,))
            sender.start()
            got = recv_exactly(s, len(payload))
            sender.join()
            self.assertEqual(got, payload)

    def test_client_fin_is_answered_by_fin(self):
        s, _ = self.upgraded()
        with s:
            s.sendall(b"last words")
            self.assertEqual(recv_exactly(s, 10), b"last words")
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(s.recv(100), b"")  # a clean close, not a reset

    def test_no_more_http_after_the_switch(self):
        # A request after the 101 is just bytes of the new protocol: echoed, not answered.
        s, _ = self.upgraded()
        with s:
            req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
            s.sendall(req)
            self.assertEqual(recv_exactly(s, len(req)), req)

    def test_without_the_upgrade_field_is_426(self):
        with self.server.connect() as s:
            s.sendall(b"GET /upgrade/echo HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = ResponseReader(s).read_response()
            self.assertEqual(resp.status, 426)
            self.assertEqual(resp.header("Upgrade"), "echo")
            # The connection stays HTTP.
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(ResponseReader(s).read_response().body, b"Hello, World!")

    def test_many_upgraded_connections_and_http_beside_them(self):
        conns = [self.upgraded()[0] for _ in range(50)]
        try:
            for i, s in enumerate(conns):
                s.sendall(b"conn %03d" % i)
            for i, s in enumerate(conns):
                self.assertEqual(recv_exactly(s, 8), b"conn %03d" % i)
            self.assertEqual(get(self.server.port, "/plaintext").status, 200)
        finally:
            for s in conns:
                s.close()

    def test_client_reset_leaves_the_server_serving(self):
        for _ in range(20):
            s, _ = self.upgraded()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(b"x" * 100000)
            s.close()
        self.assertEqual(get(self.server.port, "/plaintext").status, 200)


if __name__ == "__main__":
    unittest.main()
