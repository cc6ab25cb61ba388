# SPDX-License-Identifier: MIT
"""The C API (wharf/wharf.h) from C: tests/capi/capi_server.c, compiled as C11, serves a route
per part of the API; http.client, curl, raw sockets and HTTP/2 check what each answers."""

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from h2_client import H2Client
from tls_certs import certs, client_context
from wharf_server import build_file

MIB = 1 << 20


def capi_server_binary():
    return build_file("WHARF_CAPI_SERVER", "tests", "capi_server")


def fnv1a(data):
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


class CapiServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wharf-capi-")
        cls.file_path = os.path.join(cls.tmp, "served.bin")
        cls.file_data = bytes((i * 13 + 7) % 256 for i in range(300_000))
        with open(cls.file_path, "wb") as f:
            f.write(cls.file_data)
        cls.log_path = os.path.join(cls.tmp, "access.log")
        c = certs()
        env = dict(os.environ, CAPI_ACCESS_LOG=cls.log_path)
        cls.proc = subprocess.Popen([capi_server_binary(), cls.file_path, c.server, c.server_key,
                                     c.ca],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        line = cls.proc.stdout.readline().decode()
        if not line.startswith("ready "):
            cls.proc.kill()
            raise AssertionError("capi_server did not start: %r %s" % (
                line, cls.proc.stderr.read().decode()))
        cls.port, cls.tls_port = (int(p) for p in line.split()[1:3])

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            code = cls.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
            raise
        stderr = cls.proc.stderr.read().decode()
        for name in os.listdir(cls.tmp):
            os.unlink(os.path.join(cls.tmp, name))
        os.rmdir(cls.tmp)
        # A clean stop, and nothing the server's own checks complained about.
        assert code == 0, "capi_server exited with %d:\n%s" % (code, stderr)
        assert stderr == "", stderr

    def tearDown(self):
        self.assertIsNone(self.proc.poll(), "capi_server died")

    def request(self, method, path, body=None, headers=None, tls=False, context=None):
        if tls:
            conn = http.client.HTTPSConnection("localhost", self.tls_port, timeout=30,
                                               context=context or client_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def get(self, path, **kw):
        status, reason, headers, body = self.request("GET", path, **kw)
        return status, {k.lower(): v for k, v in headers}, body

    # -- fields, status, headers --------------------------------------------------------

    def test_hello_printf(self):
        status, headers, body = self.get("/hello")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(body, b"Hello, C! 42\n")

    def test_request_fields(self):
        status, _, _, body = self.request(
            "POST", "/request/x?y=1", body=b"data",
            headers={"X-Test": "abc", "Content-Type": "text/plain; charset=utf-8"})
        self.assertEqual(status, 200)
        self.assertEqual(body.decode().splitlines(), [
            "method=POST", "url=/request/x?y=1", "x-test=abc",
            "content-type=yes text/plain utf-8", "user=(null)", "cn=(null)",
            "service=the-service"])
        status, _, _, body = self.request("DELETE", "/request/")
        self.assertIn("method=DELETE", body.decode())
        self.assertIn("content-type=no (null) (null)", body.decode())
        self.assertIn("x-test=(null)", body.decode())

    def test_status_setters(self):
        rows = [("/status/denied", 403, "Forbidden"), ("/status/missing", 404, "Not Found"),
                ("/status/error", 500, "Internal Server Error"),
                ("/status/custom", 299, "Custom Reason"), ("/status/std", 418, None),
                ("/status/other", 200, "OK")]
        for path, code, reason in rows:
            with self.subTest(path=path):
                status, got_reason, headers, body = self.request("GET", path)
                self.assertEqual(status, code)
                if reason:
                    self.assertEqual(got_reason, reason)
        _, _, headers, body = self.request("GET", "/status/missing")
        self.assertEqual(dict(headers)["Content-Type"], "text/html")
        self.assertEqual(body, b"<p>gone</p>")
        _, _, _, body = self.request("GET", "/status/other")
        self.assertEqual(body, b"unchanged")
        _, _, _, body = self.request("GET", "/status/denied")
        self.assertIn(b"Forbidden", body)  # the standard body

    def test_headers(self):
        status, _, headers, body = self.request("GET", "/headers")
        self.assertEqual(status, 200)
        names = [k.lower() for k, _ in headers]
        self.assertEqual([v for k, v in headers if k.lower() == "x-one"], ["one"])
        self.assertEqual([v for k, v in headers if k.lower() == "x-many"], ["a", "b"])
        self.assertNotIn("x-gone", names)
        self.assertNotIn("injected", names)
        self.assertEqual(body, b"remove-absent=1 bad-name=1 bad-value=1\n")

    def test_contexts_are_destroyed(self):
        before = int(self.get("/ctx/count")[2])
        _, _, body = self.get("/ctx")
        self.assertEqual(body.decode(), "ctx=second destroyed-before=%d\n" % (before + 1))
        after = int(self.get("/ctx/count")[2])
        self.assertEqual(after, before + 2)  # the replaced one, then the request's own

    # -- bodies --------------------------------------------------------------------------

    def test_string_body(self):
        data = os.urandom(100_000)
        status, _, headers, body = self.request("POST", "/string", body=data)
        self.assertEqual(status, 200)
        self.assertEqual(dict(headers)["Content-Type"], "application/octet-stream")
        self.assertEqual(body, data)

    def test_json(self):
        doc = {"name": "Ada", "list": [1, {"x": 2}]}
        status, _, headers, body = self.request(
            "POST", "/json", body=json.dumps(doc), headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(dict(headers)["Content-Type"], "application/json")
        self.assertEqual(json.loads(body), {"hello": "Ada", "second": {"x": 2}})
        rows = [(b'{"name":', "application/json", 400), (b"{}", "text/plain", 415),
                (b"", "application/json", 400), (b"[" * 5 + b"]" * 5, "application/problem+json", 200)]
        for data, ctype, code in rows:
            with self.subTest(body=data[:20], type=ctype):
                status, _, _, _ = self.request("POST", "/json", body=data,
                                               headers={"Content-Type": ctype})
                self.assertEqual(status, code)

    def test_json_too_large_is_413_from_the_head(self):
        # The head declares more than the 1 MiB body limit: answered at once, no body read.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % (2 * MIB))
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                self.assertTrue(chunk, data)
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data)

    def test_xml(self):
        status, _, headers, body = self.request(
            "POST", "/xml", body=b'<order id="9"><item>tea</item><item>cake</item></order>',
            headers={"Content-Type": "application/xml"})
        self.assertEqual(status, 200)
        self.assertEqual(dict(headers)["Content-Type"], "application/xml; charset=utf-8")
        root = ET.fromstring(body)
        self.assertEqual((root.tag, root.get("id"), root.get("first")), ("ok", "9", "tea"))
        status, _, _, _ = self.request("POST", "/xml", body=b"<a><b></a>",
                                       headers={"Content-Type": "text/xml"})
        self.assertEqual(status, 400)
        status, _, _, _ = self.request("POST", "/xml", body=b"<a/>",
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 415)

    def test_streamed_upload_with_back_pressure(self):
        data = os.urandom(5 * MIB + 3)
        want = "bytes=%d fnv=%016x\n" % (len(data), fnv1a(data))
        status, _, _, body = self.request("POST", "/upload", body=data)
        self.assertEqual((status, body.decode()), (200, want))

        def pieces():
            for at in range(0, len(data), MIB):
                yield data[at:at + MIB]

        # An iterable body without a length: http.client sends it chunked.
        status, _, _, body = self.request("POST", "/upload", body=pieces())
        self.assertEqual((status, body.decode()), (200, want))

    # -- negotiation -----------------------------------------------------------------------

    def test_accept(self):
        status, headers, body = self.get("/accept", headers={
            "Accept": "text/plain;q=0.5, application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertIn("accept", headers["vary"].lower())
        self.assertEqual(body, b"text/plain;500\napplication/json;1000\n")
        status, headers, _ = self.get("/accept", headers={"Accept": "text/*"})
        self.assertEqual(headers["content-type"], "text/plain")
        status, _, body = self.get("/accept", headers={"Accept": "image/png"})
        self.assertEqual((status, body), (406, b"none\n"))
        status, headers, body = self.get("/accept")
        self.assertEqual((status, headers["content-type"], body), (200, "application/json", b""))

    # -- sending --------------------------------------------------------------------------

    def test_file_with_ranges(self):
        status, headers, body = self.get("/file")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), len(self.file_data))
        self.assertEqual(body, self.file_data)
        status, headers, body = self.get("/file", headers={"Range": "bytes=100-199"})
        self.assertEqual(status, 206)
        self.assertEqual(headers["content-range"], "bytes 100-199/%d" % len(self.file_data))
        self.assertEqual(body, self.file_data[100:200])
        out = subprocess.run(["curl", "-sS", "-r", "-10", "http://127.0.0.1:%d/file" % self.port],
                             capture_output=True, timeout=30, check=True).stdout
        self.assertEqual(out, self.file_data[-10:])
        # The log data given with the send: the user field.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                if '- c-api [' in f.read():
                    break
            time.sleep(0.05)
        with open(self.log_path) as f:
            self.assertIn('- c-api [', f.read())

    def test_chunks_and_refusals(self):
        status, headers, body = self.get("/chunks")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("transfer-encoding"), "chunked")
        self.assertEqual(body, b"alpha,beta,gamma,17|busy=1 e2big=1 edeadlk=1")

    def test_send_flags(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /flags HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:  # DISCONNECT: the server closes after the response
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        # The head left with the first send, before DISCONNECT was asked for: no
        # "Connection: close" in it, but the close that ended the read above.
        decoded, rest = b"", body
        while True:  # chunked
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            decoded, rest = decoded + rest[:n], rest[n + 2:]
        self.assertEqual(decoded, b"held,more,last")

    def test_write_res(self):
        status, _, body = self.get("/write-res")
        self.assertEqual((status, body), (200, b"whole reply"))

    def test_flush_then_timer(self):
        status, headers, body = self.get("/flush")
        self.assertEqual((status, body), (200, b"first,second"))
        self.assertEqual(headers.get("transfer-encoding"), "chunked")

    def test_repeating_timer(self):
        self.assertEqual(self.get("/after")[2], b"ticks=3")

    def test_io_objects(self):
        status, _, body = self.get("/io")
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 100000)
        self.assertEqual(body[:3], bytes([ord("a") + (100000 - i) % 26 for i in range(3)]))
        status, _, body = self.get("/io-now")
        self.assertEqual((status, len(body)), (200, 5000))

    # -- other threads --------------------------------------------------------------------

    def test_suspend_and_resume_from_a_thread(self):
        self.assertEqual(self.get("/suspend")[2], b"resumed with from-a-thread")

    def test_suspend_deadline(self):
        status, _, _ = self.get("/suspend-expire")
        self.assertEqual(status, 503)
        time.sleep(0.5)  # the thread's late resume runs (and must see ETIMEDOUT)

    def test_synchronous_sends_from_a_thread(self):
        status, _, body = self.get("/sync")
        self.assertEqual((status, body), (200, b"sync-one,sync-two"))

    def test_event_posted_from_a_thread(self):
        self.assertEqual(self.get("/event")[2], b"posted from-a-thread")

    # -- upgrade ----------------------------------------------------------------------------

    def test_upgrade_echo(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                      b"Upgrade: echo\r\n\r\n")
            data = b""
            while b"hello\n" not in data:
                chunk = s.recv(4096)
                self.assertTrue(chunk, data)
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 101 "), data)
            s.sendall(b"ping")
            got = b""
            while got != b"echo:ping":
                chunk = s.recv(4096)
                self.assertTrue(chunk, got)
                got += chunk
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(s.recv(4096), b"")  # the server closed after our end

    # -- TLS and HTTP/2 ----------------------------------------------------------------------

    def test_over_tls(self):
        status, _, _, body = self.request("GET", "/hello", tls=True)
        self.assertEqual((status, body), (200, b"Hello, C! 42\n"))
        # A client certificate that verified: its subject CN.
        c = certs()
        _, _, _, body = self.request("GET", "/request/cn", tls=True,
                                     context=client_context(cert=c.alice, key=c.alice_key))
        self.assertIn("cn=alice", body.decode().splitlines())
        # One that does not (self-signed): none.
        _, _, _, body = self.request("GET", "/request/cn", tls=True,
                                     context=client_context(cert=c.stranger, key=c.stranger_key))
        self.assertIn("cn=(null)", body.decode().splitlines())

    def test_over_http2(self):
        for connect in (lambda: H2Client.h2c(self.port),
                        lambda: H2Client.tls(self.tls_port, certs().ca)):
            with connect() as c:
                for path, want in (("/hello", b"Hello, C! 42\n"),
                                   ("/chunks", b"alpha,beta,gamma,17|busy=1 e2big=1 edeadlk=1"),
                                   ("/sync", b"sync-one,sync-two"),
                                   ("/suspend", b"resumed with from-a-thread")):
                    sid = c.request("GET", path)
                    s = c.wait_stream(sid, timeout=30)
                    self.assertIsNone(s.reset)
                    self.assertEqual((s.status, bytes(s.data)), (200, want), path)
                body = b'{"name":"h2"}'
                sid = c.request("POST", "/json", headers=[("content-type", "application/json"),
                                                          ("content-length", str(len(body)))],
                                body=body)
                s = c.wait_stream(sid, timeout=30)
                self.assertEqual(json.loads(bytes(s.data)), {"hello": "h2", "second": None})
                data = os.urandom(700_000)
                sid = c.request("POST", "/upload", headers=[("content-length", str(len(data)))],
                                body=data)
                s = c.wait_stream(sid, timeout=30)
                self.assertEqual(bytes(s.data).decode(),
                                 "bytes=%d fnv=%016x\n" % (len(data), fnv1a(data)))


if __name__ == "__main__":
    unittest.main()
