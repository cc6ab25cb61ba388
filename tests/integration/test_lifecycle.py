# SPDX-License-Identifier: MIT
"""The `wharf` command's life: arguments, start-up errors, graceful shutdown."""

import os
import signal
import socket
import tempfile
import time
import unittest

from wharf_server import ResponseReader, WharfServer, get, run_wharf, wait_closed


class ArgumentTest(unittest.TestCase):
    def test_version(self):
        r = run_wharf(["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^wharf \d+\.\d+\.\d+\s*$")

    def test_help(self):
        r = run_wharf(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("serve", r.stdout)
        r = run_wharf(["serve", "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ("--listen", "--workers", "--access-log", "--max-connections"):
            self.assertIn(flag, r.stdout)

    def test_bad_arguments_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            cases = [
                ["serve", d, "--workers", "0"],
                ["serve", d, "--workers", "many"],
                ["serve", d, "--listen", "nonsense"],
                ["serve", d, "--listen", "127.0.0.1:99999"],
                ["serve", d, "--listen", "[::1"],
                ["serve", d, "--listen", "example.com:80"],
                ["serve", d, "--access-log-format", "fancy"],
                ["serve", d, "--max-connections", "0"],
                ["serve", d, "--no-such-flag"],
                ["serve", os.path.join(d, "does-not-exist")],
                ["--no-such-flag"],
                ["frobnicate"],
                [],
            ]
            for args in cases:
                with self.subTest(args=args):
                    r = run_wharf(args)
                    self.assertEqual(r.returncode, 2, "stdout=%r stderr=%r" % (r.stdout, r.stderr))
                    self.assertTrue(r.stderr.startswith("wharf: "), r.stderr)


class StartupTest(unittest.TestCase):
    def test_serving_line_and_workers(self):
        with WharfServer(workers=3) as srv:
            self.assertEqual(len(srv.addresses), 1)
            scheme = "https" if srv.tls else "http"
            self.assertRegex(
                srv.stderr(), r"serving .* on %s://127\.0\.0\.1:\d+/ \(3 workers\)" % scheme
            )
            self.assertEqual(get(srv.port).status, 200)

    def test_two_listen_addresses(self):
        with WharfServer(workers=1, extra_args=["--listen", "127.0.0.1:0"]) as srv:
            # With WHARF_TEST_TLS the main listener is TLS and the extra one plaintext.
            self.assertEqual(len(srv.addresses), 2)
            ports = {int(a.rpartition(":")[2]): a in srv.tls_addresses for a in srv.addresses}
            self.assertEqual(len(ports), 2)
            for port, tls in ports.items():
                self.assertEqual(get(port, tls=tls).body, b"Hello, World!")

    def test_port_in_use_exits_1(self):
        with WharfServer(workers=2) as first:
            second = WharfServer(workers=1, listen="127.0.0.1:%d" % first.port)
            try:
                r = run_wharf(second.command()[1:])
            finally:
                second.cleanup()
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot listen on 127.0.0.1:%d" % first.port, r.stderr)
            self.assertIn("address already in use", r.stderr.lower())
            # The first server is untouched.
            self.assertEqual(get(first.port).status, 200)

    def test_port_in_use_by_a_plain_socket(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        # WharfServer's command: --listen, or --tls-listen with WHARF_TEST_TLS.
        srv = WharfServer(workers=1, listen="127.0.0.1:%d" % holder.getsockname()[1])
        try:
            r = run_wharf(srv.command()[1:])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("address already in use", r.stderr.lower())
        finally:
            srv.cleanup()
            holder.close()

    def test_no_demo(self):
        with WharfServer(workers=1, extra_args=["--no-demo"]) as srv:
            self.assertEqual(get(srv.port, "/plaintext").status, 404)
            self.assertEqual(get(srv.port, "/hello.txt").status, 200)

    def test_server_name(self):
        with WharfServer(workers=1, extra_args=["--server-name", "test-srv/1"]) as srv:
            self.assertEqual(get(srv.port).header("Server"), "test-srv/1")
        with WharfServer(workers=1, extra_args=["--server-name", ""]) as srv:
            self.assertIsNone(get(srv.port).header("Server"))


class ShutdownTest(unittest.TestCase):
    def test_sigterm_closes_idle_keep_alive_connection(self):
        srv = WharfServer(workers=2)
        try:
            srv.start()
            conns = []
            for _ in range(4):
                s = srv.connect()
                s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(ResponseReader(s).read_response().status, 200)
                conns.append(s)
            never_sent = srv.connect()  # accepted but silent
            conns.append(never_sent)
            time.sleep(0.1)
            started = time.monotonic()
            srv.stop(timeout=3.0)  # asserts exit status 0
            self.assertLess(time.monotonic() - started, 3.0)
            for s in conns:
                self.assertTrue(wait_closed(s, 2.0), "idle connection not closed on shutdown")
                s.close()
        finally:
            srv.cleanup()

    def test_sigint_also_graceful(self):
        srv = WharfServer(workers=1)
        try:
            srv.start()
            srv.proc.send_signal(signal.SIGINT)
            self.assertEqual(srv.wait_exit(5), 0)
            self.assertIn("SIGINT received", srv.stderr())
        finally:
            srv.cleanup()

    def test_request_in_flight_completes_during_shutdown(self):
        srv = WharfServer(workers=1)
        try:
            srv.start()
            s = srv.connect()
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf ")
            time.sleep(0.2)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(srv.proc.poll(), "server exited with a request in flight")
            s.sendall(b"done!")
            reader = ResponseReader(s, timeout=5)
            resp = reader.read_response()
            self.assertIsNotNone(resp, "in-flight request dropped at shutdown")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"half done!")
            self.assertEqual(resp.header("Connection"), "close")
            self.assertTrue(reader.eof or wait_closed(s, 3))
            s.close()
            self.assertEqual(srv.wait_exit(5), 0)
        finally:
            srv.cleanup()

    def test_new_connections_refused_after_shutdown(self):
        srv = WharfServer(workers=1)
        try:
            srv.start()
            port = srv.port
            srv.stop()
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
