# SPDX-License-Identifier: MIT
"""HTTP/2 (RFC 9113) end to end: h2c with prior knowledge and h2 over TLS by ALPN, with curl,
nghttp, h2load and a frame-level client (h2_client.py): responses, static files, ranges and
conditionals, concurrency, request bodies and flow control in both directions, resets,
GOAWAY, malformed requests, limits, floods and the access log.

Each test names the section of RFC 9113 (or RFC 9110) whose words it checks."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import h2_client
from h2_client import (
    CANCEL,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    FRAME_SIZE_ERROR,
    HEADERS,
    NO_ERROR,
    PING,
    PRIORITY,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RST_STREAM,
    SETTINGS,
    SETTINGS_INITIAL_WINDOW_SIZE,
    SETTINGS_MAX_CONCURRENT_STREAMS,
    SETTINGS_MAX_FRAME_SIZE,
    H2Client,
    H2Timeout,
    frame_bytes,
    settings_payload,
)
from tls_certs import certs
from wharf_server import (
    SITE_FILES,
    SharedServerTestCase,
    WharfServer,
    binary_is_asan,
    fd_count,
    rss_bytes,
    server_sockets,
    wait_closed,
    wait_for,
)

CURL = shutil.which("curl")
NGHTTP = shutil.which("nghttp")
H2LOAD = shutil.which("h2load")

BLOB = SITE_FILES["blob.bin"]

# RFC 9113 §8.2.2: fields that are specific to one connection never appear in HTTP/2.
CONNECTION_SPECIFIC = ("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                       "upgrade")

# How much the server's resident set may grow across one attack (ASan's quarantine makes RSS
# meaningless as a bound, so these checks are skipped there).
RSS_GROWTH_LIMIT = 64 * 1024 * 1024

TCP_CLOSE_WAIT = 0x08  # /proc/net/tcp state


def fd_targets(pid):
    out = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def run(args, timeout=60):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def parse_curl_head(text):
    """(status line, [(name, value)]) of the last response head `curl -D -` printed."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    lines = blocks[-1].split("\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name, value.strip()))
    return lines[0].strip(), fields


class Http2Case(SharedServerTestCase):
    """One server, cleartext and TLS, one worker (so that a connection that stalls shares its
    loop with the others it must not hold up)."""

    WORKERS = 1

    @classmethod
    def setUpClass(cls):
        cls.EXTRA_ARGS = certs().server_args()
        super().setUpClass()

    # -- helpers ---------------------------------------------------------------------------

    def h2c(self, **kw):
        c = H2Client.h2c(self.server.port, **kw)
        self.addCleanup(c.close)
        return c

    def h2(self, **kw):
        c = H2Client.tls(self.server.tls_port, certs().ca, **kw)
        self.addCleanup(c.close)
        return c

    def url(self, path, tls=False):
        if tls:
            return "https://localhost:%d%s" % (self.server.tls_port, path)
        return "http://127.0.0.1:%d%s" % (self.server.port, path)

    def curl(self, path, *args, tls=False):
        """curl over h2c (prior knowledge) or h2 over TLS; returns (status line, fields, body)."""
        with tempfile.TemporaryDirectory() as d:
            body_path = os.path.join(d, "body")
            cmd = [CURL, "-sS", "-D", "-", "-o", body_path, "--max-time", "20"]
            if tls:
                cmd += ["--http2", "--cacert", certs().ca,
                        "--resolve", "localhost:%d:127.0.0.1" % self.server.tls_port]
            else:
                cmd += ["--http2-prior-knowledge"]
            r = run(cmd + list(args) + [self.url(path, tls)])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(body_path, "rb") as f:
                body = f.read()
        status, fields = parse_curl_head(r.stdout.decode("latin-1"))
        return status, fields, body

    def assert_h2_fields(self, fields):
        """RFC 9113 §8.2: lower-case names, no connection-specific fields, pseudo-fields
        first and only :status."""
        seen_regular = False
        for name, _ in fields:
            self.assertEqual(name, name.lower(), "upper case in field name %r" % name)
            self.assertNotIn(name, CONNECTION_SPECIFIC, fields)
            if name.startswith(":"):
                self.assertEqual(name, ":status", fields)
                self.assertFalse(seen_regular, "pseudo-field after a regular one: %r" % fields)
            else:
                seen_regular = True

    def assert_fresh_connection_served(self):
        c = self.h2c()
        s = c.get("/plaintext")
        self.assertEqual((s.status, bytes(s.data)), (200, b"Hello, World!"))
        c.close()

    def assert_stream_error(self, c, sid, code=PROTOCOL_ERROR):
        """RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR; the
        server MAY send a 4xx response before resetting. The connection stays usable."""
        s = c.wait_stream(sid)
        self.assertIsNone(c.goaway, "a stream error, not a connection error: %r" % (c.goaway,))
        self.assertEqual(s.reset, code, s)
        if s.headers is not None:
            self.assertTrue(400 <= s.status < 500, s)
        follow = c.get("/plaintext")
        self.assertEqual((follow.status, bytes(follow.data)), (200, b"Hello, World!"))

    def assert_connection_error(self, c, code, timeout=10):
        """RFC 9113 §5.4.1: GOAWAY with the error code, then the connection closes."""
        goaway = c.wait_goaway(timeout)
        self.assertIsNotNone(goaway, "no GOAWAY before the connection closed")
        self.assertEqual(h2_client.ERROR_NAMES.get(goaway[1], goaway[1]),
                         h2_client.ERROR_NAMES[code])
        self.assertTrue(c.wait_closed(timeout), "connection still open after GOAWAY")


# -- responses, with real clients ----------------------------------------------------------


@unittest.skipUnless(CURL and NGHTTP, "curl and nghttp are needed")
class ClientToolsTest(Http2Case):
    def check_plaintext(self, tls):
        status, fields, body = self.curl("/plaintext", tls=tls)
        self.assertEqual(status, "HTTP/2 200")
        self.assert_h2_fields(fields)
        self.assertEqual(body, b"Hello, World!")
        self.assertEqual(dict(fields)["content-length"], "13")
        self.assertEqual(dict(fields)["content-type"], "text/plain")

    def test_curl_h2c_prior_knowledge_plaintext(self):
        self.check_plaintext(tls=False)

    def test_curl_h2_tls_plaintext(self):
        self.check_plaintext(tls=True)

    def test_curl_h2c_upgrade(self):
        # The server answers "Upgrade: h2c" with 101 and then HTTP/2 (the RFC 7540 §3.2
        # mechanism, which RFC 9113 §3.1 deprecates but allows).
        r = run([CURL, "-sS", "--http2", "-D", "-", "-o", "/dev/null", "--max-time", "20",
                 self.url("/plaintext")])
        self.assertEqual(r.returncode, 0, r.stderr)
        status, fields = parse_curl_head(r.stdout.decode("latin-1"))
        self.assertIn(status, ("HTTP/2 200", "HTTP/1.1 200 OK"))
        if status == "HTTP/2 200":
            self.assertIn("HTTP/1.1 101", r.stdout.decode("latin-1"))
            self.assert_h2_fields(fields)

    def test_curl_static_file_and_range(self):
        for tls in (False, True):
            status, fields, body = self.curl("/blob.bin", tls=tls)
            self.assertEqual(status, "HTTP/2 200")
            self.assertEqual(body, BLOB)
            status, fields, body = self.curl("/blob.bin", "-r", "1000-1999", tls=tls)
            self.assertEqual(status, "HTTP/2 206")
            self.assert_h2_fields(fields)
            self.assertEqual(dict(fields)["content-range"], "bytes 1000-1999/200000")
            self.assertEqual(body, BLOB[1000:2000])

    def nghttp(self, path, tls, *args):
        r = run([NGHTTP, *args, self.url(path, tls).replace("localhost", "127.0.0.1")])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_nghttp_h2c_and_tls(self):
        for tls in (False, True):
            self.assertEqual(self.nghttp("/plaintext", tls), b"Hello, World!")
            self.assertEqual(self.nghttp("/blob.bin", tls), BLOB)
            verbose = self.nghttp("/plaintext", tls, "-nv").decode("latin-1")
            self.assertRegex(verbose, r"recv \(stream_id=\d+\) :status: 200")
            self.assertRegex(verbose, r"recv \(stream_id=\d+\) content-length: 13")
            self.assertNotRegex(verbose, r"recv \(stream_id=\d+\) [A-Z]")
            for name in CONNECTION_SPECIFIC:
                self.assertNotRegex(verbose, r"recv \(stream_id=\d+\) %s:" % name)

    def test_curl_tls_report_alpn_h2(self):
        status, _, body = self.curl("/tls", tls=True)
        self.assertEqual(status, "HTTP/2 200")
        self.assertEqual(json.loads(body)["tls"]["alpn"], "h2")


# -- responses, frame by frame -------------------------------------------------------------


class ResponseTest(Http2Case):
    def test_settings_advertised(self):
        # RFC 9113 §3.4: the server's preface is a SETTINGS frame (the first frame it sends).
        c = self.h2c()
        settings = c.wait_settings()
        self.assertEqual(c.frames[0][0], SETTINGS)
        self.assertEqual(settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), 100)
        self.assertEqual(settings.get(SETTINGS_INITIAL_WINDOW_SIZE), 256 * 1024)
        self.assertEqual(settings.get(h2_client.SETTINGS_ENABLE_PUSH, 0), 0)
        # The client's SETTINGS are acknowledged (§6.5.3).
        c.read_until(lambda: c.settings_acks >= 1)

    def test_plaintext_h2c(self):
        c = self.h2c()
        s = c.get("/plaintext")
        self.assertEqual(s.status, 200)
        self.assert_h2_fields(s.headers)
        self.assertEqual(bytes(s.data), b"Hello, World!")
        self.assertEqual(s.header("content-length"), "13")
        self.assertTrue(s.ended)
        self.assertIsNone(s.trailers)

    def test_plaintext_h2_tls(self):
        c = self.h2()
        s = c.get("/plaintext")
        self.assertEqual(s.status, 200)
        self.assert_h2_fields(s.headers)
        self.assertEqual(bytes(s.data), b"Hello, World!")
        self.assertEqual(s.header("content-length"), "13")

    def test_tls_report_says_h2(self):
        c = self.h2()
        s = c.get("/tls")
        self.assertEqual(s.status, 200)
        self.assertEqual(json.loads(bytes(s.data))["tls"]["alpn"], "h2")

    def test_static_files(self):
        for c in (self.h2c(), self.h2()):
            for name in ("hello.txt", "style.css", "data.json", "sub/page.html", "blob.bin"):
                s = c.get("/" + name)
                self.assertEqual(s.status, 200, name)
                self.assert_h2_fields(s.headers)
                self.assertEqual(bytes(s.data), SITE_FILES[name], name)
                self.assertEqual(s.header("content-length"), str(len(SITE_FILES[name])), name)
            s = c.get("/with%20space.txt")
            self.assertEqual(bytes(s.data), SITE_FILES["with space.txt"])

    def test_ranges(self):
        # RFC 9110 §14.2, §15.3.7: 206 with Content-Range and exactly the bytes asked for.
        c = self.h2c()
        for spec, first, last in (("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199),
                                  ("bytes=199000-", 199000, 199999),
                                  ("bytes=-500", 199500, 199999),
                                  ("bytes=150000-250000", 150000, 199999)):
            s = c.get("/blob.bin", headers=[("range", spec)])
            self.assertEqual(s.status, 206, spec)
            self.assertEqual(s.header("content-range"), "bytes %d-%d/200000" % (first, last))
            self.assertEqual(s.header("content-length"), str(last - first + 1))
            self.assertEqual(bytes(s.data), BLOB[first:last + 1], spec)
        s = c.get("/blob.bin", headers=[("range", "bytes=300000-")])
        self.assertEqual(s.status, 416)
        self.assertEqual(s.header("content-range"), "bytes */200000")

    def assert_no_content(self, c, s):
        """HEADERS with END_STREAM and no DATA frame on the stream (RFC 9113 §8.1)."""
        self.assertTrue(s.headers_end_stream, "END_STREAM not on the HEADERS: %r" % s)
        self.assertEqual(s.data_frames, 0, s)
        self.assertEqual([f for f in c.frames if f[0] == DATA and f[2] == s.id], [])

    def test_conditional_if_none_match(self):
        # RFC 9110 §13.1.2, §15.4.5: 304 has no content.
        c = self.h2c()
        etag = c.get("/hello.txt").header("etag")
        self.assertTrue(etag)
        s = c.get("/hello.txt", headers=[("if-none-match", etag)])
        self.assertEqual(s.status, 304)
        self.assertEqual(s.header("etag"), etag)
        self.assert_no_content(c, s)
        s = c.get("/hello.txt", headers=[("if-none-match", '"other"')])
        self.assertEqual((s.status, bytes(s.data)), (200, SITE_FILES["hello.txt"]))

    def test_conditional_if_modified_since(self):
        # RFC 9110 §13.1.3.
        c = self.h2()
        modified = c.get("/blob.bin").header("last-modified")
        self.assertTrue(modified)
        s = c.get("/blob.bin", headers=[("if-modified-since", modified)])
        self.assertEqual(s.status, 304)
        self.assert_no_content(c, s)
        s = c.get("/blob.bin", headers=[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")])
        self.assertEqual((s.status, len(s.data)), (200, len(BLOB)))

    def test_head(self):
        # RFC 9110 §9.3.2: HEAD is GET without content; the fields are the same.
        c = self.h2c()
        for path, length in (("/plaintext", 13), ("/blob.bin", len(BLOB))):
            s = c.wait_stream(c.request("HEAD", path))
            self.assertEqual(s.status, 200, path)
            self.assert_h2_fields(s.headers)
            self.assert_no_content(c, s)
            self.assertIn(s.header("content-length"), (None, str(length)), path)

    def test_not_found(self):
        c = self.h2c()
        s = c.get("/missing.txt")
        self.assertEqual(s.status, 404)
        self.assert_h2_fields(s.headers)
        self.assertEqual(s.header("content-length"), str(len(s.data)))
        self.assertTrue(s.ended)

    def test_escape_symlink_not_served(self):
        c = self.h2c()
        s = c.get("/escape.txt")
        self.assertNotEqual(s.status, 200)
        self.assertNotIn(b"TOP-SECRET", bytes(s.data))

    def test_fifty_interleaved_streams(self):
        # RFC 9113 §5: streams are independent and interleaved on one connection.
        c = self.h2c()
        paths = ["/plaintext", "/blob.bin", "/hello.txt", "/json", "/bytes?n=70000"] * 10
        ids = [c.request("GET", p) for p in paths]
        c.read_until(lambda: all(c.stream(i).done for i in ids), timeout=30)
        expected = {
            "/plaintext": b"Hello, World!",
            "/blob.bin": BLOB,
            "/hello.txt": SITE_FILES["hello.txt"],
        }
        for sid, path in zip(ids, paths):
            s = c.stream(sid)
            self.assertEqual(s.status, 200, (path, s))
            self.assertTrue(s.ended, s)
            if path in expected:
                self.assertEqual(bytes(s.data), expected[path], path)
            elif path == "/json":
                self.assertEqual(json.loads(bytes(s.data)), {"message": "Hello, World!"})
            else:
                self.assertEqual(len(s.data), 70000)
        # Frames of different streams did interleave (blob.bin needs 13 DATA frames).
        data_ids = [f[2] for f in c.frames if f[0] == DATA]
        switches = sum(1 for a, b in zip(data_ids, data_ids[1:]) if a != b)
        self.assertGreater(switches, len(ids) // 2)

    def test_response_trailers_absent_and_client_trailers_accepted(self):
        # RFC 9113 §8.1: a request may end with a trailer section (HEADERS + END_STREAM).
        c = self.h2c()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/echo"))
        c.send_data(sid, b"body", end_stream=False)
        c.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
        s = c.wait_stream(sid)
        self.assertEqual((s.status, bytes(s.data)), (200, b"body"))


class SchedulingTest(Http2Case):
    def test_small_response_not_held_behind_a_large_download(self):
        # Streams are served fairly: a 1 GiB download on the connection delays a small
        # response by a few frames, not by the download (RFC 9113 §5.3, RFC 9218). The client
        # keeps a small receive buffer so the kernel does not hide a backlog.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", self.server.port))
        c = H2Client(sock, timeout=30)
        try:
            big = c.request("GET", "/bytes?n=1073741824")
            self.assertTrue(c.read_until(lambda: len(c.stream(big).data) >= 4 << 20))
            c.stream(big).data = bytearray()  # the bytes are not needed, the frame count is
            before = c.stream(big).data_frames
            small = c.request("GET", "/plaintext")
            self.assertTrue(c.read_until(lambda: c.stream(small).done))
            self.assertEqual((c.stream(small).status, bytes(c.stream(small).data)),
                             (200, b"Hello, World!"))
            frames = c.stream(big).data_frames - before
            self.assertLessEqual(frames, 64, "%d frames of the download came first" % frames)
        finally:
            c.close()


class ManyLargeBodiesTest(unittest.TestCase):
    def test_source_bodies_keep_flowing_to_a_fast_reader(self):
        # 16 bodies of 1 MiB from a body source at once on one connection, to a reader
        # (h2load) that takes everything as it comes and opens its windows wide: more frames
        # than one send turn makes, so the rest must go on in later turns by itself. The send
        # grace is off, so no timer can rescue a stall: it would hang until the timeout.
        with WharfServer(extra_args=["--send-grace", "0"], workers=1) as srv:
            url = "http://127.0.0.1:%d/bytes?n=1048576" % srv.port
            r = subprocess.run(["h2load", "-n", "64", "-c", "1", "-m", "16", url],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("64 succeeded, 0 failed, 0 errored", r.stdout)
            self.assertIn("64 2xx", r.stdout)


class RequestSemanticsTest(Http2Case):
    # RFC 9113 §8.2.3: cookie crumbs MUST be concatenated with "; " before being passed to a
    # generic HTTP server application (HTTP/1.1 clients send a single Cookie field, RFC 6265
    # §5.4, so handlers expect one).
    def test_cookie_crumbs_joined(self):
        c = self.h2c()
        s = c.get("/headers", headers=[("cookie", "a=1"), ("cookie", "b=2")])
        self.assertEqual(s.status, 200)
        self.assertEqual(json.loads(bytes(s.data))["cookie"], "a=1; b=2")

    def test_repeated_fields_kept(self):
        c = self.h2c()
        s = c.get("/headers", headers=[("x-r", "1"), ("x-r", "2")])
        self.assertEqual(json.loads(bytes(s.data))["x-r"], ["1", "2"])

    def test_expect_100_continue(self):
        # RFC 9110 §10.1.1: 100 (Continue) before the body is read; then the final answer.
        c = self.h2c()
        for path in ("/echo", "/upload-digest"):
            sid = c.new_stream_id()
            c.send_headers(sid, c.request_fields("POST", path, headers=[
                ("expect", "100-continue"), ("content-length", "5")]))
            st = c.stream(sid)
            c.read_until(lambda: st.informational or st.done)
            self.assertEqual(st.informational, [[(":status", "100")]], path)
            self.assertIsNone(st.headers)
            c.send_data(sid, b"hello")
            c.wait_stream(sid)
            self.assertEqual(st.status, 200, path)
        self.assertEqual(bytes(c.stream(1).data), b"hello")
        self.assertEqual(json.loads(bytes(c.stream(3).data))["bytes"], 5)

    def test_multipart_byteranges(self):
        # RFC 9110 §14.6: several ranges come as multipart/byteranges.
        c = self.h2c()
        s = c.get("/blob.bin", headers=[("range", "bytes=0-9,100-109")])
        self.assertEqual(s.status, 206)
        ctype = s.header("content-type")
        self.assertTrue(ctype.startswith("multipart/byteranges; boundary="), ctype)
        self.assertEqual(s.header("content-length"), str(len(s.data)))
        body = bytes(s.data)
        self.assertIn(b"Content-Range: bytes 0-9/200000\r\n\r\n" + BLOB[0:10], body)
        self.assertIn(b"Content-Range: bytes 100-109/200000\r\n\r\n" + BLOB[100:110], body)

    def test_head_of_generated_bodies(self):
        # HEAD of pulled, gathered and streamed responses: still no DATA (RFC 9110 §9.3.2).
        c = self.h2c()
        for path in ("/bytes?n=100000", "/gather?parts=3&size=1000",
                     "/stream?chunks=3&size=10", "/ranges-demo", "/json"):
            s = c.wait_stream(c.request("HEAD", path))
            self.assertEqual(s.status, 200, path)
            self.assertTrue(s.headers_end_stream, path)
            self.assertEqual(s.data_frames, 0, path)
        self.assertEqual(c.get("/plaintext").status, 200)

    def test_generated_bodies_exact(self):
        c = self.h2()
        s = c.get("/gather?parts=5&size=3000")
        self.assertEqual((s.status, len(s.data)), (200, 15000))
        s = c.get("/stream?chunks=20&size=5000")
        self.assertEqual((s.status, len(s.data)), (200, 100000))
        s = c.get("/bytes?n=1000000")
        self.assertEqual((s.status, len(s.data)), (200, 1000000))

    def test_client_goaway_lets_stream_finish(self):
        # RFC 9113 §6.8: the client's GOAWAY does not cancel the server's answers to streams
        # the client opened.
        c = self.h2c()
        sid = c.request("GET", "/wait?ms=300")
        c.send_goaway(last=0)
        s = c.wait_stream(sid)
        self.assertEqual((s.status, bytes(s.data)), (200, b"waited 300 ms"))
        self.assertTrue(c.wait_closed(10))

    def test_reset_during_upload(self):
        # RST_STREAM while a streamed body is coming in; the connection goes on.
        c = self.h2c()
        c.wait_settings()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/upload-digest"))
        c.send_data(sid, b"x" * 100000, end_stream=False)
        c.rst(sid, CANCEL)
        s = c.get("/plaintext")
        self.assertEqual((s.status, bytes(s.data)), (200, b"Hello, World!"))
        body = os.urandom(300000)
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/upload-digest"))
        c.send_data(sid, body)
        s = c.wait_stream(sid)
        self.assertEqual(json.loads(bytes(s.data))["sha256"], hashlib.sha256(body).hexdigest())


@unittest.skipUnless(H2LOAD, "h2load is needed")
class LoadTest(Http2Case):
    def h2load(self, url):
        r = run([H2LOAD, "-n", "2000", "-c", "4", "-m", "16", url], timeout=120)
        out = r.stdout.decode("latin-1")
        self.assertEqual(r.returncode, 0, out + r.stderr.decode("latin-1"))
        self.assertRegex(out, r"requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, "
                              r"0 failed, 0 errored, 0 timeout")
        self.assertRegex(out, r"status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx")
        self.assertRegex(out, r"Application protocol: h2c?\b")

    def test_h2load_h2c(self):
        self.h2load(self.url("/plaintext"))

    def test_h2load_tls(self):
        self.h2load("https://127.0.0.1:%d/plaintext" % self.server.tls_port)


# -- request bodies ------------------------------------------------------------------------


class RequestBodyTest(Http2Case):
    def post(self, c, path, body, headers=(), frame_size=None):
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", path, headers=headers))
        c.send_data(sid, body, frame_size=frame_size)
        return c.wait_stream(sid, timeout=30)

    def test_echo_body_in_several_frames(self):
        c = self.h2c()
        body = bytes(range(256)) * 40  # 10240 bytes in 10 frames
        for headers in ([("content-length", str(len(body)))], []):
            s = self.post(c, "/echo", body, headers=headers + [("content-type", "x/y")],
                          frame_size=1024)
            self.assertEqual(s.status, 200, s)
            self.assertEqual(bytes(s.data), body)
            self.assertEqual(s.header("content-type"), "x/y")

    def test_empty_body_end_stream_on_empty_data(self):
        c = self.h2c()
        s = self.post(c, "/echo", b"", headers=[("content-length", "0")])
        self.assertEqual((s.status, bytes(s.data)), (200, b""))

    def test_body_larger_than_stream_window(self):
        # RFC 9113 §6.9: the client may send no more than the window; the server's
        # WINDOW_UPDATEs let the 600 KiB through its 256 KiB stream window.
        c = self.h2c()
        c.wait_settings()
        body = os.urandom(600 * 1024)
        s = self.post(c, "/echo", body)
        self.assertEqual(s.status, 200)
        self.assertEqual(bytes(s.data), body)
        self.assertGreater(c.stream_window_updates, 0)

    def test_body_larger_than_connection_window(self):
        # 3 MiB through the 1 MiB connection window, buffered (/echo) and streamed
        # (/upload-digest), on one connection.
        c = self.h2()
        c.wait_settings()
        body = os.urandom(3 * 1024 * 1024)
        s = self.post(c, "/echo", body, headers=[("content-length", str(len(body)))])
        self.assertEqual(s.status, 200)
        self.assertEqual(bytes(s.data), body)
        updates = c.conn_window_updates
        self.assertGreater(updates, 1)  # the first one only raised the window to 1 MiB
        s = self.post(c, "/upload-digest", body)
        self.assertEqual(s.status, 200, s)
        self.assertEqual(json.loads(bytes(s.data)),
                         {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()})
        self.assertGreater(c.conn_window_updates, updates)

    def test_content_length_larger_than_data(self):
        # RFC 9113 §8.1.1: content-length not equal to the sum of the DATA payloads is
        # malformed: stream error PROTOCOL_ERROR.
        c = self.h2c()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/echo", headers=[("content-length", "10")]))
        c.send_data(sid, b"12345")
        self.assert_stream_error(c, sid)

    def test_content_length_smaller_than_data(self):
        c = self.h2c()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/echo", headers=[("content-length", "3")]))
        c.send_data(sid, b"12345")
        self.assert_stream_error(c, sid)

    # -- priorities (RFC 9113 §5.3): deprecated, but the frames are still checked (so nghttp2
    # keeps RFC 7540's scheme: with SETTINGS_NO_RFC7540_PRIORITIES it skips PRIORITY frames
    # unread, and a stream depending on itself would go unanswered)

    def test_priority_frame_depending_on_itself_is_a_stream_error(self):
        c = self.h2c()
        sid = c.new_stream_id()
        c.send_frame(PRIORITY, 0, sid, struct.pack("!IB", sid, 15))
        s = c.stream(sid)
        c.read_until(lambda: s.reset is not None or c.goaway is not None)
        if c.goaway is None:
            self.assertEqual(s.reset, PROTOCOL_ERROR, s)
        else:
            self.assertEqual(c.goaway[1], PROTOCOL_ERROR)

    def test_headers_depending_on_themselves_are_an_error(self):
        c = self.h2c()
        sid = c.new_stream_id()
        block = struct.pack("!IB", sid, 15) + c.encode(c.request_fields("GET", "/plaintext"))
        c.send_raw(frame_bytes(HEADERS, END_HEADERS | END_STREAM | 0x20, sid, block))
        s = c.stream(sid)
        c.read_until(lambda: s.reset is not None or c.goaway is not None)
        if c.goaway is None:
            self.assertEqual(s.reset, PROTOCOL_ERROR, s)
        else:
            self.assertEqual(c.goaway[1], PROTOCOL_ERROR)
        self.assertIsNone(s.headers, "no response to a malformed HEADERS")

    def test_priority_frames_are_otherwise_ignored(self):
        # On an idle stream, on one's own closed stream, and in a HEADERS frame: no effect.
        c = self.h2c()
        c.send_frame(PRIORITY, 0, 101, struct.pack("!IB", 0x80000000 | 3, 200))
        sid = c.new_stream_id()
        block = struct.pack("!IB", 0, 255) + c.encode(c.request_fields("GET", "/plaintext"))
        c.send_raw(frame_bytes(HEADERS, END_HEADERS | END_STREAM | 0x20, sid, block))
        s = c.wait_stream(sid)
        self.assertEqual((s.status, bytes(s.data)), (200, b"Hello, World!"))
        c.send_frame(PRIORITY, 0, sid, struct.pack("!IB", 0, 1))
        follow = c.get("/plaintext")
        self.assertEqual(follow.status, 200)
        self.assertIsNone(c.goaway)

    def test_body_over_max_body_size_declared(self):
        # 9 MiB declared against the 8 MiB --max-body-size: a 413 (RFC 9110 §15.5.14), whole,
        # before any RST_STREAM(NO_ERROR) that stops the upload (RFC 9113 §8.1); the server
        # must not read it all first.
        c = self.h2c()
        c.wait_settings()
        sid = c.new_stream_id()
        size = 9 * 1024 * 1024
        c.send_headers(sid, c.request_fields("POST", "/echo",
                                             headers=[("content-length", str(size))]))
        c.send_data(sid, b"x" * size, stop_early=True)
        s = c.wait_stream(sid, timeout=30)
        self.assertEqual(s.status, 413, s)
        self.assertTrue(s.ended, "the 413 ends the stream before a reset: %r" % s)
        self.assert_fresh_connection_served()
        self.assertIsNone(c.goaway)

    def test_body_over_max_body_size_undeclared(self):
        c = self.h2c()
        c.wait_settings()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("POST", "/echo"))
        sent_all = c.send_data(sid, b"x" * (9 * 1024 * 1024), stop_early=True)
        s = c.wait_stream(sid, timeout=30)
        self.assertEqual(s.status, 413, (sent_all, s))
        self.assertTrue(s.ended, "the 413 ends the stream before a reset: %r" % s)
        # The connection is still good for another request.
        follow = c.get("/plaintext")
        self.assertEqual((follow.status, bytes(follow.data)), (200, b"Hello, World!"))


# -- flow control on responses -------------------------------------------------------------


class ResponseFlowControlTest(Http2Case):
    def test_tiny_initial_window(self):
        # RFC 9113 §6.9.1: the server sends no more than the stream window allows.
        c = self.h2c(settings={SETTINGS_INITIAL_WINDOW_SIZE: 1000})
        s = c.get("/blob.bin", timeout=30)
        self.assertEqual(s.status, 200)
        self.assertEqual(bytes(s.data), BLOB)
        sizes = [f[3] for f in c.frames if f[0] == DATA and f[2] == s.id]
        self.assertLessEqual(max(sizes), 1000)
        self.assertGreaterEqual(len(sizes), 200)

    def test_manual_window_updates_exact(self):
        # The client opens the stream window by hand, 10000 bytes at a time; the server never
        # overruns what is open.
        c = self.h2c(settings={SETTINGS_INITIAL_WINDOW_SIZE: 0}, auto_window=False)
        c.wait_settings()
        sid = c.request("GET", "/blob.bin")
        s = c.stream(sid)
        c.read_until(lambda: s.headers is not None)
        granted = 0
        while not s.ended:
            self.assertLessEqual(len(s.data), granted)
            if len(s.data) == granted:
                c.window_update(sid, 10000)
                c.window_update(0, 10000)
                granted += 10000
            c.read_one(time.monotonic() + 10)
        self.assertEqual(bytes(s.data), BLOB)

    def test_closed_window_does_not_hold_up_others(self):
        # A client that never opens its window gets nothing past it, and the one worker keeps
        # serving a second connection meanwhile.
        stalled = self.h2c(settings={SETTINGS_INITIAL_WINDOW_SIZE: 0}, auto_window=False)
        stalled.wait_settings()
        sids = [stalled.request("GET", p) for p in ("/blob.bin", "/bytes?n=10000000")]
        stalled.read_until(lambda: all(stalled.stream(i).headers for i in sids))
        other = self.h2c()
        for _ in range(3):
            s = other.get("/blob.bin")
            self.assertEqual(bytes(s.data), BLOB)
        try:
            stalled.read_until(lambda: False, timeout=0.5)
        except H2Timeout:
            pass
        for i in sids:
            self.assertEqual(len(stalled.stream(i).data), 0, stalled.stream(i))
        # Opened at last, it completes.
        stalled.rst(sids[1])
        stalled.window_update(sids[0], len(BLOB))
        stalled.window_update(0, len(BLOB))
        s = stalled.wait_stream(sids[0])
        self.assertEqual(bytes(s.data), BLOB)


class UnreadConnectionTest(unittest.TestCase):
    def test_client_that_never_reads(self):
        # A client opens every window wide and then reads nothing: the server stops at what
        # its socket takes, serves a second connection meanwhile, and drops the first once
        # the send grace is over (--send-grace 1000 here).
        srv = WharfServer(workers=1, extra_args=["--send-grace", "1000"])
        srv.start()
        self.addCleanup(srv.cleanup)
        pid = srv.proc.pid
        c = H2Client.h2c(srv.port, settings={SETTINGS_INITIAL_WINDOW_SIZE: 0x7FFFFFFF})
        self.addCleanup(c.close)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.wait_settings()
        c.window_update(0, 0x7FFFFFFF - 65535)
        c.request("GET", "/bytes?n=1000000000")
        blocked = lambda: [t for t in server_sockets(srv.port) if t[0] == 0x01 and t[1] > 0]
        self.assertTrue(wait_for(lambda: blocked(), 10), "the server's socket never filled")
        rss = rss_bytes(pid)
        other = H2Client.h2c(srv.port)
        self.addCleanup(other.close)
        for _ in range(3):
            self.assertEqual(bytes(other.get("/blob.bin").data), BLOB)
        self.assertTrue(wait_for(lambda: not blocked(), 15),
                        "the server kept the unread connection: %r" % server_sockets(srv.port))
        if not binary_is_asan():
            self.assertLess(rss_bytes(pid) - rss, RSS_GROWTH_LIMIT)
        self.assertEqual(bytes(other.get("/plaintext").data), b"Hello, World!")
        srv.stop()


# -- resets and GOAWAY ---------------------------------------------------------------------


class ResetTest(Http2Case):
    def test_client_reset_mid_response(self):
        # RFC 9113 §6.4: RST_STREAM ends one stream; the connection goes on.
        c = self.h2c()
        sid = c.request("GET", "/bytes?n=1000000000")
        s = c.stream(sid)
        c.read_until(lambda: len(s.data) >= 100000, timeout=20)
        c.rst(sid, CANCEL)
        at_reset = len(s.data)
        follow = c.get("/plaintext")
        self.assertEqual((follow.status, bytes(follow.data)), (200, b"Hello, World!"))
        big = c.get("/blob.bin")
        self.assertEqual(bytes(big.data), BLOB)
        # What came after the reset was sent before the server saw it: within one window.
        self.assertLessEqual(len(s.data) - at_reset, 16 * 1024 * 1024)
        self.assertFalse(s.ended)

    def test_client_reset_of_streamed_response(self):
        c = self.h2()
        sid = c.request("GET", "/stream?chunks=1000&size=4096&delay_ms=5")
        s = c.stream(sid)
        c.read_until(lambda: len(s.data) >= 8192, timeout=20)
        c.rst(sid, CANCEL)
        follow = c.get("/plaintext")
        self.assertEqual((follow.status, bytes(follow.data)), (200, b"Hello, World!"))

    def test_reset_before_response(self):
        c = self.h2c()
        sid = c.request("GET", "/wait?ms=300")
        c.rst(sid, CANCEL)
        follow = c.get("/plaintext")
        self.assertEqual(follow.status, 200)


class GracefulStopTest(unittest.TestCase):
    def test_goaway_on_sigterm_in_flight_stream_completes(self):
        # RFC 9113 §6.8: GOAWAY lets streams up to its last-stream-id complete; then the
        # server closes the connection and exits 0.
        srv = WharfServer(workers=1)
        srv.start()
        self.addCleanup(srv.cleanup)
        c = H2Client.h2c(srv.port)
        self.addCleanup(c.close)
        c.wait_settings()
        first = c.get("/plaintext")
        self.assertEqual(first.status, 200)
        sid = c.request("GET", "/wait?ms=1000")
        time.sleep(0.2)  # the request is in the server's hands (it can only be later: slower)
        srv.proc.send_signal(signal.SIGTERM)
        goaway = c.wait_goaway(timeout=10)
        self.assertIsNotNone(goaway)
        self.assertEqual(goaway[1], NO_ERROR)
        self.assertGreaterEqual(goaway[0], sid)
        s = c.wait_stream(sid, timeout=10)
        self.assertEqual((s.status, bytes(s.data)), (200, b"waited 1000 ms"))
        self.assertTrue(c.wait_closed(10))
        self.assertEqual(srv.wait_exit(10), 0)


class IdleStopTest(unittest.TestCase):
    def test_sigterm_with_idle_connection(self):
        # An idle h2 connection gets GOAWAY NO_ERROR (last stream id = the last one served)
        # and is closed; the server exits 0 without waiting for the shutdown timeout.
        srv = WharfServer(workers=1, extra_args=["--shutdown-timeout", "8000"])
        srv.start()
        self.addCleanup(srv.cleanup)
        c = H2Client.h2c(srv.port)
        self.addCleanup(c.close)
        self.assertEqual(c.get("/plaintext").status, 200)
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(c.wait_goaway(5), (1, NO_ERROR, b""))
        self.assertTrue(c.wait_closed(5))
        self.assertEqual(srv.wait_exit(10), 0)
        self.assertLess(time.monotonic() - start, 6)


# -- malformed requests --------------------------------------------------------------------


class MalformedTest(Http2Case):
    def send(self, c, fields, end_stream=True):
        sid = c.new_stream_id()
        c.send_headers(sid, fields, end_stream=end_stream)
        return sid

    def base(self, method="GET", path="/plaintext"):
        return [(":method", method), (":scheme", "http"), (":authority", "localhost"),
                (":path", path)]

    def test_uppercase_field_name(self):
        # RFC 9113 §8.2.1.
        c = self.h2c()
        self.assert_stream_error(c, self.send(c, self.base() + [("X-Upper", "1")]))

    def test_connection_specific_field(self):
        # RFC 9113 §8.2.2.
        for name, value in (("connection", "keep-alive"), ("keep-alive", "timeout=5"),
                            ("transfer-encoding", "chunked"), ("upgrade", "h2c"),
                            ("proxy-connection", "keep-alive")):
            with self.subTest(name=name):
                c = self.h2c()
                self.assert_stream_error(c, self.send(c, self.base() + [(name, value)]))

    def test_te_other_than_trailers(self):
        # RFC 9113 §8.2.2: TE may only be "trailers".
        c = self.h2c()
        self.assert_stream_error(c, self.send(c, self.base() + [("te", "gzip")]))
        s = c.wait_stream(self.send(c, self.base() + [("te", "trailers")]))
        self.assertEqual(s.status, 200)

    def test_missing_pseudo_fields(self):
        # RFC 9113 §8.3.1: :method, :scheme and :path are required.
        for missing in (":path", ":method", ":scheme"):
            with self.subTest(missing=missing):
                c = self.h2c()
                fields = [f for f in self.base() if f[0] != missing]
                self.assert_stream_error(c, self.send(c, fields))

    def test_path_not_absolute(self):
        # RFC 9113 §8.3.1: :path is absolute-path [ "?" query ] (or "*" for OPTIONS).
        for path in ("plaintext", ""):
            with self.subTest(path=path):
                c = self.h2c()
                self.assert_stream_error(c, self.send(c, self.base(path=path)))

    def test_pseudo_field_after_regular(self):
        # RFC 9113 §8.3: pseudo-fields come before the regular fields.
        c = self.h2c()
        fields = self.base()[:3] + [("x-a", "1"), (":path", "/plaintext")]
        self.assert_stream_error(c, self.send(c, fields))

    def test_duplicate_pseudo_field(self):
        c = self.h2c()
        self.assert_stream_error(c, self.send(c, self.base() + [(":path", "/json")]))

    def test_response_pseudo_field_in_request(self):
        c = self.h2c()
        self.assert_stream_error(c, self.send(c, self.base() + [(":status", "200")]))

    def test_lower_stream_id(self):
        # RFC 9113 §5.1.1: a stream id lower than one already opened is a connection error
        # of type PROTOCOL_ERROR.
        c = self.h2c()
        s5 = c.wait_stream(self.send_on(c, 5))
        self.assertEqual(s5.status, 200)
        c.send_headers(3, self.base(), end_stream=True)
        self.assert_connection_error(c, PROTOCOL_ERROR)

    def send_on(self, c, sid):
        c.send_headers(sid, self.base(), end_stream=True)
        return sid

    def test_even_stream_id(self):
        # RFC 9113 §5.1.1: client streams are odd.
        c = self.h2c()
        c.send_headers(2, self.base(), end_stream=True)
        self.assert_connection_error(c, PROTOCOL_ERROR)

    def test_data_on_stream_zero(self):
        # RFC 9113 §6.1.
        c = self.h2c()
        c.send_frame(DATA, 0, 0, b"hello")
        self.assert_connection_error(c, PROTOCOL_ERROR)

    def test_frame_larger_than_max_frame_size(self):
        # RFC 9113 §4.2: FRAME_SIZE_ERROR for a frame over SETTINGS_MAX_FRAME_SIZE (16384).
        c = self.h2c()
        self.assertEqual(c.wait_settings().get(SETTINGS_MAX_FRAME_SIZE, 16384), 16384)
        sid = self.send(c, self.base("POST", "/echo"), end_stream=False)
        c.send_frame(DATA, END_STREAM, sid, b"z" * 16385)
        c.read_until(lambda: c.goaway is not None or c.stream(sid).reset is not None)
        code = c.goaway[1] if c.goaway else c.stream(sid).reset
        self.assertEqual(code, FRAME_SIZE_ERROR, (c.goaway, c.stream(sid)))

    def test_invalid_preface_h2c(self):
        # RFC 9113 §3.4: an invalid preface is a connection error; nothing is served.
        srv = self.server
        with srv.connect() as sock:
            sock.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + frame_bytes(SETTINGS, 0, 0))
            self.assertTrue(wait_closed(sock, 10))
        self.assert_fresh_connection_served()

    def test_invalid_preface_tls(self):
        c = H2Client.tls(self.server.tls_port, certs().ca, preface=False)
        self.addCleanup(c.close)
        c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(c.wait_closed(10))
        self.assertNotIn(b"HTTP/1.1 200", bytes(c.buf))

    def test_settings_frame_bad_length(self):
        # RFC 9113 §6.5: a SETTINGS length not a multiple of 6 is FRAME_SIZE_ERROR.
        c = self.h2c()
        c.send_frame(SETTINGS, 0, 0, b"\x00\x04\x00\x00")
        self.assert_connection_error(c, FRAME_SIZE_ERROR)

    def test_window_update_zero_increment_on_stream(self):
        # RFC 9113 §6.9: a zero increment on a stream is a stream error PROTOCOL_ERROR (which
        # §5.4.1 lets an endpoint treat as a connection error).
        c = self.h2c()
        sid = self.send(c, self.base(path="/wait?ms=200"))
        c.window_update(sid, 0)
        s = c.stream(sid)
        c.read_until(lambda: s.done or c.goaway is not None)
        code = s.reset if s.reset is not None else c.goaway[1]
        self.assertEqual(code, PROTOCOL_ERROR, (s, c.goaway))

    def test_window_update_zero_increment_on_connection(self):
        # RFC 9113 §6.9: on the connection it is a connection error PROTOCOL_ERROR.
        c = self.h2c()
        c.window_update(0, 0)
        self.assert_connection_error(c, PROTOCOL_ERROR)

    def test_headers_on_stream_zero(self):
        c = self.h2c()
        c.send_headers(0, self.base(), end_stream=True)
        self.assert_connection_error(c, PROTOCOL_ERROR)


# -- limits --------------------------------------------------------------------------------


class LimitsTest(Http2Case):
    def assert_refused_large_head(self, c, sid):
        s = c.wait_stream(sid)
        self.assertTrue(s.status == 431 or s.reset is not None, s)
        if s.status is not None:
            self.assertEqual(s.status, 431)
        self.assert_fresh_connection_served()

    def test_too_many_header_fields(self):
        c = self.h2c()
        sid = c.new_stream_id()
        c.send_headers(sid, c.request_fields("GET", "/headers", headers=[
            ("x-field-%d" % i, "v") for i in range(101)]), end_stream=True)
        self.assert_refused_large_head(c, sid)

    def test_header_fields_at_limit_accepted(self):
        # 90 fields, well under the limits: all of them reach the handler.
        c = self.h2c()
        s = c.get("/headers", headers=[("x-field-%d" % i, "v%d" % i) for i in range(90)])
        self.assertEqual(s.status, 200)
        got = json.loads(bytes(s.data))
        self.assertEqual(got["x-field-89"], "v89")

    def test_header_section_too_large(self):
        c = self.h2c()
        c.wait_settings()
        sid = c.new_stream_id()
        big = os.urandom(20 * 1024).hex()  # 40 KiB that HPACK cannot shrink much
        c.send_headers(sid, c.request_fields("GET", "/headers", headers=[("x-big", big)]),
                       end_stream=True)
        self.assert_refused_large_head(c, sid)

    # RFC 9113 §5.1.2: HEADERS past the acknowledged SETTINGS_MAX_CONCURRENT_STREAMS is a
    # stream error (RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR), not a connection error: the
    # 100 streams in flight are answered.
    def test_max_concurrent_streams(self):
        # RFC 9113 §5.1.2: HEADERS past SETTINGS_MAX_CONCURRENT_STREAMS is a stream error
        # PROTOCOL_ERROR or REFUSED_STREAM; the others are served.
        c = self.h2c()
        limit = c.wait_settings()[SETTINGS_MAX_CONCURRENT_STREAMS]
        self.assertEqual(limit, 100)
        c.read_until(lambda: c.settings_acks >= 1)  # our ACK of theirs went out before
        ids = [c.new_stream_id() for _ in range(limit + 5)]
        c.send_raw(b"".join(
            frame_bytes(HEADERS, END_STREAM | END_HEADERS, i,
                        c.encode(c.request_fields("GET", "/wait?ms=1500"))) for i in ids))
        c.read_until(lambda: all(c.stream(i).done for i in ids), timeout=30)
        refused = [i for i in ids if c.stream(i).reset is not None]
        served = [i for i in ids if c.stream(i).status == 200]
        self.assertEqual(len(served), limit, [c.stream(i) for i in refused])
        self.assertEqual(refused, ids[limit:])
        for i in refused:
            self.assertIn(c.stream(i).reset, (REFUSED_STREAM, PROTOCOL_ERROR))
        self.assertIsNone(c.goaway)


# -- attacks -------------------------------------------------------------------------------


class AttackTest(unittest.TestCase):
    """Each attack on its own server, whose descriptors and memory are compared before and
    after; a fresh connection must be served afterwards."""

    def setUp(self):
        # A short keep-alive timeout reaps what test_client_close_noticed shows the server
        # can miss (a client's FIN right behind its last frame), so that the descriptor
        # checks here measure the attacks, not that bug.
        self.srv = WharfServer(workers=1, extra_args=["--keep-alive-timeout", "1500"])
        self.srv.start()
        self.addCleanup(self.srv.cleanup)
        self.clients = []
        pid = self.srv.proc.pid
        # No connection yet; the warm-up leaves blob.bin in the server's open-file cache.
        self.fds = fd_count(pid) + 1
        warm = H2Client.h2c(self.srv.port)
        self.assertEqual(warm.get("/blob.bin").status, 200)
        warm.close()
        self.assertTrue(wait_for(lambda: fd_count(pid) <= self.fds, 5),
                        "%d > %d: %r" % (fd_count(pid), self.fds, fd_targets(pid)))
        self.rss = rss_bytes(pid)

    def client(self):
        c = H2Client.h2c(self.srv.port)
        self.clients.append(c)
        return c

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.assertTrue(self.srv.alive(), "server died:\n" + self.srv.stderr())
        c = H2Client.h2c(self.srv.port)
        try:
            s = c.get("/plaintext")
            self.assertEqual((s.status, bytes(s.data)), (200, b"Hello, World!"))
        finally:
            c.close()
        pid = self.srv.proc.pid
        self.assertTrue(wait_for(lambda: fd_count(pid) <= self.fds, 5),
                        "descriptors: %d before, %d after: %r" % (self.fds, fd_count(pid),
                                                                  fd_targets(pid)))
        if not binary_is_asan():
            growth = rss_bytes(pid) - self.rss
            self.assertLess(growth, RSS_GROWTH_LIMIT, "RSS grew by %d bytes" % growth)
        self.srv.stop()

    def flood(self, c, data, seconds=10):
        """Sends `data` in pieces while the server takes it; stops when it stops reading
        (a full socket for a second) or closes."""
        c.sock.settimeout(1.0)
        view = memoryview(data)
        deadline = time.monotonic() + seconds
        while view and time.monotonic() < deadline:
            try:
                n = c.sock.send(view[:65536])
            except (OSError, ValueError):
                return False
            view = view[n:]
        return not view

    def test_rapid_reset(self):
        # CVE-2023-44487: 2000 streams opened and reset at once, more than the server's burst
        # of 1000 resets: GOAWAY ENHANCE_YOUR_CALM, and nothing else is harmed.
        c = self.client()
        c.wait_settings()
        burst = bytearray()
        for i in range(2000):
            sid = 1 + 2 * i
            block = c.encode(c.request_fields("GET", "/wait?ms=50"))
            burst += frame_bytes(HEADERS, END_STREAM | END_HEADERS, sid, block)
            burst += frame_bytes(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
        c.next_id = 4001
        self.flood(c, bytes(burst))
        try:
            c.read_until(lambda: c.goaway is not None or c.eof, timeout=2)
        except H2Timeout:
            pass
        self.assertIsNotNone(c.goaway, "no GOAWAY after 2000 rapid resets")
        self.assertEqual(c.goaway[1], ENHANCE_YOUR_CALM, c.goaway)
        # What the server answered on the reset streams is bounded.
        answered = sum(1 for s in c.streams.values() if s.headers and s.id < 4001)
        self.assertLessEqual(answered, 2000)

    def test_continuation_flood(self):
        # CVE-2024-27316 and friends: HEADERS without END_HEADERS and endless CONTINUATION
        # frames. A connection error (GOAWAY) must come, and memory stays bounded.
        c = self.client()
        c.wait_settings()
        block = c.encode(c.request_fields("GET", "/plaintext"))
        data = bytearray(frame_bytes(HEADERS, END_STREAM, 1, block))
        filler = c.encode([("x-f", "a" * 1000)])
        piece = frame_bytes(CONTINUATION, 0, 1, filler * 16)
        data += piece * 5000
        self.flood(c, bytes(data))
        self.assertTrue(c.wait_closed(10), "connection still open after a CONTINUATION flood")
        if c.goaway is not None:  # SHOULD (RFC 9113 §5.4.1), see test_too_many_continuations
            self.assertNotEqual(c.goaway[1], NO_ERROR)
        self.assertIsNone(c.stream(1).headers)

    def test_continuation_flood_empty_frames(self):
        c = self.client()
        c.wait_settings()
        block = c.encode(c.request_fields("GET", "/plaintext"))
        data = bytearray(frame_bytes(HEADERS, END_STREAM, 1, block))
        data += frame_bytes(CONTINUATION, 0, 1) * 100000
        self.flood(c, bytes(data))
        self.assertTrue(c.wait_closed(10), "connection still open after a CONTINUATION flood")
        if c.goaway is not None:
            self.assertNotEqual(c.goaway[1], NO_ERROR)

    # RFC 9113 §5.4.1: an endpoint that encounters a connection error SHOULD first send GOAWAY
    # with the error code; past the limit of 8 CONTINUATION frames that is ENHANCE_YOUR_CALM
    # (here all 20 frames are in the server's hands at once, so no reset can have eaten it).
    def test_too_many_continuations_goaway(self):
        c = self.client()
        c.wait_settings()
        block = c.encode(c.request_fields("GET", "/plaintext"))
        c.send_raw(frame_bytes(HEADERS, END_STREAM, 1, block) + frame_bytes(CONTINUATION, 0, 1) * 20)
        self.assertTrue(c.wait_closed(10))
        self.assertIsNotNone(c.goaway, "closed without GOAWAY")
        self.assertNotEqual(c.goaway[1], NO_ERROR)

    def reading_flood(self, frame, count, acks):
        """Sends `count` copies of `frame` without reading, then reads what comes: the
        server either answers each (bounded by what it buffers meanwhile) or gives up with
        GOAWAY/closing; it must not hold an unbounded backlog."""
        c = self.client()
        c.wait_settings()
        self.flood(c, frame * count)
        peak = rss_bytes(self.srv.proc.pid)
        try:
            c.read_until(lambda: c.eof or acks(c) >= count, timeout=10)
        except H2Timeout:
            pass
        if not binary_is_asan():
            self.assertLess(peak - self.rss, RSS_GROWTH_LIMIT)
        if c.goaway is not None:
            self.assertIn(c.goaway[1], (ENHANCE_YOUR_CALM, NO_ERROR, PROTOCOL_ERROR), c.goaway)
        return c

    def test_settings_flood(self):
        frame = frame_bytes(SETTINGS, 0, 0, settings_payload({SETTINGS_INITIAL_WINDOW_SIZE: 65535}))
        self.reading_flood(frame, 50000, lambda c: c.frames.count((SETTINGS, 1, 0, 0)))

    def test_ping_flood(self):
        self.reading_flood(frame_bytes(PING, 0, 0, b"pingpong"), 100000,
                           lambda c: len(c.ping_acks))

    def test_many_connections_opened_and_dropped(self):
        # Half-open h2 connections dropped mid-stream leave no descriptor behind.
        for i in range(50):
            c = self.client()
            c.request("GET", "/bytes?n=10000000")
            if i % 2:
                c.read_until(lambda: c.stream(1).headers is not None)
            c.close()


class ConnectionCloseTest(unittest.TestCase):
    # A client's FIN that arrives together with its last frame (here the WINDOW_UPDATE the
    # client sends for the response's DATA, right before close()) is noticed at once: the
    # server's socket must not stay in CLOSE_WAIT until the keep-alive timeout.
    def test_client_close_noticed(self):
        srv = WharfServer(workers=1)
        srv.start()
        self.addCleanup(srv.cleanup)
        for _ in range(60):
            c = H2Client.h2c(srv.port)
            s = c.get("/plaintext")
            self.assertEqual(s.status, 200)
            c.close()
        stale = lambda: [t for t in server_sockets(srv.port) if t[0] == TCP_CLOSE_WAIT]
        wait_for(lambda: not stale(), 3)
        self.assertEqual(len(stale()), 0, "connections the client closed, still open")
        srv.stop()


class IdleTimeoutTest(unittest.TestCase):
    def test_idle_connection_closed_after_keep_alive_timeout(self):
        # An idle h2 connection is closed with GOAWAY (RFC 9113 §9.1: a server that closes
        # an idle connection should send GOAWAY first).
        srv = WharfServer(workers=1, extra_args=["--keep-alive-timeout", "600"])
        srv.start()
        self.addCleanup(srv.cleanup)
        c = H2Client.h2c(srv.port)
        self.addCleanup(c.close)
        self.assertEqual(c.get("/plaintext").status, 200)
        start = time.monotonic()
        self.assertTrue(c.wait_closed(10), "idle connection not closed")
        self.assertGreaterEqual(time.monotonic() - start, 0.4)
        self.assertIsNotNone(c.goaway)
        self.assertEqual(c.goaway[1], NO_ERROR)
        self.assertEqual(c.goaway[0], 1)
        srv.stop()

    def test_busy_connection_not_closed_by_keep_alive_timeout(self):
        # A stream in progress is not idleness: /wait outlives the keep-alive timeout.
        srv = WharfServer(workers=1, extra_args=["--keep-alive-timeout", "300"])
        srv.start()
        self.addCleanup(srv.cleanup)
        c = H2Client.h2c(srv.port)
        self.addCleanup(c.close)
        s = c.wait_stream(c.request("GET", "/wait?ms=1200"))
        self.assertEqual((s.status, bytes(s.data)), (200, b"waited 1200 ms"))
        srv.stop()


class AccessLogTest(unittest.TestCase):
    def test_access_log_says_http2(self):
        logdir = tempfile.TemporaryDirectory(prefix="wharf-log-")
        self.addCleanup(logdir.cleanup)
        log = os.path.join(logdir.name, "access.log")
        srv = WharfServer(workers=1, extra_args=["--access-log", log] + certs().server_args())
        srv.start()
        self.addCleanup(srv.cleanup)
        c = H2Client.h2c(srv.port)
        self.assertEqual(c.get("/plaintext?x=1").status, 200)
        c.close()
        c = H2Client.tls(srv.tls_port, certs().ca)
        self.assertEqual(c.get("/missing.txt").status, 404)
        c.close()
        pattern = re.compile(r'"(\S+) (\S+) (HTTP/\d\.\d)" (\d{3}) (\d+|-)')
        lines = []
        wait_for(lambda: len(self._lines(log, lines)) >= 2, 5)
        found = [pattern.search(l).groups() for l in lines if pattern.search(l)]
        self.assertIn(("GET", "/plaintext?x=1", "HTTP/2.0", "200", "13"), found, lines)
        self.assertIn(("GET", "/missing.txt", "HTTP/2.0", "404"), [f[:4] for f in found], lines)
        srv.stop()

    @staticmethod
    def _lines(path, out):
        out.clear()
        if os.path.exists(path):
            with open(path, "rb") as f:
                out.extend(f.read().decode("utf-8").splitlines())
        return out


if __name__ == "__main__":
    unittest.main()
