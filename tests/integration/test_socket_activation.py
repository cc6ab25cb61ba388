# SPDX-License-Identifier: MIT
"""systemd socket activation (issue 16) without systemd: a launcher makes the listening sockets,
puts them at descriptors 3, 4, ... and sets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES as
systemd does, then execs `wharf serve`, which must serve on them (a socket named "https" with
TLS) and open none of its own."""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import unittest

from tls_certs import certs, client_context
from wharf_server import wharf_binary


# Runs in the child: moves the passed descriptors to 3, 4, ..., sets the variables with its own
# pid (exec keeps it), then becomes wharf.
LAUNCHER = """
import fcntl, os, sys
fds = [int(f) for f in sys.argv[1].split(",")]
# Out of the way of 3, 4, ... first (dup would take the lowest free one, maybe 3 itself).
moved = [fcntl.fcntl(f, fcntl.F_DUPFD, 100) for f in fds]
for f in fds:
    os.close(f)
for i, f in enumerate(moved):
    os.dup2(f, 3 + i, inheritable=True)
    os.close(f)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=sys.argv[2])
os.execv(sys.argv[3], sys.argv[3:])
"""


def launch(sockets, names, extra=()):
    """`wharf serve` with `sockets` passed as systemd would (at 3, 4, ...)."""
    fds = [s.fileno() for s in sockets]
    args = [wharf_binary(), "serve", tempfile.gettempdir(), "--workers", "2", *extra]
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, ",".join(map(str, fds)),
                             ":".join(names), *args], pass_fds=fds,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    lines = []
    while True:
        line = proc.stderr.readline().decode()
        if not line:
            break
        lines.append(line)
        if sum(1 for l in lines if l.startswith("wharf: serving")) == len(sockets):
            break
    return proc, lines


def stop(proc):
    proc.terminate()
    code = proc.wait(timeout=15)
    rest = proc.stderr.read().decode()
    proc.stderr.close()
    return code, rest


class SocketActivationTest(unittest.TestCase):
    def test_plain_and_tls_sockets(self):
        plain = socket.socket()
        plain.bind(("127.0.0.1", 0))
        plain.listen(64)
        secure = socket.socket()
        secure.bind(("127.0.0.1", 0))
        secure.listen(64)
        ports = plain.getsockname()[1], secure.getsockname()[1]
        c = certs()
        proc, lines = launch([plain, secure], ["web", "https"],
                             ["--tls-cert", c.server, "--tls-key", c.server_key])
        plain.close()
        secure.close()
        try:
            serving = [l for l in lines if l.startswith("wharf: serving")]
            self.assertEqual(len(serving), 2, lines)
            self.assertIn("http://127.0.0.1:%d/" % ports[0], serving[0])
            self.assertIn("https://127.0.0.1:%d/" % ports[1], serving[1])
            for _ in range(5):  # both workers take connections from the shared socket
                conn = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
                conn.request("GET", "/plaintext")
                resp = conn.getresponse()
                self.assertEqual((resp.status, resp.read()), (200, b"Hello, World!"))
                conn.close()
            conn = http.client.HTTPSConnection("localhost", ports[1], timeout=10,
                                               context=client_context())
            conn.request("GET", "/plaintext")
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b"Hello, World!"))
            conn.close()
            # No listener of its own: the default 127.0.0.1:8080 is not opened.
            self.assertFalse(any("8080" in l for l in serving))
        finally:
            code, rest = stop(proc)
        self.assertEqual(code, 0, rest)

    def test_unix_socket_is_left_to_its_owner(self):
        d = tempfile.mkdtemp(prefix="wharf-activation-")
        path = os.path.join(d, "wharf.sock")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
        sock.listen(16)
        proc, lines = launch([sock], ["unix"])
        sock.close()
        try:
            self.assertTrue(any("unix:" + path in l for l in lines), lines)
            client = socket.socket(socket.AF_UNIX)
            client.settimeout(10)
            client.connect(path)
            client.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = client.recv(4096)
                if not chunk:
                    break
                data += chunk
            client.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data)
            self.assertTrue(data.endswith(b"Hello, World!"), data)
        finally:
            code, rest = stop(proc)
        self.assertEqual(code, 0, rest)
        # systemd made the socket file; wharf does not remove it.
        self.assertTrue(os.path.exists(path))
        os.unlink(path)
        os.rmdir(d)

    def test_a_descriptor_that_is_not_a_listener_is_refused(self):
        a, b = socket.socketpair()
        proc, lines = launch([a], ["web"])
        a.close()
        b.close()
        code = proc.wait(timeout=15)
        rest = "".join(lines) + proc.stderr.read().decode()
        proc.stderr.close()
        self.assertNotEqual(code, 0)
        self.assertIn("not a listening stream socket", rest)


if __name__ == "__main__":
    unittest.main()
