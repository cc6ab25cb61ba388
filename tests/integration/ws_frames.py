# SPDX-License-Identifier: MIT
"""A raw WebSocket client for frame-level tests: the handshake and frames built byte by byte,
so tests can send what no well-behaved client library would (RFC 6455 §5)."""
import base64
import os
import socket
import struct
import zlib

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def handshake_request(path="/ws/echo", key=None, version="13", extra=()):
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: x", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: " + key]
    if version is not None:
        lines.append("Sec-WebSocket-Version: " + version)
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """One frame; `length` overrides the encoded payload length (for lying heads)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_frame(code=None, reason=b"", **kw):
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(CLOSE, payload, **kw)


def deflate_message(data):
    """permessage-deflate's payload for `data` (RFC 7692 §7.2.1)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


class Connection:
    """A socket after a successful handshake, reading the server's (unmasked) frames."""

    def __init__(self, sock, head, rest=b""):
        self.sock = sock
        self.head = head
        self.buf = rest

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed with %d bytes buffered" % len(self.buf))
            self.buf += chunk

    def recv_frame(self):
        """(fin, rsv, opcode, payload) of the next frame; EOFError at the end of the stream."""
        self._fill(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frames must not be masked"
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._fill(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._fill(at + n)
        payload = self.buf[at:at + n]
        self.buf = self.buf[at + n:]
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload

    def recv_message(self):
        """(opcode, payload) of the next data message, control frames returned as they come."""
        fin, _, op, payload = self.recv_frame()
        if op >= 8:
            return op, payload
        while not fin:
            fin, _, cont, more = self.recv_frame()
            assert cont == CONT, "a data frame inside a fragmented message"
            payload += more
        return op, payload

    def expect_close(self):
        """The code of the server's close frame (None without one), after skipping data."""
        while True:
            op, payload = self.recv_message()
            if op == CLOSE:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None

    def closed_after(self, timeout=5.0):
        """True when the server closes the TCP connection (FIN or reset) within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
