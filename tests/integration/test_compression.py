# SPDX-License-Identifier: MIT
"""On-the-fly compression in `wharf serve` (issue 14): br, zstd and gzip chosen by
Accept-Encoding, what is never compressed, validators, streamed bodies that stay live,
precompressed files first, --no-compress, curl --compressed, and HTTP/2."""

import gzip
import os
import subprocess
import unittest
import zlib

import debian_modules  # noqa: F401  (before brotli and zstandard)
import brotli
import zstandard

from h2_client import H2Client
from wharf_server import SharedServerTestCase, WharfServer


def decode(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return brotli.decompress(data)
    if coding == "zstd":
        # The frame need not record its size (streamed bodies): decode as a stream.
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    raise AssertionError("unexpected coding %r" % coding)


def tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


CSS = b"body { margin: 0; padding: 0; font-family: sans-serif; }\n" * 200


class CompressionTestCase(SharedServerTestCase):
    @classmethod
    def prepare_site(cls, site):
        with open(os.path.join(site, "style.css"), "wb") as f:
            f.write(CSS)
        # A precompressed gzip variant only: gzip requests get these exact bytes.
        with open(os.path.join(site, "style.css.gz"), "wb") as f:
            f.write(gzip.compress(CSS, 9, mtime=0))
        with open(os.path.join(site, "tiny.txt"), "wb") as f:
            f.write(b"tiny\n")

    def request(self, method, path, headers=None):
        conn = self.server.http_connection()
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get(self, path, accept_encoding=None, **extra):
        headers = dict(extra)
        if accept_encoding is not None:
            headers["Accept-Encoding"] = accept_encoding
        return self.request("GET", path, headers)

    def identity(self, path):
        status, headers, body = self.get(path)
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        return body


class ChoiceTest(CompressionTestCase):
    def test_each_coding_round_trips(self):
        plain = self.identity("/json/64k")
        self.assertEqual(len(plain), 65536)
        for coding in ("br", "zstd", "gzip"):
            with self.subTest(coding=coding):
                status, headers, body = self.get("/json/64k", coding)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), coding)
                self.assertIn("accept-encoding", tokens(headers.get("vary")))
                self.assertEqual(headers["content-type"], "application/json")
                self.assertEqual(int(headers["content-length"]), len(body))
                self.assertLess(len(body), len(plain) // 3)
                self.assertEqual(decode(coding, body), plain)

    def test_weights_and_server_preference(self):
        rows = [
            ("gzip, deflate, br, zstd", "br"),
            ("gzip, deflate, br", "br"),
            ("zstd, gzip", "zstd"),
            ("gzip", "gzip"),
            ("x-gzip", "gzip"),
            ("br;q=0.1, gzip;q=0.9", "gzip"),
            ("br;q=0.5, zstd;q=0.7, gzip;q=0.6", "zstd"),
            ("*", "br"),
            ("*;q=0.1, gzip", "gzip"),
            ("br;q=0, *", "zstd"),
            ("gzip;q=0", None),
            ("identity", None),
            ("", None),
            ("deflate", None),
            ("gzip;q=0.5, identity", None),
        ]
        for accept, want in rows:
            with self.subTest(accept_encoding=accept):
                status, headers, body = self.get("/json/64k", accept)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), want)
                self.assertIn("accept-encoding", tokens(headers.get("vary")))
                if want:
                    decode(want, body)  # raises when it is not that coding
                else:
                    self.assertEqual(len(body), 65536)

    def test_no_accept_encoding_is_identity_with_vary(self):
        status, headers, body = self.get("/json/64k")
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        self.assertIn("accept-encoding", tokens(headers.get("vary")))
        self.assertEqual(len(body), 65536)


class NeverCompressedTest(CompressionTestCase):
    def test_small_bodies(self):
        status, headers, body = self.get("/negotiate", "gzip, br")
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        self.assertIn("accept-encoding", tokens(headers.get("vary")))
        self.assertEqual(body, b'{"message":"Hello, World!"}')
        status, headers, body = self.get("/tiny.txt", "gzip, br")
        self.assertNotIn("content-encoding", headers)
        self.assertEqual(body, b"tiny\n")

    def test_types_that_do_not_compress(self):
        status, headers, body = self.get("/bytes?n=100000", "gzip, br, zstd")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertNotIn("content-encoding", headers)
        self.assertNotIn("accept-encoding", tokens(headers.get("vary")))
        self.assertEqual(len(body), 100000)

    def test_head(self):
        status, headers, body = self.request("HEAD", "/json/64k", {"Accept-Encoding": "br"})
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        self.assertIn("accept-encoding", tokens(headers.get("vary")))
        self.assertEqual(body, b"")

    def test_ranges_are_of_the_identity(self):
        plain = self.identity("/ranges-demo")
        status, headers, body = self.get("/ranges-demo", "gzip, br", Range="bytes=10-109")
        self.assertEqual(status, 206)
        self.assertNotIn("content-encoding", headers)
        self.assertEqual(body, plain[10:110])
        self.assertEqual(headers["content-range"], "bytes 10-109/%d" % len(plain))

    def test_no_transform(self):
        status, headers, body = self.get("/json/64k", "br", **{"Cache-Control": "no-transform"})
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        self.assertEqual(len(body), 65536)
        status, headers, _ = self.get("/json/64k", "br",
                                      **{"Cache-Control": "max-age=0, No-Transform"})
        self.assertNotIn("content-encoding", headers)


class ValidatorTest(CompressionTestCase):
    def test_the_coded_etag_differs_and_answers_conditionals(self):
        status, headers, body = self.get("/ranges-demo")
        identity_tag = headers["etag"]
        self.assertEqual(identity_tag, '"ranges-demo-1"')
        for coding in ("br", "zstd", "gzip"):
            with self.subTest(coding=coding):
                status, headers, body = self.get("/ranges-demo", coding)
                self.assertEqual(headers.get("content-encoding"), coding)
                tag = headers["etag"]
                self.assertEqual(tag, '"ranges-demo-1-%s"' % coding)
                # The coded tag validates the coded representation ...
                status, headers, body = self.get("/ranges-demo", coding, **{"If-None-Match": tag})
                self.assertEqual(status, 304)
                self.assertEqual(body, b"")
                self.assertEqual(headers["etag"], tag)
                self.assertNotIn("content-encoding", headers)
                self.assertIn("accept-encoding", tokens(headers.get("vary")))
                # ... and the identity tag no longer does.
                status, headers, body = self.get("/ranges-demo", coding,
                                                 **{"If-None-Match": identity_tag})
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), coding)
        status, _, _ = self.get("/ranges-demo", **{"If-None-Match": identity_tag})
        self.assertEqual(status, 304)

    def test_static_files_get_a_coded_etag(self):
        status, headers, _ = self.get("/style.css")
        plain_tag = headers["etag"]
        status, headers, body = self.get("/style.css", "br")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-encoding"), "br")
        self.assertNotEqual(headers["etag"], plain_tag)
        self.assertTrue(headers["etag"].endswith('-br"'), headers["etag"])
        self.assertEqual(decode("br", body), CSS)
        status, headers, body = self.get("/style.css", "br", **{"If-None-Match": headers["etag"]})
        self.assertEqual(status, 304)


class StreamedTest(CompressionTestCase):
    def test_each_event_arrives_decodable_before_the_next(self):
        # Events a second apart: each must be readable from the compressed stream while the
        # response is still open (a flush per send), not only at its end.
        conn = self.server.http_connection(timeout=30)
        try:
            conn.request("GET", "/events?count=3&interval_ms=1000", headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
            self.assertEqual(resp.getheader("Content-Type"), "text/event-stream")
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            text = b""
            seen_before_end = []
            while True:
                piece = resp.read1(65536)
                if not piece:
                    break
                text += decoder.decompress(piece)
                for n in range(3):
                    if b"data: %d\n" % n in text and n not in seen_before_end and not resp.isclosed():
                        seen_before_end.append(n)
            text += decoder.flush()
            self.assertTrue(decoder.eof, "the gzip stream was not finished")
            self.assertEqual(text.count(b"data: "), 3)
            # The first two events were decoded while the response still had more to come.
            self.assertIn(0, seen_before_end)
            self.assertIn(1, seen_before_end)
        finally:
            conn.close()

    def test_streamed_chunks_round_trip(self):
        plain = self.identity("/stream?chunks=20&size=3000")
        for coding in ("br", "zstd", "gzip"):
            with self.subTest(coding=coding):
                status, headers, body = self.get("/stream?chunks=20&size=3000", coding)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), coding)
                self.assertEqual(decode(coding, body), plain)


class StaticTest(CompressionTestCase):
    def test_precompressed_variant_first(self):
        with open(os.path.join(self.server.site, "style.css.gz"), "rb") as f:
            stored = f.read()
        status, headers, body = self.get("/style.css", "gzip")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertEqual(body, stored)  # the file's bytes, not compressed again
        self.assertEqual(headers["vary"].lower().count("accept-encoding"), 1)

    def test_on_the_fly_when_no_variant_fits(self):
        status, headers, body = self.get("/style.css", "br")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-encoding"), "br")
        self.assertEqual(decode("br", body), CSS)

    def test_curl_compressed(self):
        for path, plain in (("/json/64k", self.identity("/json/64k")), ("/style.css", CSS)):
            with self.subTest(path=path):
                out = subprocess.run(
                    ["curl", "-sS", "--compressed", "-D", "-", "-o", "-", *self.server.curl_args(),
                     self.server.url(path)],
                    capture_output=True, timeout=30, check=True).stdout
                head, _, body = out.partition(b"\r\n\r\n")
                self.assertIn(b"content-encoding:", head.lower())
                self.assertEqual(body, plain)


class NoCompressTest(SharedServerTestCase):
    EXTRA_ARGS = ("--no-compress",)

    def test_nothing_is_compressed(self):
        conn = self.server.http_connection()
        try:
            conn.request("GET", "/json/64k", headers={"Accept-Encoding": "gzip, br, zstd"})
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200)
            self.assertIsNone(resp.getheader("Content-Encoding"))
            self.assertNotIn("accept-encoding", tokens(resp.getheader("Vary")))
            self.assertEqual(len(body), 65536)
        finally:
            conn.close()


class Http2Test(CompressionTestCase):
    def h2(self):
        return H2Client.to_main_listener(self.server)

    def test_codings_over_http2(self):
        plain = self.identity("/json/64k")
        with self.h2() as c:
            for coding in ("br", "zstd", "gzip"):
                sid = c.request("GET", "/json/64k", headers=[("accept-encoding", coding)])
                s = c.wait_stream(sid, timeout=30)
                self.assertIsNone(s.reset)
                self.assertEqual(s.status, 200)
                self.assertEqual(s.header("content-encoding"), coding)
                self.assertIn("accept-encoding", tokens(s.header("vary")))
                self.assertEqual(decode(coding, bytes(s.data)), plain)
            # A streamed body of unknown length, compressed as it goes.
            sid = c.request("GET", "/events?count=3&interval_ms=0",
                            headers=[("accept-encoding", "br")])
            s = c.wait_stream(sid, timeout=30)
            self.assertEqual(s.header("content-encoding"), "br")
            self.assertEqual(decode("br", bytes(s.data)).count(b"data: "), 3)


if __name__ == "__main__":
    unittest.main()
