# SPDX-License-Identifier: MIT
"""Static files and byte ranges as real clients see them: curl, http.client, raw sockets."""

import email.parser
import email.policy
import gzip
import os
import shutil
import subprocess
import unittest

import debian_modules  # noqa: F401  (before brotli)
import brotli

from wharf_server import SECRET, SITE_FILES, SharedServerTestCase, WharfServer, exchange, get

BLOB = SITE_FILES["blob.bin"]
PLAIN = b"plain text that also exists gzip-compressed beside it\n" * 20
ODD_NAME = "a<b>&.txt"


def raw(port, target, headers=""):
    req = "GET %s HTTP/1.1\r\nHost: test\r\n%sConnection: close\r\n\r\n" % (target, headers)
    resp, _ = exchange(port, req.encode(), close_wait=0)
    return resp


def pattern(start, end):
    return bytes(ord("a") + i % 26 for i in range(start, end))


class StaticTestCase(SharedServerTestCase):
    EXTRA_ARGS = ("--cache-control", "max-age=60")

    @classmethod
    def prepare_site(cls, site):
        with open(os.path.join(site, "plain.txt"), "wb") as f:
            f.write(PLAIN)
        with open(os.path.join(site, "plain.txt.gz"), "wb") as f:
            f.write(gzip.compress(PLAIN))
        with open(os.path.join(site, ODD_NAME), "wb") as f:
            f.write(b"odd\n")
        os.makedirs(os.path.join(site, "noindex", "inner"))
        with open(os.path.join(site, "noindex", "x.txt"), "wb") as f:
            f.write(b"x\n")
        os.symlink(cls.server.tmp, os.path.join(site, "outdir"))

    def curl(self, *args):
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        out = subprocess.run(
            ["curl", "-s", "-S", "--max-time", "10", *self.server.curl_args(), *args],
            capture_output=True,
            timeout=20,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout


class RangeTest(StaticTestCase):
    def test_curl_single_range(self):
        body = self.curl("-r", "100-199", self.server.url("/blob.bin"))
        self.assertEqual(body, BLOB[100:200])
        self.assertEqual(self.curl("-r", "-10", self.server.url("/blob.bin")), BLOB[-10:])
        self.assertEqual(self.curl("-r", "199990-", self.server.url("/blob.bin")), BLOB[199990:])

    def test_curl_multi_range(self):
        body = self.curl("-i", "-r", "0-9,1000-1009", self.server.url("/blob.bin"))
        head, _, payload = body.partition(b"\r\n\r\n")
        self.assertIn(b"206 Partial Content", head)
        self.assertIn(b"multipart/byteranges; boundary=", head)
        self.assertIn(BLOB[0:10], payload)
        self.assertIn(BLOB[1000:1010], payload)

    def check_multipart(self, path, spec, expected_parts, total):
        conn = self.server.http_connection()
        try:
            conn.request("GET", path, headers={"Range": spec})
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 206)
            ctype = resp.getheader("Content-Type")
            self.assertTrue(ctype.startswith("multipart/byteranges; boundary="), ctype)
            self.assertEqual(int(resp.getheader("Content-Length")), len(body))
        finally:
            conn.close()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        )
        parts = list(msg.iter_parts())
        self.assertEqual(len(parts), len(expected_parts))
        for part, (first, last, data) in zip(parts, expected_parts):
            self.assertEqual(part["Content-Range"], "bytes %d-%d/%d" % (first, last, total))
            self.assertEqual(part.get_payload(decode=True), data)

    def test_multipart_file_parts(self):
        self.check_multipart(
            "/blob.bin",
            "bytes=0-99, 5000-5099, -50",
            [(0, 99, BLOB[0:100]), (5000, 5099, BLOB[5000:5100]),
             (len(BLOB) - 50, len(BLOB) - 1, BLOB[-50:])],
            len(BLOB),
        )

    def test_multipart_memory_parts(self):
        self.check_multipart(
            "/ranges-demo",
            "bytes=10-19,50000-50009,99990-",
            [(10, 19, pattern(10, 20)), (50000, 50009, pattern(50000, 50010)),
             (99990, 99999, pattern(99990, 100000))],
            100000,
        )

    def test_overlapping_ranges_coalesce(self):
        resp = raw(self.server.port, "/blob.bin", "Range: bytes=0-99,50-149\r\n")
        self.assertEqual(resp.status, 206)
        self.assertEqual(resp.header("Content-Range"), "bytes 0-149/%d" % len(BLOB))
        self.assertEqual(resp.body, BLOB[:150])

    def test_unsatisfiable(self):
        resp = raw(self.server.port, "/blob.bin", "Range: bytes=999999-\r\n")
        self.assertEqual(resp.status, 416)
        self.assertEqual(resp.header("Content-Range"), "bytes */%d" % len(BLOB))

    def test_malformed_ranges_are_ignored(self):
        for spec in ("bytes=5-1", "bytes=abc", "lines=1-2", "bytes=1-2-3", "bytes=", "bytes=--1"):
            with self.subTest(spec=spec):
                resp = raw(self.server.port, "/hello.txt", "Range: %s\r\n" % spec)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, SITE_FILES["hello.txt"])

    def test_abusive_ranges_get_the_whole(self):
        spec = "bytes=" + ",".join("0-%d" % (len(BLOB) - 1) for _ in range(3))
        resp = raw(self.server.port, "/blob.bin", "Range: %s\r\n" % spec)
        self.assertEqual(resp.status, 200)
        many = "bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(40))
        resp = raw(self.server.port, "/blob.bin", "Range: %s\r\n" % many)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, BLOB)

    def test_if_range(self):
        full = raw(self.server.port, "/ranges-demo")
        etag = full.header("ETag")
        self.assertEqual(etag, '"ranges-demo-1"')
        self.assertEqual(full.header("Accept-Ranges"), "bytes")
        ok = raw(self.server.port, "/ranges-demo", "Range: bytes=0-4\r\nIf-Range: %s\r\n" % etag)
        self.assertEqual((ok.status, ok.body), (206, b"abcde"))
        lm = full.header("Last-Modified")
        ok = raw(self.server.port, "/ranges-demo", "Range: bytes=0-4\r\nIf-Range: %s\r\n" % lm)
        self.assertEqual(ok.status, 206)
        stale = raw(self.server.port, "/ranges-demo", 'Range: bytes=0-4\r\nIf-Range: "old"\r\n')
        self.assertEqual((stale.status, len(stale.body)), (200, 100000))


class ConditionalTest(StaticTestCase):
    def test_curl_if_modified_since(self):
        path = os.path.join(self.server.site, "hello.txt")
        out = self.curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-z", path,
                        self.server.url("/hello.txt"))
        self.assertEqual(out, b"304")
        out = self.curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-z",
                        "Sun, 06 Nov 1994 08:49:37 GMT", self.server.url("/hello.txt"))
        self.assertEqual(out, b"200")

    def test_etag_and_validators(self):
        resp = get(self.server.port, "/hello.txt")
        etag = resp.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$')
        self.assertTrue(resp.header("Last-Modified").endswith(" GMT"))
        self.assertEqual(resp.header("Cache-Control"), "max-age=60")
        self.assertEqual(resp.header("Content-Type"), "text/plain; charset=utf-8")
        not_modified = raw(self.server.port, "/hello.txt", "If-None-Match: %s\r\n" % etag)
        self.assertEqual(not_modified.status, 304)
        self.assertEqual(not_modified.body, b"")
        self.assertEqual(not_modified.header("ETag"), etag)
        self.assertEqual(not_modified.header("Cache-Control"), "max-age=60")
        failed = raw(self.server.port, "/hello.txt", 'If-Match: "nope"\r\n')
        self.assertEqual(failed.status, 412)
        passed = raw(self.server.port, "/hello.txt", "If-Match: %s\r\n" % etag)
        self.assertEqual(passed.status, 200)

    def test_curl_compressed(self):
        body = self.curl("--compressed", "-D", "-", self.server.url("/plain.txt"))
        head, _, payload = body.partition(b"\r\n\r\n")
        self.assertIn(b"content-encoding: gzip", head.lower())
        self.assertIn(b"vary: accept-encoding", head.lower())
        self.assertEqual(payload, PLAIN)

    def test_variants_have_distinct_etags(self):
        gz = raw(self.server.port, "/plain.txt", "Accept-Encoding: gzip\r\n")
        self.assertEqual(gz.header("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(gz.body), PLAIN)
        ident = raw(self.server.port, "/plain.txt", "Accept-Encoding: gzip;q=0\r\n")
        self.assertIsNone(ident.header("Content-Encoding"))
        self.assertEqual(ident.header("Vary"), "Accept-Encoding")
        self.assertEqual(ident.body, PLAIN)
        self.assertNotEqual(gz.header("ETag"), ident.header("ETag"))
        # No .br beside it: br is made on the fly, with a validator of its own.
        br = raw(self.server.port, "/plain.txt", "Accept-Encoding: gzip;q=0, br\r\n")
        self.assertEqual(br.header("Content-Encoding"), "br")
        self.assertEqual(br.header("Vary"), "Accept-Encoding")
        self.assertEqual(brotli.decompress(br.body), PLAIN)
        self.assertEqual(len({gz.header("ETag"), ident.header("ETag"), br.header("ETag")}), 3)


class TraversalTest(StaticTestCase):
    def test_traversal_tricks(self):
        for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                       "/sub/..%2f..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/hello.txt%00",
                       "/escape.txt", "/outdir/secret.txt", "//../secret.txt",
                       "/sub/%2e/page.html"):
            with self.subTest(target=target):
                resp = raw(self.server.port, target)
                self.assertIn(resp.status, (400, 404), resp)
                self.assertNotIn(SECRET, resp.body)


class DirectoryTest(StaticTestCase):
    def test_redirect_keeps_query(self):
        resp = raw(self.server.port, "/sub?x=1&y=2")
        self.assertEqual(resp.status, 301)
        self.assertEqual(resp.header("Location"), "/sub/?x=1&y=2")

    def test_index(self):
        resp = get(self.server.port, "/sub/")
        self.assertEqual((resp.status, resp.body), (200, SITE_FILES["sub/index.html"]))

    def test_listing_escapes_names(self):
        resp = get(self.server.port, "/noindex/")
        self.assertEqual(resp.status, 200)
        self.assertIn(b'<a href="x.txt">x.txt</a>', resp.body)
        self.assertIn(b'<a href="inner/">inner/</a>', resp.body)
        self.assertIn(b'<a href="../">', resp.body)
        root = get(self.server.port, "/nonexistent-dir/")
        self.assertEqual(root.status, 404)

    def test_root_listing_with_odd_name(self):
        os.remove(os.path.join(self.server.site, "index.html"))
        try:
            resp = get(self.server.port, "/")
            self.assertEqual(resp.status, 200)
            self.assertIn(b'<a href="a%3Cb%3E%26.txt">a&lt;b&gt;&amp;.txt</a>', resp.body)
            self.assertNotIn(b"<b>", resp.body)
            odd = get(self.server.port, "/a%3Cb%3E%26.txt")
            self.assertEqual((odd.status, odd.body), (200, b"odd\n"))
        finally:
            with open(os.path.join(self.server.site, "index.html"), "wb") as f:
                f.write(SITE_FILES["index.html"])


class NoListingTest(StaticTestCase):
    EXTRA_ARGS = ("--no-listing", "--index", "page.html")

    def test_no_listing(self):
        resp = get(self.server.port, "/noindex/")
        self.assertIn(resp.status, (403, 404))
        self.assertNotIn(b"x.txt", resp.body)

    def test_custom_index(self):
        resp = get(self.server.port, "/sub/")
        self.assertEqual((resp.status, resp.body), (200, SITE_FILES["sub/page.html"]))
        self.assertIsNone(resp.header("Cache-Control"))


if __name__ == "__main__":
    unittest.main()
