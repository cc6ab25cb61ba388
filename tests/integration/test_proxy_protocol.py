# SPDX-License-Identifier: MIT
"""PROXY protocol listeners (`wharf serve --proxy-protocol`, issue 16): v1 and v2 headers before
HTTP/1.1, TLS and HTTP/2 give the request the client's address (/headers' X-Peer-Address, the
access log) and v2's TLVs; a connection without a valid header is closed and the server serves
on; a listener that does not expect one never parses one."""

import os
import socket
import ssl
import struct
import tempfile
import time
import unittest

from h2_client import H2Client
from tls_certs import certs, client_context
from wharf_server import SharedServerTestCase, WharfServer, wait_for

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def tlv(kind, value):
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def v2(src, sport, dst, dport, tlvs=b"", command=0x21):
    block = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    body = block + tlvs
    return SIGNATURE + bytes([command, 0x11]) + struct.pack("!H", len(body)) + body


def v2_local():
    return SIGNATURE + bytes([0x20, 0x00, 0, 0])


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def header_of(response, name):
    head = response.partition(b"\r\n\r\n")[0]
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return None


class ProxyProtocolTest(SharedServerTestCase):
    @classmethod
    def make_server(cls):
        cls.log_dir = tempfile.mkdtemp(prefix="wharf-proxy-")
        cls.log = os.path.join(cls.log_dir, "access.log")
        return WharfServer(extra_args=["--proxy-protocol", "--access-log", cls.log,
                                       "--request-head-timeout", "1500",
                                       *certs().server_args()], tls=False)

    def exchange(self, preamble, request=b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(preamble + request)
            return read_response(s)

    def closed_without_answer(self, data, timeout=10):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout) as s:
            s.sendall(data)
            got = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += chunk
            return got

    def test_v1_gives_the_client_address(self):
        r = self.exchange(b"PROXY TCP4 203.0.113.9 198.51.100.1 40000 80\r\n")
        self.assertTrue(r.startswith(b"HTTP/1.1 200 "), r[:200])
        self.assertEqual(header_of(r, "X-Peer-Address"), "203.0.113.9:40000")
        self.assertEqual(header_of(r, "X-Proxy-Version"), "1")
        r = self.exchange(b"PROXY TCP6 2001:db8::7 2001:db8::1 1234 443\r\n")
        self.assertEqual(header_of(r, "X-Peer-Address"), "[2001:db8::7]:1234")

    def test_v2_with_tlvs(self):
        r = self.exchange(v2("192.0.2.44", 5555, "192.0.2.1", 80,
                             tlv(0x01, b"h2") + tlv(0x02, b"shop.example") + tlv(0x05, b"req-7")))
        self.assertTrue(r.startswith(b"HTTP/1.1 200 "), r[:200])
        self.assertEqual(header_of(r, "X-Peer-Address"), "192.0.2.44:5555")
        self.assertEqual(header_of(r, "X-Proxy-Version"), "2")
        self.assertEqual(header_of(r, "X-Proxy-Alpn"), "h2")
        self.assertEqual(header_of(r, "X-Proxy-Authority"), "shop.example")
        self.assertEqual(header_of(r, "X-Proxy-Unique-Id"), "req-7")

    def test_local_and_unknown_keep_the_connection_address(self):
        for preamble in (v2_local(), b"PROXY UNKNOWN\r\n"):
            with self.subTest(preamble=preamble):
                r = self.exchange(preamble)
                self.assertTrue(r.startswith(b"HTTP/1.1 200 "), r[:200])
                self.assertTrue(header_of(r, "X-Peer-Address").startswith("127.0.0.1:"))

    def test_the_header_split_across_packets(self):
        header = v2("192.0.2.45", 6000, "192.0.2.1", 80, tlv(0x05, b"slow"))
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(header)):
                s.sendall(header[i:i + 1])
                time.sleep(0.002)
            s.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(s)
        self.assertEqual(header_of(r, "X-Peer-Address"), "192.0.2.45:6000")

    def test_keep_alive_requests_share_the_header(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"PROXY TCP4 203.0.113.10 198.51.100.1 40001 80\r\n")
            for _ in range(3):
                s.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(header_of(read_response(s), "X-Peer-Address"),
                                 "203.0.113.10:40001")

    def test_without_a_valid_header_the_connection_is_closed(self):
        for data in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"PROXY TCP4 999.0.0.1 1.2.3.4 1 2\r\nGET / HTTP/1.1\r\n\r\n",
                     b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\nGET / HTTP/1.1\r\n\r\n",
                     SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12),
                     b"PROXY UNKNOWN " + b"x" * 200):
            with self.subTest(data=data[:30]):
                self.assertEqual(self.closed_without_answer(data), b"")
        # A client that sends nothing is closed at the head deadline (1.5 s here).
        start = time.monotonic()
        self.assertEqual(self.closed_without_answer(b"", timeout=15), b"")
        self.assertLess(time.monotonic() - start, 14)
        # ... and the server serves on.
        r = self.exchange(b"PROXY TCP4 203.0.113.11 198.51.100.1 40002 80\r\n")
        self.assertEqual(header_of(r, "X-Peer-Address"), "203.0.113.11:40002")

    def test_tls_behind_the_header(self):
        raw = socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10)
        raw.sendall(b"PROXY TCP4 203.0.113.12 198.51.100.1 40003 443\r\n")
        with client_context().wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(s)
        self.assertEqual(header_of(r, "X-Peer-Address"), "203.0.113.12:40003")

    def test_http2_behind_the_header(self):
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        raw.sendall(v2("192.0.2.50", 7000, "192.0.2.1", 80))
        with H2Client(raw) as c:
            s = c.get("/headers")
            self.assertEqual(s.status, 200)
            self.assertEqual(s.header("x-peer-address"), "192.0.2.50:7000")
        ctx = ssl.create_default_context(cafile=certs().ca)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10)
        raw.sendall(b"PROXY TCP4 203.0.113.13 198.51.100.1 40004 443\r\n")
        with H2Client(ctx.wrap_socket(raw, server_hostname="localhost")) as c:
            s = c.get("/headers")
            self.assertEqual(s.header("x-peer-address"), "203.0.113.13:40004")

    def test_the_access_log_has_the_client(self):
        self.exchange(b"PROXY TCP4 203.0.113.99 198.51.100.1 40005 80\r\n",
                      b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")

        def logged():
            with open(self.log) as f:
                return any(line.startswith("203.0.113.99 ") and "/plaintext" in line
                           for line in f)

        self.assertTrue(wait_for(logged, 10))


class TrustedProxyTest(SharedServerTestCase):
    """Forwarded / X-Forwarded-For, believed only from --trusted-proxy addresses."""
    EXTRA_ARGS = ("--trusted-proxy", "127.0.0.0/8")

    def peer_for(self, fields):
        extra = "".join("%s: %s\r\n" % kv for kv in fields).encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
            return header_of(read_response(s), "X-Peer-Address")

    def test_forwarded_fields_from_a_trusted_peer(self):
        self.assertEqual(self.peer_for([("X-Forwarded-For", "203.0.113.5")]), "203.0.113.5:0")
        self.assertEqual(self.peer_for([("X-Forwarded-For", "198.51.100.1, 203.0.113.5, 127.0.0.9")]),
                         "203.0.113.5:0")
        self.assertEqual(self.peer_for([("Forwarded", 'for="[2001:db8::17]:4711";proto=https')]),
                         "[2001:db8::17]:4711")
        self.assertTrue(self.peer_for([("X-Forwarded-For", "garbage")]).startswith("127.0.0.1:"))
        self.assertTrue(self.peer_for([]).startswith("127.0.0.1:"))


class NoProxyProtocolTest(SharedServerTestCase):
    def test_forwarded_fields_are_not_believed_by_default(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n"
                      b"Forwarded: for=203.0.113.6\r\n\r\n")
            self.assertTrue(header_of(read_response(s), "X-Peer-Address").startswith("127.0.0.1:"))

    def test_a_header_is_not_parsed_where_none_is_expected(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"PROXY TCP4 203.0.113.9 198.51.100.1 40000 80\r\n"
                      b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(s)
        self.assertTrue(r.startswith(b"HTTP/1.1 400 ") or r.startswith(b"HTTP/1.1 501 "), r[:100])


if __name__ == "__main__":
    unittest.main()
