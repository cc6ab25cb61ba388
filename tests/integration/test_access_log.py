# SPDX-License-Identifier: MIT
"""`wharf serve --access-log`: Common and Combined Log Format files."""

import os
import re
import tempfile
import time
import unittest

from wharf_server import ResponseReader, WharfServer, exchange

# host ident user [time] "request" status bytes
COMMON = re.compile(
    r'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} '
    r'[+-]\d{4})\] "(?P<method>\S+) (?P<target>\S+) (?P<version>HTTP/\d\.\d)" (?P<status>\d{3}) '
    r"(?P<bytes>\d+|-)"
)
COMBINED = re.compile(
    COMMON.pattern + r' "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$'
)
COMMON_LINE = re.compile(COMMON.pattern + "$")
TIMED = re.compile(COMBINED.pattern[:-1] + r' "(?P<id>(?:[^"\\]|\\.)*)" (?P<first>\d+) (?P<total>\d+)$')


def read_lines(path, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        if os.path.exists(path):
            with open(path, "rb") as f:
                lines = f.read().decode("utf-8").splitlines()
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


class AccessLogTest(unittest.TestCase):
    def setUp(self):
        # Outside the server's temporary directory, which is removed when it stops.
        self.logdir = tempfile.TemporaryDirectory(prefix="wharf-log-")
        self.addCleanup(self.logdir.cleanup)

    def run_requests(self, srv):
        conn = srv.http_connection()
        try:
            conn.request("GET", "/plaintext?x=1", headers={"User-Agent": "wharf-test/1.0"})
            self.assertEqual(conn.getresponse().read(), b"Hello, World!")
            conn.request(
                "POST",
                "/echo",
                body=b"12345",
                headers={"User-Agent": 'agent "quoted"', "Referer": "http://ref.example/"},
            )
            self.assertEqual(conn.getresponse().read(), b"12345")
            conn.request("GET", "/missing.txt", headers={"User-Agent": "wharf-test/1.0"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 404)
            conn.request("HEAD", "/plaintext", headers={"User-Agent": "wharf-test/1.0"})
            conn.getresponse().read()
        finally:
            conn.close()
        resp, _ = exchange(srv.port, b"GET /json HTTP/1.0\r\n\r\n", close_wait=0)
        self.assertEqual(resp.status, 200)

    def test_common_format(self):
        srv = WharfServer(workers=2)
        log = os.path.join(self.logdir.name, "access.log")
        srv.extra_args = ["--access-log", log]
        with srv:
            self.run_requests(srv)
            during = read_lines(log, 5)
            self.assertGreaterEqual(len(during), 5, "access log not written while running")
        lines = read_lines(log, 5)
        self.assertEqual(len(lines), 5, lines)
        parsed = []
        for line in lines:
            m = COMMON_LINE.match(line)
            self.assertIsNotNone(m, "not Common Log Format: %r" % line)
            parsed.append(m.groupdict())
        requests = [
            (p["method"], p["target"], p["version"], p["status"], p["bytes"]) for p in parsed
        ]
        self.assertIn(("GET", "/plaintext?x=1", "HTTP/1.1", "200", "13"), requests)
        self.assertIn(("POST", "/echo", "HTTP/1.1", "200", "5"), requests)
        self.assertIn(("HEAD", "/plaintext", "HTTP/1.1", "200", "-"), requests)
        self.assertIn(("GET", "/json", "HTTP/1.0", "200", "27"), requests)
        not_found = [r for r in requests if r[1] == "/missing.txt"]
        self.assertEqual(len(not_found), 1)
        self.assertEqual(not_found[0][3], "404")
        for p in parsed:
            self.assertEqual(p["host"], "127.0.0.1")
            self.assertEqual((p["ident"], p["user"]), ("-", "-"))
        self.assertNotIn("wharf-test/1.0", "\n".join(lines))

    def test_combined_format(self):
        srv = WharfServer(workers=1)
        log = os.path.join(self.logdir.name, "combined.log")
        srv.extra_args = ["--access-log", log, "--access-log-format", "combined"]
        with srv:
            self.run_requests(srv)
        lines = read_lines(log, 5)
        self.assertEqual(len(lines), 5, lines)
        parsed = []
        for line in lines:
            m = COMBINED.match(line)
            self.assertIsNotNone(m, "not Combined Log Format: %r" % line)
            parsed.append(m.groupdict())
        first = next(p for p in parsed if p["target"] == "/plaintext?x=1")
        self.assertEqual(first["agent"], "wharf-test/1.0")
        self.assertEqual(first["referer"], "-")
        post = next(p for p in parsed if p["method"] == "POST")
        self.assertEqual(post["agent"], r"agent \"quoted\"")
        self.assertEqual(post["referer"], "http://ref.example/")
        http10 = next(p for p in parsed if p["target"] == "/json")
        self.assertEqual(http10["agent"], "-")

    def test_timed_format(self):
        srv = WharfServer(workers=1)
        log = os.path.join(self.logdir.name, "timed.log")
        srv.extra_args = ["--access-log", log, "--access-log-format", "timed"]
        with srv:
            self.run_requests(srv)
            conn = srv.http_connection()
            conn.request("GET", "/wait?ms=300", headers={"X-Request-Id": "trace-42"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            conn.request("GET", "/plaintext", headers={"X-Request-Id": 'bad "id"'})
            conn.getresponse().read()
            conn.close()
        lines = read_lines(log, 7)
        self.assertEqual(len(lines), 7, lines)
        parsed = []
        for line in lines:
            m = TIMED.match(line)
            self.assertIsNotNone(m, "not the timed format: %r" % line)
            parsed.append(m.groupdict())
        for p in parsed:
            self.assertLessEqual(int(p["first"]), int(p["total"]))
        waited = next(p for p in parsed if p["target"] == "/wait?ms=300")
        self.assertEqual(waited["id"], "trace-42")
        # The head left after the wait. Its timer counts from the loop's cached time, which may be
        # a little older than the moment the head was read: half of it is a bound that holds.
        self.assertGreaterEqual(int(waited["first"]), 150_000)
        made_up = [p["id"] for p in parsed if p["id"] != "trace-42"]
        self.assertEqual(len(set(made_up)), len(made_up))  # unique, and a forged one replaced
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", i) for i in made_up), made_up)

    def test_rejected_requests_logged_as_well_formed_lines(self):
        srv = WharfServer(workers=1)
        log = os.path.join(self.logdir.name, "errors.log")
        srv.extra_args = ["--access-log", log]
        with srv:
            # Rejected heads on fresh connections: the target is partly parsed or absent.
            for bad in (
                b"GET /bad\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"G@T /x HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /x HTTP/1.1\nHost: x\n\n",
            ):
                resp, _ = exchange(srv.port, bad, close_wait=0)
                self.assertEqual(resp.status, 400)
            # A rejected head after a good request on the same connection must not be logged
            # with the previous request's method and target (or bytes of the new one).
            with srv.connect() as s:
                reader = ResponseReader(s)
                s.sendall(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(reader.read_response().status, 200)
                time.sleep(0.05)
                s.sendall(b"G@T /other HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(reader.read_response().status, 400)
        lines = read_lines(log, 5)
        self.assertEqual(len(lines), 5, lines)
        for line in lines:
            m = COMMON_LINE.match(line)
            self.assertIsNotNone(m, "not Common Log Format: %r" % line)
        statuses = [COMMON_LINE.match(line).group("status") for line in lines]
        self.assertEqual(sorted(statuses), ["200", "400", "400", "400", "400"])
        ok = [COMMON_LINE.match(line) for line in lines if '" 200 ' in line]
        self.assertEqual(ok[0].group("target"), "/json")
        for line in lines:
            m = COMMON_LINE.match(line)
            if m.group("status") == "400":
                self.assertNotEqual(m.group("target"), "/json", "stale request logged: %r" % line)

    def test_log_appends(self):
        srv = WharfServer(workers=1)
        log = os.path.join(self.logdir.name, "append.log")
        with open(log, "w") as f:
            f.write("existing line\n")
        srv.extra_args = ["--access-log", log]
        with srv:
            req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
            resp, _ = exchange(srv.port, req, close_wait=0)
            self.assertEqual(resp.status, 200)
        lines = read_lines(log, 2)
        self.assertEqual(lines[0], "existing line")
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[1], COMMON_LINE)

    def test_unwritable_log_fails_to_start(self):
        srv = WharfServer(workers=1, extra_args=["--access-log", "/nonexistent-dir/x/access.log"])
        try:
            with self.assertRaises(RuntimeError):
                srv.start()
            self.assertNotEqual(srv.returncode, 0)
            self.assertIn("wharf:", srv.stderr())
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
