#!/usr/bin/env python3
"""Raw-socket checks of the floor server (bench/floor.c).

Usage: bench/floor_test.py [FLOOR_BINARY]   (default build/bench/floor, built by bench/run)

Starts floor in both modes on free loopback ports and checks: one response per
request, pipelined requests, request terminators split across reads (byte by
byte and at every position inside "\\r\\n\\r\\n"), a large pipeline read slowly
(partial writes), file mode with pipelining, many connections, and survival of a
client that closes with output pending. Exits non-zero on the first failure.
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HELLO = (b"HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: text/plain\r\n"
         b"Content-Length: 13\r\n\r\nHello, World!")
REQ = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, *args):
    port = free_port()
    proc = subprocess.Popen([binary, str(port), *args])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("floor did not start")


def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:  # before connect, so the advertised window matches
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(1 << 20, n - len(buf)))
        if not d:
            raise AssertionError(f"EOF after {len(buf)} of {n} bytes")
        buf += d
    return bytes(buf)


def recv_head(s):
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += recv_exact(s, 1)
    return head


def expect_silence(s):
    s.settimeout(0.3)
    try:
        extra = s.recv(100)
        assert extra == b"", f"unexpected extra bytes {extra[:60]!r}"
    except socket.timeout:
        pass
    s.settimeout(10)


def check(name, fn):
    fn()
    print(f"ok  {name}")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bench/floor"
    body = os.urandom(1 << 20)
    with tempfile.NamedTemporaryFile() as f:
        f.write(body)
        f.flush()
        plain, pport = start(binary)
        filed, fport = start(binary, "--file", f.name)
        try:
            run(pport, fport, body)
        finally:
            plain.kill()
            filed.kill()
            plain.wait()
            filed.wait()
    print("floor: all checks passed")


def run(pport, fport, body):
    s = connect(pport)

    def one():
        s.sendall(REQ)
        assert recv_exact(s, len(HELLO)) == HELLO
        expect_silence(s)

    def pipelined():
        s.sendall(REQ * 16)
        assert recv_exact(s, 16 * len(HELLO)) == HELLO * 16
        expect_silence(s)

    def byte_by_byte():
        data = REQ * 3
        for i in range(len(data)):
            s.send(data[i:i + 1])
            time.sleep(0.002)
        assert recv_exact(s, 3 * len(HELLO)) == HELLO * 3
        expect_silence(s)

    def split_terminator():
        for cut in range(1, 4):
            data = REQ * 2
            k = len(REQ) - 4 + cut
            s.send(data[:k])
            time.sleep(0.05)
            s.send(data[k:])
            assert recv_exact(s, 2 * len(HELLO)) == HELLO * 2
            expect_silence(s)

    def overlapping_terminator():
        s.sendall(b"GET / HTTP/1.1\r\nX: y\r\n\r\r\n\r\n")
        assert recv_exact(s, len(HELLO)) == HELLO
        expect_silence(s)

    def slow_reader():
        n = 100000
        c = connect(pport, rcvbuf=16384)
        sender = threading.Thread(target=lambda: c.sendall(REQ * n))
        sender.start()
        time.sleep(0.5)  # let floor's socket buffer fill: partial writes, EPOLLOUT
        assert recv_exact(c, n * len(HELLO)) == HELLO * n
        sender.join()
        expect_silence(c)
        c.close()

    def file_pipelined():
        c = connect(fport, rcvbuf=16384)
        c.sendall(REQ * 4)
        for _ in range(4):
            head = recv_head(c)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
            assert b"Content-Length: %d\r\n" % len(body) in head, head
            assert recv_exact(c, len(body)) == body
        expect_silence(c)
        c.close()

    def many_connections():
        conns = [connect(pport) for _ in range(300)]
        for c in conns:
            c.sendall(REQ * 2)
        for c in conns:
            assert recv_exact(c, 2 * len(HELLO)) == HELLO * 2
            c.close()

    def abort_with_output_pending():
        c = connect(fport)
        c.sendall(REQ * 20)
        c.close()
        time.sleep(0.2)
        c = connect(fport)
        c.sendall(REQ)
        recv_head(c)
        assert recv_exact(c, len(body)) == body
        c.close()

    check("one request, one response", one)
    check("16 pipelined requests", pipelined)
    check("requests sent byte by byte", byte_by_byte)
    check("terminator split across reads", split_terminator)
    check("\\r\\n\\r\\r\\n\\r\\n counts once", overlapping_terminator)
    check("large pipeline, slow reader (partial writes)", slow_reader)
    check("file mode, pipelined", file_pipelined)
    check("300 connections", many_connections)
    check("client closes with output pending", abort_with_output_pending)
    s.close()


if __name__ == "__main__":
    main()
