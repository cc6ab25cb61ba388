# SPDX-License-Identifier: MIT
"""`wharf serve` as real clients see it: http.client, curl and plain sockets."""

import json
import os
import shutil
import subprocess
import unittest

from wharf_server import SECRET, SITE_FILES, ResponseReader, SharedServerTestCase, WharfServer, exchange, get


class ClientTestCase(SharedServerTestCase):
    """One server for the whole class; every test checks it is still alive afterwards."""

    def setUp(self):
        self.conn = self.server.http_connection()

    def tearDown(self):
        self.conn.close()
        super().tearDown()

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        return resp, resp.read()


class DemoEndpointTest(ClientTestCase):
    def test_plaintext(self):
        resp, body = self.request("GET", "/plaintext")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.reason, "OK")
        self.assertEqual(body, b"Hello, World!")
        self.assertEqual(resp.getheader("Content-Type"), "text/plain")
        self.assertEqual(resp.getheader("Content-Length"), "13")
        self.assertEqual(resp.getheader("Server"), "wharf")
        self.assertIsNotNone(resp.getheader("Date"))
        self.assertEqual(resp.version, 11)

    def test_json(self):
        resp, body = self.request("GET", "/json")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        self.assertEqual(json.loads(body), {"message": "Hello, World!"})

    def test_echo_text(self):
        resp, body = self.request(
            "POST",
            "/echo",
            body=b"ping pong",
            headers={"Content-Type": "text/x-test; charset=utf-8"},
        )
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, b"ping pong")
        self.assertEqual(resp.getheader("Content-Type"), "text/x-test; charset=utf-8")

    def test_echo_without_content_type(self):
        self.conn.putrequest("POST", "/echo", skip_accept_encoding=True)
        self.conn.putheader("Content-Length", "3")
        self.conn.endheaders(b"abc")
        resp = self.conn.getresponse()
        self.assertEqual(resp.read(), b"abc")
        self.assertEqual(resp.getheader("Content-Type"), "application/octet-stream")

    def test_echo_binary(self):
        payload = bytes(range(256)) * 16 + b"\x00\r\n\r\n\x00"
        resp, body = self.request(
            "POST", "/echo", body=payload, headers={"Content-Type": "application/octet-stream"}
        )
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, payload)

    def test_echo_one_mebibyte(self):
        payload = bytes((i * 31 + 7) % 251 for i in range(1 << 20))
        resp, body = self.request(
            "POST", "/echo", body=payload, headers={"Content-Type": "application/x-big"}
        )
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), str(1 << 20))
        self.assertEqual(len(body), len(payload))
        self.assertTrue(body == payload, "1 MiB echo differs")

    def test_echo_empty_body(self):
        resp, body = self.request("POST", "/echo", body=b"", headers={"Content-Type": "text/plain"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, b"")

    def test_headers_repeated_and_case_kept(self):
        self.conn.putrequest("GET", "/headers", skip_host=True, skip_accept_encoding=True)
        self.conn.putheader("Host", "example.test")
        self.conn.putheader("X-Repeat", "one")
        self.conn.putheader("X-CaSe-KePt", "value with  spaces")
        self.conn.putheader("x-repeat", "two")
        self.conn.putheader("X-Repeat", "three")
        self.conn.putheader("X-Empty", "")
        self.conn.endheaders()
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 200)
        data = json.loads(resp.read())
        self.assertEqual(data["Host"], "example.test")
        self.assertEqual(data["X-CaSe-KePt"], "value with  spaces")
        self.assertEqual(data["X-Repeat"], ["one", "three"])
        self.assertEqual(data["x-repeat"], "two")
        self.assertEqual(data["X-Empty"], "")
        self.assertEqual(list(data)[0], "Host", "fields keep arrival order")

    def test_head(self):
        self.conn.request("HEAD", "/plaintext")
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), "13")
        self.assertEqual(resp.read(), b"")
        sock = self.conn.sock
        # The connection must carry on in step: no stray body bytes before the next answer.
        resp, body = self.request("GET", "/json")
        self.assertIs(self.conn.sock, sock, "HEAD response closed the connection")
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(body), {"message": "Hello, World!"})

    def test_head_raw_has_no_body(self):
        req = b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n"
        with self.server.connect() as s:
            s.sendall(req)
            reader = ResponseReader(s)
            head = reader.read_response(head_request=True)
            self.assertEqual(head.status, 200)
            self.assertEqual(head.header("Content-Length"), "13")
            nxt = reader.read_response()
            self.assertEqual(nxt.status, 200, "bytes after a HEAD response: %r" % nxt)
            self.assertEqual(json.loads(nxt.body), {"message": "Hello, World!"})

    def test_keep_alive_reuse_100_requests(self):
        first = None
        for i in range(100):
            path = "/plaintext" if i % 2 == 0 else "/json"
            resp, body = self.request("GET", path)
            self.assertEqual(resp.status, 200)
            self.assertFalse(resp.will_close, "server asked to close after request %d" % i)
            if first is None:
                first = self.conn.sock.getsockname()
            self.assertEqual(self.conn.sock.getsockname(), first, "reconnected at request %d" % i)
            if i % 2 == 0:
                self.assertEqual(body, b"Hello, World!")
            else:
                self.assertEqual(json.loads(body)["message"], "Hello, World!")

    def test_not_found(self):
        resp, _ = self.request("GET", "/no/such/thing")
        self.assertEqual(resp.status, 404)
        resp, _ = self.request("GET", "/plaintext/extra")
        self.assertEqual(resp.status, 404)

    def test_method_not_allowed_has_allow(self):
        resp, _ = self.request("DELETE", "/plaintext")
        self.assertEqual(resp.status, 405)
        allow = [m.strip() for m in resp.getheader("Allow", "").split(",")]
        self.assertIn("GET", allow)
        self.assertIn("HEAD", allow)
        self.assertNotIn("DELETE", allow)
        resp, _ = self.request("PUT", "/echo", body=b"x")
        self.assertEqual(resp.status, 405)
        self.assertIn("POST", resp.getheader("Allow", ""))

    def test_options_asterisk(self):
        resp, body = self.request("OPTIONS", "*")
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, b"")

    def test_options_path(self):
        resp, body = self.request("OPTIONS", "/plaintext")
        self.assertEqual(resp.status, 204)
        self.assertEqual(body, b"")
        allow = [m.strip() for m in resp.getheader("Allow", "").split(",")]
        for m in ("GET", "HEAD", "OPTIONS"):
            self.assertIn(m, allow)
        # The connection survives a 204 (no body to frame).
        resp, body = self.request("GET", "/plaintext")
        self.assertEqual(body, b"Hello, World!")


class StaticFileTest(ClientTestCase):
    def test_files_with_types(self):
        cases = {
            "/hello.txt": ("hello.txt", "text/plain; charset=utf-8"),
            "/index.html": ("index.html", "text/html; charset=utf-8"),
            "/style.css": ("style.css", "text/css; charset=utf-8"),
            "/data.json": ("data.json", "application/json"),
            "/blob.bin": ("blob.bin", "application/octet-stream"),
            "/sub/page.html": ("sub/page.html", "text/html; charset=utf-8"),
            "/with%20space.txt": ("with space.txt", "text/plain; charset=utf-8"),
        }
        for path, (name, ctype) in cases.items():
            with self.subTest(path=path):
                resp, body = self.request("GET", path)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.getheader("Content-Type"), ctype)
                self.assertEqual(resp.getheader("Content-Length"), str(len(SITE_FILES[name])))
                self.assertTrue(body == SITE_FILES[name], "content of %s differs" % name)

    def test_directory_serves_index(self):
        resp, body = self.request("GET", "/")
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, SITE_FILES["index.html"])
        resp, body = self.request("GET", "/sub/")
        self.assertEqual(resp.status, 200)
        self.assertEqual(body, SITE_FILES["sub/index.html"])

    def test_head_static_file(self):
        self.conn.request("HEAD", "/blob.bin")
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), str(len(SITE_FILES["blob.bin"])))
        self.assertEqual(resp.read(), b"")
        resp, body = self.request("GET", "/hello.txt")
        self.assertEqual(body, SITE_FILES["hello.txt"])

    def test_missing_file(self):
        for path in ("/missing.txt", "/sub/missing.html", "/hello.txt/more", "/nodir/"):
            with self.subTest(path=path):
                resp, _ = self.request("GET", path)
                self.assertEqual(resp.status, 404)

    def test_symlink_out_of_root_refused(self):
        resp, body = self.request("GET", "/escape.txt")
        self.assertIn(resp.status, (403, 404))
        self.assertNotIn(SECRET, body)

    def test_traversal(self):
        secret = os.path.basename(self.server.secret_path)
        attempts = [
            "/../" + secret,
            "/%2e%2e/" + secret,
            "/%2E%2E/" + secret,
            "/.%2e/" + secret,
            "/..%2f" + secret,
            "/%2e%2e%2f" + secret,
            "/sub/../../" + secret,
            "/sub/%2e%2e/%2e%2e/" + secret,
            "/sub/..%2f..%2f" + secret,
            "/./../" + secret,
            "/..\\" + secret,
            "/%5c..%5c" + secret,
            "/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
            "/..%2f..%2fetc/passwd",
            "/../../../../../../../../etc/passwd",
            "//etc/passwd",
            "///etc/passwd",
            "/%2fetc/passwd",
            "/%2f%2fetc%2fpasswd",
            "/" + secret + "%00.txt",
            "http://localhost/../" + secret,
            "http://localhost/%2e%2e/" + secret,
        ]
        for target in attempts:
            with self.subTest(target=target):
                req = ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % target).encode()
                resp, _ = exchange(self.server.port, req, close_wait=0)
                self.assertIsNotNone(resp)
                self.assertIn(resp.status, (400, 403, 404), "%s -> %r" % (target, resp))
                self.assertNotIn(SECRET, resp.body)
                self.assertNotIn(b"root:", resp.body)


def curl(*args, timeout=20):
    return subprocess.run(
        ["curl", "-s", "-S", "-i", "--max-time", "15", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def split_curl_output(out):
    """Splits `curl -i` output into [(status line, {header: value}, body)] blocks; bodies are
    only given to the last block."""
    blocks = []
    rest = out
    while rest.startswith(b"HTTP/"):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("unterminated head in curl output: %r" % out)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        blocks.append([lines[0], headers, b""])
    if blocks:
        blocks[-1][2] = rest
    return blocks


@unittest.skipIf(shutil.which("curl") is None, "curl not installed")
class CurlTest(ClientTestCase):
    def curl(self, *args):
        return curl(*self.server.curl_args(), *args)

    def test_get(self):
        r = self.curl(self.server.url("/plaintext"))
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = split_curl_output(r.stdout)
        self.assertEqual(len(blocks), 1)
        line, headers, body = blocks[0]
        self.assertEqual(line, "HTTP/1.1 200 OK")
        self.assertEqual(headers["content-length"], "13")
        self.assertEqual(body, b"Hello, World!")

    def test_http10(self):
        r = self.curl("--http1.0", self.server.url("/json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        [(line, headers, body)] = split_curl_output(r.stdout)
        self.assertTrue(line.startswith("HTTP/1.1 200"), line)
        self.assertEqual(json.loads(body), {"message": "Hello, World!"})
        self.assertEqual(headers.get("connection", "").lower(), "close")

    def test_post_data_binary(self):
        payload = os.path.join(self.server.tmp, "payload.bin")
        data = bytes(range(256)) * 40
        with open(payload, "wb") as f:
            f.write(data)
        r = self.curl(
            "--data-binary",
            "@" + payload,
            "-H",
            "Content-Type: application/x-payload",
            self.server.url("/echo"),
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = split_curl_output(r.stdout)
        line, headers, body = blocks[-1]
        self.assertEqual(line, "HTTP/1.1 200 OK")
        self.assertEqual(headers["content-type"], "application/x-payload")
        self.assertEqual(body, data)

    def test_expect_100_continue(self):
        payload = os.path.join(self.server.tmp, "expect.bin")
        data = b"continue me " * 1000
        with open(payload, "wb") as f:
            f.write(data)
        r = self.curl(
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "10",
            "--data-binary",
            "@" + payload,
            self.server.url("/echo"),
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = split_curl_output(r.stdout)
        self.assertEqual([b[0] for b in blocks], ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
        self.assertEqual(blocks[-1][2], data)

    def test_keep_alive_two_urls(self):
        r = self.curl("-v", self.server.url("/plaintext"), self.server.url("/json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)
        self.assertEqual(r.stdout.count(b"HTTP/1.1 200 OK\r\n"), 2)
        self.assertTrue(r.stdout.endswith(b'{"message":"Hello, World!"}'), r.stdout)


class ServerSurvivesTest(unittest.TestCase):
    def test_simple_get_helper(self):
        with WharfServer(workers=1) as srv:
            resp = get(srv.port, "/plaintext")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"Hello, World!")
            self.assertEqual(resp.header("Connection"), "close")


if __name__ == "__main__":
    unittest.main()
