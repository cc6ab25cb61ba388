# SPDX-License-Identifier: MIT
"""Helpers for the Python integration tests: run `wharf serve` on an ephemeral port and talk
to it over raw sockets.

WHARF_BINARY names the wharf executable (ctest sets it); without it, build/release/wharf under
WHARF_SOURCE_DIR (or the repository this file lives in) is used.

WHARF_TEST_TLS=1 runs the same tests over TLS: every WharfServer serves its main listener with
--tls-listen (the certificates of tls_certs.py), and the client helpers here (connect(),
url(), http_connection(), curl_args(), exchange(), get()) speak TLS to it.
"""

import http.client
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import tls_certs

# The whole suite over TLS instead of plaintext (see the module docstring).
TLS = os.environ.get("WHARF_TEST_TLS") == "1"

SERVING_LINE = re.compile(r"^wharf: serving (.*) on (https?)://(\S+)/ \((\d+) workers\)$")

# A file outside the served directory: no request may ever return these bytes.
SECRET = b"TOP-SECRET-7f3a9c: this file lives outside the served directory\n"

# Files created in the served directory of every test server.
SITE_FILES = {
    "hello.txt": b"Hello from a static file.\n",
    "index.html": b"<!doctype html><title>wharf test</title><p>index</p>\n",
    "style.css": b"body { color: #333; }\n",
    "data.json": b'{"answer": 42}\n',
    "sub/page.html": b"<p>nested page</p>\n",
    "sub/index.html": b"<p>sub index</p>\n",
    "blob.bin": bytes((i * 7 + 3) % 256 for i in range(200_000)),
    "with space.txt": b"a file whose name has a space\n",
}



# -- /proc probes of a server process ----------------------------------------------------------


def _status_bytes(pid, field):
    """A "<field>: N kB" line of /proc/PID/status, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no %s for pid %d" % (field, pid))


def rss_bytes(pid):
    """The process's resident set size now."""
    return _status_bytes(pid, "VmRSS")


def hwm_bytes(pid):
    """The process's peak resident set size so far."""
    return _status_bytes(pid, "VmHWM")


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds on a thread while in a with-block."""

    def __init__(self, pid, interval=0.5):
        self.pid = pid
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while True:
            try:
                self.samples.append(rss_bytes(self.pid))
            except (OSError, AssertionError):
                return
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self.baseline = rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.samples.append(rss_bytes(self.pid))
        return False

    @property
    def peak(self):
        return max(self.samples + [self.baseline])

    @property
    def growth(self):
        return self.peak - self.baseline

    def describe(self):
        return "baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB over %d samples" % (
            self.baseline / (1 << 20),
            self.peak / (1 << 20),
            self.growth / (1 << 20),
            len(self.samples),
        )


def report(line):
    """Measurements worth seeing in the ctest log (stderr, like unittest's own output)."""
    sys.stderr.write("\n    [measure] %s\n" % line)
    sys.stderr.flush()


def wait_for(predicate, timeout, interval=0.05):
    """Polls `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def fd_count(pid):
    """How many descriptors the process has open."""
    return len(os.listdir("/proc/%d/fd" % pid))

def build_file(env_var, *relative):
    """A file of the build under test: `env_var` names it (ctest sets it), else it is
    build/release/<relative> in this checkout."""
    path = os.environ.get(env_var)
    if path:
        return path
    source = os.environ.get(
        "WHARF_SOURCE_DIR",
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    return os.path.join(source, "build", "release", *relative)


def wharf_binary():
    """The wharf executable under test."""
    return build_file("WHARF_BINARY", "wharf")


def run_wharf(args, timeout=10):
    """Runs `wharf ARGS` to completion; returns the CompletedProcess (text output)."""
    return subprocess.run(
        [wharf_binary(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- clients -----------------------------------------------------------------------------------


class TlsSocket:
    """A TLS client connection with the interface of the plain sockets the tests use (send,
    sendall, recv, shutdown, close, socket options and timeouts on the TCP socket beneath).

    It runs OpenSSL over memory buffers, with a lock, instead of being an ssl.SSLSocket: tests
    send from one thread while they read in another, and an SSL object must never be used by
    two threads at once. A TCP EOF without close_notify reads as b"", like a plaintext EOF.
    shutdown(SHUT_WR) sends close_notify and a FIN; reading goes on (TLS 1.3 half-close).
    One thread may send while one other receives.
    """

    def __init__(self, sock, context=None, server_hostname="localhost"):
        self.sock = sock
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        context = context or tls_certs.client_context()
        self._obj = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._lock = threading.Lock()  # the SSL object and its buffers
        self._send_lock = threading.Lock()  # the ciphertext goes out in the order it was made
        self._pending = bytearray()  # ciphertext the socket has not taken yet
        self._eof = False
        self._error = None  # a socket error to raise after the bytes that came before it
        self._call(self._obj.do_handshake)

    def __getattr__(self, name):
        return getattr(self.sock, name)  # settimeout, setsockopt, fileno, ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _drain(self):
        """Sends the pending ciphertext (with _send_lock held). What a timeout or a full
        non-blocking socket leaves stays pending, so the stream stays whole."""
        while self._pending:
            n = self.sock.send(self._pending)
            del self._pending[:n]

    def _flush(self):
        with self._send_lock:
            with self._lock:
                self._pending += self._out.read()
            self._drain()

    def _call(self, op, *args):
        """Runs `op` on the SSL object, feeding it from the socket until it completes."""
        while True:
            with self._lock:
                try:
                    result = op(*args)
                    break
                except ssl.SSLWantReadError:
                    pending = self._out.pending
            if pending:
                self._flush()
            data = self.sock.recv(65536)
            with self._lock:
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
        if self._out.pending:
            self._flush()
        return result

    def recv(self, n):
        """Up to `n` bytes, as many as have arrived (not one TLS record at a time: a reader
        asking for a MiB gets what is there), blocking only while nothing has."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._eof:
            return b""
        try:
            chunks = [self._call(self._obj.read, n)]
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            self._eof = True  # close_notify, or a TCP close without it
            return b""
        got = len(chunks[0])
        if not got:
            self._eof = True
            return b""
        while got < n:
            try:
                with self._lock:
                    more = self._obj.read(n - got)
            except ssl.SSLWantReadError:
                try:
                    if not select.select([self.sock], [], [], 0)[0]:
                        break
                    data = self.sock.recv(max(n - got, 65536))
                except OSError as e:  # a reset: raised by the next recv, after these bytes
                    self._error = e
                    break
                if not data:
                    break  # the next recv sees the EOF
                with self._lock:
                    self._in.write(data)
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True
                break
            if not more:
                self._eof = True  # close_notify (read() returns b"" for it)
                break
            chunks.append(more)
            got += len(more)
        return b"".join(chunks)

    def recv_into(self, buffer, nbytes=0):
        data = self.recv(nbytes or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def send(self, data):
        """Encrypts all of `data` and sends it; ciphertext a non-blocking socket cannot take
        now stays pending (sent first next time). When earlier ciphertext still cannot go
        out, the socket's exception (BlockingIOError, timeout), and none of `data` is taken."""
        with self._send_lock:
            self._drain()
            with self._lock:
                self._obj.write(data)
                self._pending += self._out.read()
            try:
                self._drain()
            except BlockingIOError:
                pass
        return len(data)

    sendall = send

    def shutdown(self, how):
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            with self._lock:
                try:
                    self._obj.unwrap()
                except ssl.SSLWantReadError:
                    pass  # close_notify is out; the server's comes later, if ever
            self._flush()
        self.sock.shutdown(how)

    def close(self):
        # Like ssl.SSLSocket.close(): no close_notify (shutdown(SHUT_WR) sends one).
        self.sock.close()

    def version(self):
        return self._obj.version()

    def selected_alpn_protocol(self):
        return self._obj.selected_alpn_protocol()


def open_connection(port, host="127.0.0.1", timeout=10.0, tls=None, sockopts=()):
    """A new connection to host:port, TLS when `tls` (default: WHARF_TEST_TLS). `sockopts` are
    (level, option, value) set before connecting (a receive buffer must be, to count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for level, option, value in sockopts:
            sock.setsockopt(level, option, value)
        sock.settimeout(timeout)
        sock.connect((host, port))
        if (TLS if tls is None else tls):
            return TlsSocket(sock)
        return sock
    except BaseException:
        sock.close()
        raise


class WharfServer:
    """`wharf serve` on 127.0.0.1:0 over a temporary directory of test files.

    The temporary directory holds `site/` (the served directory, filled from SITE_FILES) and
    `secret.txt` next to it. Use as a context manager, or call start() and stop().
    """

    START_TIMEOUT = 15.0
    STOP_TIMEOUT = 5.0

    def __init__(self, extra_args=(), workers=2, listen="127.0.0.1:0", tls=None):
        self.extra_args = list(extra_args)
        self.workers = workers
        self.listen = listen
        self.tls = TLS if tls is None else tls  # the main listener (`listen`) is TLS
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.addresses = []  # every "serving" address, plaintext ones first
        self.tls_addresses = []  # the https:// ones among them, in order
        self.tls_port = None  # the port of the first TLS address (the main one with tls)
        self.returncode = None
        self._stderr_lines = []
        self._stderr_lock = threading.Lock()
        self._stderr_thread = None
        self.tmp = tempfile.mkdtemp(prefix="wharf-test-")
        self.site = os.path.join(self.tmp, "site")
        self.secret_path = os.path.join(self.tmp, "secret.txt")
        os.makedirs(self.site)
        for name, data in SITE_FILES.items():
            path = os.path.join(self.site, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        with open(self.secret_path, "wb") as f:
            f.write(SECRET)
        # A symlink that leaves the served directory must not be followed.
        os.symlink(self.secret_path, os.path.join(self.site, "escape.txt"))

    # -- lifetime -------------------------------------------------------------------------

    def command(self):
        args = [wharf_binary(), "serve", self.site]
        if self.tls:
            args += tls_certs.certs().server_args(self.listen)
        else:
            args += ["--listen", self.listen]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        return args + self.extra_args

    def start(self):
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        ready = threading.Event()
        # One "serving" line per listen address (plaintext and TLS).
        expected = 1 + sum(
            1 for a in self.extra_args if a in ("--listen", "-l", "--tls-listen")
        )

        def pump():
            # Reads stderr to the end so the server can never block on a full pipe.
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self._stderr_lock:
                    self._stderr_lines.append(line)
                m = SERVING_LINE.match(line)
                if m:
                    self.addresses.append(m.group(3))
                    if m.group(2) == "https":
                        self.tls_addresses.append(m.group(3))
                    if len(self.addresses) >= expected:
                        ready.set()
            ready.set()  # EOF: the process died before serving

        self._stderr_thread = threading.Thread(target=pump, daemon=True)
        self._stderr_thread.start()
        if not ready.wait(self.START_TIMEOUT) or len(self.addresses) < expected:
            self.kill()
            raise RuntimeError(
                "wharf did not start: %r\nstderr:\n%s" % (self.command(), self.stderr())
            )
        main = self.tls_addresses[0] if self.tls else self.addresses[0]
        host, _, port = main.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        if self.tls_addresses:
            self.tls_port = int(self.tls_addresses[0].rpartition(":")[2])
        return self

    def stop(self, timeout=None):
        """SIGTERM, then waits; raises AssertionError unless the server exits 0 in time."""
        if self.proc is None:
            return self.returncode
        timeout = self.STOP_TIMEOUT if timeout is None else timeout
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                "wharf did not exit within %.1fs of SIGTERM\nstderr:\n%s" % (timeout, self.stderr())
            )
        finally:
            self._join_stderr()
        self.proc = None
        if self.returncode != 0:
            raise AssertionError(
                "wharf exited with %r after SIGTERM\nstderr:\n%s" % (self.returncode, self.stderr())
            )
        return self.returncode

    def wait_exit(self, timeout=None):
        """Waits for the process to exit by itself (after a signal sent by the test); returns
        its exit status. Raises subprocess.TimeoutExpired when it does not."""
        timeout = self.STOP_TIMEOUT if timeout is None else timeout
        self.returncode = self.proc.wait(timeout)
        self._join_stderr()
        self.proc = None
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
            self._join_stderr()
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _join_stderr(self):
        if self._stderr_thread is not None:
            self._stderr_thread.join(5)
            self._stderr_thread = None
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
        finally:
            self.cleanup()
        return False

    # -- helpers --------------------------------------------------------------------------

    def stderr(self):
        with self._stderr_lock:
            return "\n".join(self._stderr_lines)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def connect(self, timeout=10.0, sockopts=()):
        """A new connection to the main listener (TLS with self.tls); see open_connection."""
        return open_connection(self.port, self.host, timeout, self.tls, sockopts)

    def url(self, path="/"):
        """The URL of `path` on the main listener; give curl curl_args() with it."""
        if self.tls:
            return "https://localhost:%d%s" % (self.port, path)
        return "http://%s:%d%s" % (self.host, self.port, path)

    def curl_args(self):
        """curl flags for url(): over TLS, trust the test CA, resolve localhost here, and keep
        to HTTP/1.1 (curl would take h2 by ALPN; a later --http1.0 still wins)."""
        if not self.tls:
            return []
        return ["--http1.1", "--cacert", tls_certs.certs().ca,
                "--resolve", "localhost:%d:%s" % (self.port, self.host)]

    def http_connection(self, timeout=10.0):
        """An http.client connection to the main listener (HTTPS with self.tls)."""
        if self.tls:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=tls_certs.client_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


class SharedServerTestCase(unittest.TestCase):
    """One `wharf serve` for a whole test class; after every test it must still be alive.

    Subclasses set WORKERS and EXTRA_ARGS, and may override prepare_site(site) to add files
    to the served directory before the server starts."""

    server = None
    WORKERS = 2
    EXTRA_ARGS = ()

    @classmethod
    def prepare_site(cls, site):
        pass

    @classmethod
    def make_server(cls):
        """The server the class shares; override for other listeners (TLS, say)."""
        return WharfServer(extra_args=cls.EXTRA_ARGS, workers=cls.WORKERS)

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        try:
            cls.prepare_site(cls.server.site)
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.stderr())


def recv_until_close(sock, timeout=10.0, limit=64 * 1024 * 1024):
    """Reads until the peer closes; returns everything read."""
    sock.settimeout(timeout)
    chunks = []
    total = 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):  # a reset, or a TLS alert
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def wait_closed(sock, timeout=5.0):
    """True when the peer closes the connection (EOF or reset) within `timeout`, discarding
    whatever else arrives first; False when it stays open."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):  # SSLError: an alert
            return True


class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in arrival order, names as sent
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "Response(%s %d %r, %r, body=%r)" % (
            self.version,
            self.status,
            self.reason,
            self.headers,
            self.body[:200],
        )


class ResponseReader:
    """Parses HTTP/1.1 responses from a socket, one at a time, keeping surplus bytes."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        self.eof = False

    def _fill(self):
        self.sock.settimeout(self.timeout)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_head(self):
        """Returns (version, status, reason, headers), or None on EOF before any byte."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                if not self.buf:
                    return None
                raise AssertionError("connection closed inside a response head: %r" % self.buf)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise AssertionError("malformed response header line %r" % line)
            headers.append((name, value.strip()))
        return version, int(status), reason, headers

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise AssertionError(
                    "connection closed inside a body (%d of %d bytes)" % (len(self.buf), n)
                )
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head_request=False, skip_interim=True):
        """The next response (None on a clean EOF). Bodies are framed by Content-Length (the
        server never sends chunked responses); 1xx responses are skipped unless asked."""
        while True:
            parsed = self.read_head()
            if parsed is None:
                return None
            version, status, reason, headers = parsed
            resp = Response(version, status, reason, headers, b"")
            if 100 <= status < 200:
                if skip_interim:
                    continue
                return resp
            length = resp.header("Content-Length")
            if head_request or status in (204, 304):
                return resp
            if length is None:
                raise AssertionError("response without Content-Length: %r" % resp)
            resp.body = self.read_exact(int(length))
            return resp


def exchange(port, data, host="127.0.0.1", timeout=10.0, head_request=False, close_wait=3.0,
             tls=None):
    """Sends raw bytes on a new connection (TLS when `tls`, default: WHARF_TEST_TLS) and returns
    (first response, whether the server closed the connection within `close_wait` seconds
    after it; None when close_wait is 0)."""
    with open_connection(port, host, timeout, tls) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and stop reading before a large request is sent
        reader = ResponseReader(s, timeout)
        resp = reader.read_response(head_request=head_request)
        closed = None
        if close_wait:
            closed = reader.eof or wait_closed(s, close_wait)
        return resp, closed


def get(port, path="/plaintext", host="127.0.0.1", timeout=10.0, tls=None):
    """A simple GET on a new connection (TLS as in exchange()); returns the Response."""
    req = ("GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n" % path).encode()
    resp, _ = exchange(port, req, host=host, timeout=timeout, tls=tls)
    return resp


_ASAN = None


def rss_bounds_apply():
    """False when the server's RSS cannot bound anything: an ASan binary over TLS, where
    OpenSSL's per-record buffers go through ASan's quarantine instead of being reused."""
    return not (TLS and binary_is_asan())


def binary_is_asan():
    """True when the wharf binary under test was built with AddressSanitizer (whose redzones
    and quarantine make RSS figures meaningless as bounds)."""
    global _ASAN
    if _ASAN is None:
        with open(wharf_binary(), "rb") as f:
            _ASAN = b"__asan_init" in f.read()
    return _ASAN


def server_sockets(port):
    """(state, tx_queue) of every TCP socket on this machine whose local port is `port`, from
    /proc/net/tcp and tcp6; listening sockets excluded."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            state = int(fields[3], 16)
            tx_queue = int(fields[4].split(":")[0], 16)
            if local_port == port and state != 0x0A:
                found.append((state, tx_queue))
    return found
