# SPDX-License-Identifier: MIT
"""POST /form of `wharf serve` (issue 14): urlencoded and multipart/form-data bodies from curl
-F, requests and raw sockets answer {"fields": {...}, "files": [{field, filename, type, bytes,
sha256}]}; malformed bodies 400, other media types 415, limits 413; a large file upload streams
through with flat server memory; HTTP/2 as well."""

import hashlib
import json
import os
import subprocess
import tempfile
import time
import unittest

import requests

from h2_client import H2Client
from tls_certs import certs
from wharf_server import (RssSampler, SharedServerTestCase, binary_is_asan, report,
                          rss_bounds_apply)

MIB = 1 << 20
# The file upload that must stream through the multipart parser and a digest (2 GiB; a quarter
# of it under ASan, which runs the parser several times slower).
LARGE_UPLOAD = int(os.environ.get("WHARF_FORM_UPLOAD_BYTES",
                                  (512 if binary_is_asan() else 2048) * MIB))
RSS_GROWTH_LIMIT = 32 * MIB


def multipart(boundary, parts, close=True):
    """A multipart/form-data body: parts are (headers list, data bytes)."""
    out = b""
    for headers, data in parts:
        out += b"--" + boundary + b"\r\n"
        for h in headers:
            out += h + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


def field(name, value):
    return ([b'Content-Disposition: form-data; name="%s"' % name], value)


def file_part(name, filename, data, ctype=b"application/octet-stream"):
    return ([b'Content-Disposition: form-data; name="%s"; filename="%s"' % (name, filename),
             b"Content-Type: " + ctype], data)


def sha(data):
    return hashlib.sha256(data).hexdigest()


class FormTestCase(SharedServerTestCase):
    def post(self, body, content_type, headers=None):
        conn = self.server.http_connection(timeout=60)
        try:
            h = {"Content-Type": content_type} if content_type else {}
            h.update(headers or {})
            conn.request("POST", "/form", body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.read()
        finally:
            conn.close()

    def post_multipart(self, parts, boundary=b"wharf-test-boundary", close=True):
        return self.post(multipart(boundary, parts, close),
                         "multipart/form-data; boundary=" + boundary.decode())

    def requests_kwargs(self):
        return {"verify": certs().ca, "timeout": 60} if self.server.tls else {"timeout": 60}


class MultipartTest(FormTestCase):
    def test_fields_and_files(self):
        binary = bytes(range(256)) * 40 + b"\r\n--wharf-test-boundar\r\n--not-it\r\n"
        status, ctype, body = self.post_multipart([
            field(b"name", b"alice"),
            field(b"empty", b""),
            file_part(b"upload", b"data.bin", binary),
            file_part(b"notes", b"notes.txt", b"line one\r\nline two\n", b"text/plain"),
            field(b"utf8", "gr\u00fc\u00df dich".encode()),
        ])
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body), {
            "fields": {"name": "alice", "empty": "", "utf8": "gr\u00fc\u00df dich"},
            "files": [
                {"field": "upload", "filename": "data.bin", "type": "application/octet-stream",
                 "bytes": len(binary), "sha256": sha(binary)},
                {"field": "notes", "filename": "notes.txt", "type": "text/plain",
                 "bytes": 19, "sha256": sha(b"line one\r\nline two\n")},
            ]})

    def test_curl_dash_f(self):
        with tempfile.NamedTemporaryFile(suffix=".dat") as f:
            data = os.urandom(300_000)
            f.write(data)
            f.flush()
            out = subprocess.run(
                ["curl", "-sS", "--fail", *self.server.curl_args(), "-F", "title=holiday photos",
                 "-F", "upload=@%s;filename=photo.jpg;type=image/jpeg" % f.name,
                 self.server.url("/form")],
                capture_output=True, timeout=60, check=True).stdout
        self.assertEqual(json.loads(out), {
            "fields": {"title": "holiday photos"},
            "files": [{"field": "upload", "filename": "photo.jpg", "type": "image/jpeg",
                       "bytes": 300_000, "sha256": sha(data)}]})

    def test_requests_files_and_data(self):
        a, b = os.urandom(70_000), b"plain text file\n"
        r = requests.post(self.server.url("/form"), data={"x": "1", "y": "two words"},
                          files=[("first", ("a.bin", a, "application/octet-stream")),
                                 ("second", ("b.txt", b))], **self.requests_kwargs())
        self.assertEqual(r.status_code, 200, r.text)
        got = r.json()
        self.assertEqual(got["fields"], {"x": "1", "y": "two words"})
        self.assertEqual([(f["field"], f["filename"], f["bytes"], f["sha256"]) for f in got["files"]],
                         [("first", "a.bin", len(a), sha(a)), ("second", "b.txt", len(b), sha(b))])

    def test_a_part_without_content_type_is_text_plain(self):
        status, _, body = self.post_multipart([
            ([b'Content-Disposition: form-data; name="f"; filename="x"'], b"abc")])
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["files"][0]["type"], "text/plain")

    def test_malformed_is_400(self):
        boundary = b"BB"
        rows = {
            "no boundary parameter": (b"--BB\r\n\r\n", "multipart/form-data"),
            "empty boundary": (b"--\r\n", 'multipart/form-data; boundary=""'),
            "truncated part": (multipart(boundary, [field(b"a", b"v")], close=False)[:-2],
                               "multipart/form-data; boundary=BB"),
            "no close delimiter": (multipart(boundary, [field(b"a", b"v")], close=False),
                                   "multipart/form-data; boundary=BB"),
            "no delimiter at all": (b"just some bytes", "multipart/form-data; boundary=BB"),
            "part without Content-Disposition": (
                multipart(boundary, [([b"Content-Type: text/plain"], b"v")]),
                "multipart/form-data; boundary=BB"),
            "disposition without a name": (
                multipart(boundary, [([b"Content-Disposition: form-data"], b"v")]),
                "multipart/form-data; boundary=BB"),
            "header line without a colon": (
                multipart(boundary, [([b'Content-Disposition: form-data; name="a"', b"bogus"],
                                      b"v")]),
                "multipart/form-data; boundary=BB"),
            "garbage after a delimiter": (b"--BBxyz\r\n", "multipart/form-data; boundary=BB"),
        }
        for what, (body, ctype) in rows.items():
            with self.subTest(what):
                status, _, text = self.post(body, ctype)
                self.assertEqual(status, 400, text)

    def test_no_body_is_400_and_other_types_415(self):
        status, _, _ = self.post(None, None)
        self.assertEqual(status, 400)
        for ctype in ("text/plain", "application/json", "multipart/mixed; boundary=BB"):
            with self.subTest(ctype):
                status, _, _ = self.post(b"--BB--\r\n", ctype)
                self.assertEqual(status, 415)

    def test_limits_are_413(self):
        status, _, _ = self.post_multipart([field(b"f%d" % i, b"v") for i in range(1001)])
        self.assertEqual(status, 413)
        status, _, _ = self.post_multipart([field(b"big", b"x" * (MIB + 1))])
        self.assertEqual(status, 413)
        status, _, _ = self.post_multipart(
            [([b'Content-Disposition: form-data; name="a"', b"X-Pad: " + b"p" * 9000], b"v")])
        self.assertEqual(status, 413)
        # A file part is not a field: its size has no such bound.
        data = b"y" * (3 * MIB)
        status, _, body = self.post_multipart([file_part(b"f", b"f.bin", data)])
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["files"][0]["sha256"], sha(data))


class UrlencodedTest(FormTestCase):
    def test_fields(self):
        status, ctype, body = self.post(b"name=alice&city=New+York&sym=%26%3D%25&empty=&flag",
                                        "application/x-www-form-urlencoded")
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body), {
            "fields": {"name": "alice", "city": "New York", "sym": "&=%", "empty": "", "flag": ""},
            "files": []})

    def test_requests_data(self):
        r = requests.post(self.server.url("/form"), data={"q": "caf\u00e9 & cr\u00e8me", "n": "42"},
                          **self.requests_kwargs())
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"fields": {"q": "caf\u00e9 & cr\u00e8me", "n": "42"},
                                    "files": []})

    def test_malformed_and_too_large(self):
        status, _, body = self.post(b"a=%zz", "application/x-www-form-urlencoded")
        self.assertEqual(status, 400, body)
        # Just over the 8 MiB the demo gathers: what the server leaves unread stays within what
        # its lingering close discards, so the client is not reset before it reads the 413.
        status, _, _ = self.post(b"a=" + b"x" * (8 * MIB + 64 * 1024),
                                 "application/x-www-form-urlencoded")
        self.assertEqual(status, 413)


class LargeUploadTest(FormTestCase):
    def test_large_file_streams_with_flat_memory(self):
        boundary = b"large-upload-boundary"
        head = (b"--" + boundary + b"\r\n" + b'Content-Disposition: form-data; name="name"\r\n\r\n'
                b"big\r\n--" + boundary + b"\r\n"
                b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
                b"Content-Type: application/octet-stream\r\n\r\n")
        tail = b"\r\n--" + boundary + b"--\r\n"
        block = os.urandom(MIB)
        h = hashlib.sha256()

        def body():
            yield head
            sent = 0
            while sent < LARGE_UPLOAD:
                piece = block[: min(MIB, LARGE_UPLOAD - sent)]
                h.update(piece)
                sent += len(piece)
                yield piece
            yield tail

        conn = self.server.http_connection(timeout=300)
        start = time.monotonic()
        try:
            with RssSampler(self.server.proc.pid) as rss:
                conn.request("POST", "/form", body=body(), headers={
                    "Content-Type": "multipart/form-data; boundary=" + boundary.decode(),
                    "Content-Length": str(len(head) + LARGE_UPLOAD + len(tail))})
                resp = conn.getresponse()
                answer = resp.read()
        finally:
            conn.close()
        report("%d MiB multipart upload: %.1f s, server RSS %s" % (
            LARGE_UPLOAD // MIB, time.monotonic() - start, rss.describe()))
        self.assertEqual(resp.status, 200, answer)
        self.assertEqual(json.loads(answer), {
            "fields": {"name": "big"},
            "files": [{"field": "file", "filename": "big.bin", "type": "application/octet-stream",
                       "bytes": LARGE_UPLOAD, "sha256": h.hexdigest()}]})
        if rss_bounds_apply():
            self.assertLess(rss.growth, RSS_GROWTH_LIMIT, rss.describe())


class Http2FormTest(FormTestCase):
    def h2(self):
        return H2Client.to_main_listener(self.server)

    def test_multipart_and_urlencoded_over_http2(self):
        data = os.urandom(200_000)  # past the stream's first window
        body = multipart(b"h2b", [field(b"a", b"1"), file_part(b"f", b"f.bin", data)])
        with self.h2() as c:
            sid = c.request("POST", "/form", headers=[
                ("content-type", "multipart/form-data; boundary=h2b"),
                ("content-length", str(len(body)))], body=body)
            s = c.wait_stream(sid, timeout=60)
            self.assertIsNone(s.reset)
            self.assertEqual(s.status, 200)
            self.assertEqual(json.loads(bytes(s.data)), {
                "fields": {"a": "1"},
                "files": [{"field": "f", "filename": "f.bin", "type": "application/octet-stream",
                           "bytes": len(data), "sha256": sha(data)}]})
            sid = c.request("POST", "/form", headers=[
                ("content-type", "application/x-www-form-urlencoded")], body=b"k=v+w")
            s = c.wait_stream(sid, timeout=30)
            self.assertEqual(s.status, 200)
            self.assertEqual(json.loads(bytes(s.data)), {"fields": {"k": "v w"}, "files": []})
            sid = c.request("POST", "/form", headers=[
                ("content-type", "multipart/form-data; boundary=h2b")], body=b"--h2b\r\nbad")
            s = c.wait_stream(sid, timeout=30)
            self.assertEqual(s.status, 400)


if __name__ == "__main__":
    unittest.main()
