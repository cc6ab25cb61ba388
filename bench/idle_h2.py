#!/usr/bin/env python3
"""Memory per idle HTTP/2 connection, for bench/run's h2-idle scenario.

Reads the resident set (VmRSS) of the server's processes, opens N cleartext HTTP/2 connections
to it by prior knowledge (h2c), each doing one request (GET /plaintext on stream 1, answered
200 "Hello, World!"), leaves them idle, waits a moment, reads the resident set again and checks
that every connection is still open (no EOF, no GOAWAY). Prints one line:

  IDLE connections=N open=M baseline_kib=B loaded_kib=L failed=F seconds=S

The frames are written by hand (preface, an empty SETTINGS, a HEADERS frame with a literal
HPACK block; a SETTINGS ACK for the server's SETTINGS), so nothing beyond the standard library
is needed. The response's :status is decoded with the hpack package when it can be imported
(Debian's python3-hpack, also looked for in /usr/lib/python3/dist-packages), else only the
one-byte indexed form of ":status: 200" (0x88), which every server here sends, is accepted.

Usage: idle_h2.py PORT CONNECTIONS PID...
"""
import os
import resource
import select
import socket
import struct
import sys
import time

try:
    import hpack
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import hpack
    except ImportError:
        hpack = None

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x9
END_STREAM, END_HEADERS, PADDED, PRIORITY, ACK = 0x1, 0x4, 0x8, 0x20, 0x1


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(index, value):
    # Literal header field without indexing, name from the static table (4-bit prefix; index < 15).
    v = value.encode()
    return bytes([index, len(v)]) + v


def request(path):
    block = (bytes([0x82, 0x86])  # :method GET, :scheme http (indexed, static table)
             + literal(4, path)  # :path
             + literal(1, "localhost"))  # :authority
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0)
            + frame(HEADERS, END_STREAM | END_HEADERS, 1, block))


def status_of(block):
    if hpack is not None:
        for name, value in hpack.Decoder().decode(block):
            if name in (":status", b":status"):
                return value if isinstance(value, str) else value.decode()
        return None
    return "200" if block[:1] == b"\x88" else f"not 0x88 (first byte {block[:1].hex()})"


def unpad(flags, payload, ftype):
    if flags & PADDED:
        pad = payload[0]
        payload = payload[1:len(payload) - pad]
    if ftype == HEADERS and flags & PRIORITY:
        payload = payload[5:]
    return payload


class Conn:
    def __init__(self, port, deadline):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.deadline = deadline

    def frames(self):
        """Yields (type, flags, stream, payload) as they arrive; raises on EOF or the deadline."""
        while True:
            while len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) < 9 + length:
                    break
                ftype, flags = self.buf[3], self.buf[4]
                stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
                payload = self.buf[9:9 + length]
                self.buf = self.buf[9 + length:]
                yield ftype, flags, stream, payload
            if time.monotonic() > self.deadline:
                raise ConnectionError("no complete response within 10 s")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response")
            self.buf += chunk

    def exchange(self, path):
        self.sock.sendall(request(path))
        block, status, body = b"", None, b""
        for ftype, flags, stream, payload in self.frames():
            if ftype == SETTINGS and not flags & ACK:
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            elif ftype == PING and not flags & ACK:
                self.sock.sendall(frame(PING, ACK, 0, payload))
            elif ftype == GOAWAY:
                raise ConnectionError(f"GOAWAY {payload[4:8].hex()} {payload[8:]!r}")
            elif ftype == RST_STREAM and stream == 1:
                raise ConnectionError(f"RST_STREAM {payload.hex()}")
            elif ftype in (HEADERS, CONTINUATION) and stream == 1:
                block += unpad(flags, payload, ftype)
                if flags & END_HEADERS and status is None:
                    status = status_of(block)
                    if status != "200":
                        raise ConnectionError(f":status {status}")
                if flags & END_STREAM:
                    break
            elif ftype == DATA and stream == 1:
                body += unpad(flags, payload, ftype)
                if flags & END_STREAM:
                    break
        if body != b"Hello, World!":
            raise ConnectionError(f"body {body[:40]!r}")

    def still_open(self):
        """Nothing but harmless frames arrived since: no EOF, no GOAWAY."""
        p = select.poll()
        p.register(self.sock, select.POLLIN | select.POLLRDHUP)
        while p.poll(0):
            try:
                chunk = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError:
                return False
            if not chunk:
                return False
            self.buf += chunk
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                break
            if self.buf[3] == GOAWAY:
                return False
            self.buf = self.buf[9 + length:]
        return True


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    port, count, pids = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if count + 50 > hard:
        print(f"idle_h2.py: {count} connections need more than the {hard} files allowed", file=sys.stderr)
        return 1

    time.sleep(0.2)
    baseline = rss_kib(pids)
    start = time.monotonic()
    conns, failed = [], 0
    for _ in range(count):
        c = None
        try:
            c = Conn(port, time.monotonic() + 10)
            c.exchange("/plaintext")
            conns.append(c)
        except (OSError, ConnectionError) as e:
            if c is not None:
                c.sock.close()
            failed += 1
            if failed == 1:
                print(f"idle_h2.py: connection failed: {e}", file=sys.stderr)
            if failed > 20:
                break
    seconds = time.monotonic() - start
    time.sleep(1.0)
    loaded = rss_kib(pids)
    open_count = sum(1 for c in conns if c.still_open())
    print(f"IDLE connections={count} open={open_count} baseline_kib={baseline} loaded_kib={loaded} "
          f"failed={failed} seconds={seconds:.1f}")
    for c in conns:
        c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
