# SPDX-License-Identifier: MIT
"""A small frame-level HTTP/2 client for the integration tests (RFC 9113).

It speaks h2c with prior knowledge on a plaintext socket, or h2 over TLS chosen by ALPN, and
writes and reads frames itself (hpack for the field blocks),
so that a test can send exactly what it means to, malformed frames included. Every read has a
deadline: a server that hangs fails the test instead of blocking it.

hpack comes from Debian's python3-h2 (see debian_modules).
"""

import socket
import ssl
import struct
import time

import debian_modules  # noqa: F401  (before hpack)
import hpack

import tls_certs

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 §6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)

# Flags.
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8

# SETTINGS parameters (RFC 9113 §6.5.2).
SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6

# Error codes (RFC 9113 §7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
CONNECT_ERROR = 0xA
ENHANCE_YOUR_CALM = 0xB
INADEQUATE_SECURITY = 0xC
HTTP_1_1_REQUIRED = 0xD

ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM", 0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}

DEFAULT_WINDOW = 65535


class H2Timeout(AssertionError):
    """The server did not send what the test waited for in time."""


def frame_bytes(ftype, flags, stream_id, payload=b""):
    """One raw frame: the 9-byte header (RFC 9113 §4.1) and the payload as given."""
    n = len(payload)
    return struct.pack(">BHBBI", (n >> 16) & 0xFF, n & 0xFFFF, ftype, flags,
                       stream_id & 0x7FFFFFFF) + payload


def settings_payload(settings):
    return b"".join(struct.pack(">HI", k, v) for k, v in dict(settings).items())


class Stream:
    """What the server sent on one stream."""

    def __init__(self, sid):
        self.id = sid
        self.informational = []  # [[(name, value)]] for 1xx responses
        self.headers = None  # [(name, value)] of the final response, names as decoded
        self.headers_end_stream = False  # END_STREAM was on the response HEADERS
        self.trailers = None
        self.data = bytearray()
        self.data_frames = 0
        self.ended = False  # END_STREAM seen
        self.reset = None  # RST_STREAM error code, when the server reset it
        self.send_window = DEFAULT_WINDOW
        self.cancelled = False  # the client reset it

    @property
    def done(self):
        return self.ended or self.reset is not None

    @property
    def status(self):
        return int(self.header(":status")) if self.headers else None

    def header(self, name, default=None):
        for k, v in self.headers or ():
            if k == name:
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers or () if k == name]

    def __repr__(self):
        return "Stream(%d, headers=%r, data=%d bytes, ended=%r, reset=%r)" % (
            self.id, self.headers, len(self.data), self.ended,
            ERROR_NAMES.get(self.reset, self.reset))


class H2Client:
    """One HTTP/2 connection. `settings` are the client's SETTINGS (a dict); with
    `auto_window` every DATA received is acknowledged at once with WINDOW_UPDATEs for the
    stream and the connection, otherwise the test opens the windows itself."""

    def __init__(self, sock, settings=None, auto_window=True, preface=True, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.auto_window = auto_window
        self.auto_ping_ack = True
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 24
        self.buf = bytearray()
        self.streams = {}
        self.next_id = 1
        self.server_settings = {}
        self.server_settings_seen = False
        self.settings_acks = 0
        self.ping_acks = []
        self.goaway = None  # (last_stream_id, error_code, debug data)
        self.eof = False
        self.frames = []  # (type, flags, stream id, length) of every frame received
        self.conn_send_window = DEFAULT_WINDOW
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame = 16384
        self.conn_window_updates = 0
        self.stream_window_updates = 0
        self._header_block = None  # (stream id, flags of the HEADERS, bytes) while assembling
        self.settings = dict(settings or {})
        if preface:
            self.send_raw(PREFACE + frame_bytes(SETTINGS, 0, 0, settings_payload(self.settings)))

    # -- connecting ------------------------------------------------------------------------

    @classmethod
    def h2c(cls, port, host="127.0.0.1", timeout=10.0, **kw):
        """Cleartext HTTP/2 with prior knowledge (RFC 9113 §3.3)."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, timeout=timeout, **kw)

    @classmethod
    def tls(cls, port, cafile, host="127.0.0.1", server_hostname="localhost", timeout=10.0,
            alpn=("h2",), **kw):
        """HTTP/2 over TLS, "h2" chosen by ALPN (RFC 9113 §3.2)."""
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.set_alpn_protocols(list(alpn))
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        if sock.selected_alpn_protocol() != "h2":
            sock.close()
            raise AssertionError("ALPN chose %r, not h2" % sock.selected_alpn_protocol())
        return cls(sock, timeout=timeout, **kw)

    @classmethod
    def to_main_listener(cls, server, **kw):
        """HTTP/2 to a WharfServer's main listener: h2 by ALPN when it is TLS, else h2c."""
        if server.tls:
            return cls.tls(server.tls_port, tls_certs.certs().ca, **kw)
        return cls.h2c(server.port, **kw)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- sending ---------------------------------------------------------------------------

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, ftype, flags, stream_id, payload=b""):
        self.send_raw(frame_bytes(ftype, flags, stream_id, payload))

    def new_stream_id(self):
        sid = self.next_id
        self.next_id += 2
        return sid

    def stream(self, sid):
        s = self.streams.get(sid)
        if s is None:
            s = self.streams[sid] = Stream(sid)
            s.send_window = self.peer_initial_window
        return s

    def encode(self, fields):
        return self.encoder.encode(list(fields))

    def send_headers(self, sid, fields, end_stream=False, block=None, max_frame=None):
        """HEADERS (and CONTINUATIONs when the block is larger than a frame) for `fields`, or
        for the raw header `block` when given."""
        self.stream(sid)
        block = self.encode(fields) if block is None else block
        max_frame = max_frame or self.peer_max_frame
        first, rest = block[:max_frame], block[max_frame:]
        flags = (END_STREAM if end_stream else 0) | (0 if rest else END_HEADERS)
        out = [frame_bytes(HEADERS, flags, sid, first)]
        while rest:
            piece, rest = rest[:max_frame], rest[max_frame:]
            out.append(frame_bytes(CONTINUATION, 0 if rest else END_HEADERS, sid, piece))
        self.send_raw(b"".join(out))

    def request_fields(self, method, path, authority="localhost", scheme="http", headers=()):
        return [(":method", method), (":scheme", scheme), (":authority", authority),
                (":path", path)] + list(headers)

    def request(self, method="GET", path="/plaintext", headers=(), body=None, sid=None,
                scheme="http", end_stream=None):
        """Sends a request (HEADERS, then the body in DATA frames honouring the server's
        windows) and returns its stream id. Without a body, END_STREAM goes on HEADERS."""
        sid = self.new_stream_id() if sid is None else sid
        fields = self.request_fields(method, path, scheme=scheme, headers=headers)
        if end_stream is None:
            end_stream = True
        self.send_headers(sid, fields, end_stream=end_stream and body is None)
        if body is not None:
            self.send_data(sid, body, end_stream=end_stream)
        return sid

    def send_data(self, sid, data, end_stream=True, frame_size=None, timeout=None,
                  stop_early=False):
        """DATA frames of at most `frame_size` bytes, waiting for WINDOW_UPDATEs when a
        window is closed (reading whatever else arrives meanwhile). With `stop_early`, sending
        stops (returning False) once the server has answered or reset the stream."""
        s = self.stream(sid)
        frame_size = min(frame_size or self.peer_max_frame, self.peer_max_frame)
        view = memoryview(bytes(data))
        deadline = time.monotonic() + (timeout or self.timeout)
        if not view and end_stream:
            self.send_frame(DATA, END_STREAM, sid)
            return
        while view:
            if stop_early and (s.done or self.goaway is not None or self.eof):
                return False
            room = min(self.conn_send_window, s.send_window, frame_size)
            if room <= 0:
                if s.reset is not None or self.goaway is not None or self.eof:
                    raise AssertionError("stream %d ended while sending its body: %r" % (sid, s))
                self.read_one(deadline)
                continue
            piece, view = view[:room], view[room:]
            self.conn_send_window -= len(piece)
            s.send_window -= len(piece)
            self.send_frame(DATA, END_STREAM if (end_stream and not view) else 0, sid,
                            bytes(piece))
        return True

    def rst(self, sid, code=CANCEL):
        self.stream(sid).cancelled = True
        self.send_frame(RST_STREAM, 0, sid, struct.pack(">I", code))

    def window_update(self, sid, increment):
        self.send_frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", increment))

    def ping(self, opaque=b"12345678"):
        self.send_frame(PING, 0, 0, opaque)

    def send_goaway(self, last=0, code=NO_ERROR):
        self.send_frame(GOAWAY, 0, 0, struct.pack(">II", last, code))

    # -- receiving -------------------------------------------------------------------------

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise H2Timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise H2Timeout("timed out") from None
        except ssl.SSLError:
            data = b""
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_one(self, deadline):
        """Reads and handles one frame; returns (type, flags, sid, payload), or None at EOF."""
        while len(self.buf) < 9:
            if not self._fill(deadline):
                return None
        length = int.from_bytes(self.buf[0:3], "big")
        while len(self.buf) < 9 + length:
            if not self._fill(deadline):
                return None
        ftype, flags = self.buf[3], self.buf[4]
        sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
        payload = bytes(self.buf[9:9 + length])
        del self.buf[:9 + length]
        self.frames.append((ftype, flags, sid, length))
        self._handle(ftype, flags, sid, payload)
        return ftype, flags, sid, payload

    @staticmethod
    def _unpad(flags, payload):
        if flags & PADDED:
            pad = payload[0]
            return payload[1:len(payload) - pad]
        return payload

    def _handle(self, ftype, flags, sid, payload):
        if ftype == SETTINGS:
            if flags & ACK:
                self.settings_acks += 1
                return
            for i in range(0, len(payload) - len(payload) % 6, 6):
                key, value = struct.unpack(">HI", payload[i:i + 6])
                self.server_settings[key] = value
                if key == SETTINGS_INITIAL_WINDOW_SIZE:
                    delta = value - self.peer_initial_window
                    self.peer_initial_window = value
                    for s in self.streams.values():
                        s.send_window += delta
                elif key == SETTINGS_MAX_FRAME_SIZE:
                    self.peer_max_frame = value
            self.server_settings_seen = True
            self._try_send(frame_bytes(SETTINGS, ACK, 0))
        elif ftype == PING:
            if flags & ACK:
                self.ping_acks.append(payload)
            elif self.auto_ping_ack:
                self._try_send(frame_bytes(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            self.goaway = (last & 0x7FFFFFFF, code, payload[8:])
        elif ftype == WINDOW_UPDATE:
            inc = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            if sid == 0:
                self.conn_send_window += inc
                self.conn_window_updates += 1
            else:
                self.stream(sid).send_window += inc
                self.stream_window_updates += 1
        elif ftype == RST_STREAM:
            self.stream(sid).reset = struct.unpack(">I", payload[:4])[0]
        elif ftype == DATA:
            s = self.stream(sid)
            s.data += self._unpad(flags, payload)
            s.data_frames += 1
            if flags & END_STREAM:
                s.ended = True
            if self.auto_window and payload:
                out = frame_bytes(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload)))
                if not s.ended and not s.cancelled:
                    out += frame_bytes(WINDOW_UPDATE, 0, sid, struct.pack(">I", len(payload)))
                self._try_send(out)
        elif ftype == HEADERS:
            block = self._unpad(flags, payload)
            if flags & 0x20:  # PRIORITY
                block = block[5:]
            self._header_block = (sid, flags, bytes(block))
            if flags & END_HEADERS:
                self._finish_headers()
        elif ftype == CONTINUATION:
            if self._header_block is None or self._header_block[0] != sid:
                raise AssertionError("CONTINUATION out of place on stream %d" % sid)
            hsid, hflags, block = self._header_block
            self._header_block = (hsid, hflags, block + payload)
            if flags & END_HEADERS:
                self._finish_headers()
        elif ftype == PUSH_PROMISE:
            raise AssertionError("PUSH_PROMISE although SETTINGS_ENABLE_PUSH is 0 by default? "
                                 "(the server must not push unless enabled)")

    def _finish_headers(self):
        sid, flags, block = self._header_block
        self._header_block = None
        fields = [(k.decode("latin-1") if isinstance(k, bytes) else k,
                   v.decode("latin-1") if isinstance(v, bytes) else v)
                  for k, v in self.decoder.decode(block, raw=True)]
        s = self.stream(sid)
        status = dict(fields).get(":status")
        if s.headers is None and status is not None and status.startswith("1"):
            s.informational.append(fields)
        elif s.headers is None:
            s.headers = fields
            s.headers_end_stream = bool(flags & END_STREAM)
        else:
            s.trailers = fields
        if flags & END_STREAM:
            s.ended = True

    def _try_send(self, data):
        try:
            self.send_raw(data)
        except OSError:
            pass  # the server may have closed already; what it sent is still read

    def read_until(self, predicate, timeout=None):
        """Handles frames until `predicate()` holds; True then, False when the connection
        ends first. Raises H2Timeout when neither happens within `timeout`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not predicate():
            if self.eof or self.read_one(deadline) is None:
                return predicate()
        return True

    def wait_stream(self, sid, timeout=None):
        """Reads until stream `sid` ends or is reset (or the connection goes); returns it."""
        s = self.stream(sid)
        self.read_until(lambda: s.done, timeout)
        return s

    def wait_settings(self, timeout=None):
        self.read_until(lambda: self.server_settings_seen, timeout)
        return self.server_settings

    def wait_goaway(self, timeout=None):
        self.read_until(lambda: self.goaway is not None, timeout)
        return self.goaway

    def wait_closed(self, timeout=None):
        """Reads (and handles) frames until EOF; True at EOF, False on timeout."""
        try:
            self.read_until(lambda: self.eof, timeout)
        except H2Timeout:
            return False
        return True

    def get(self, path="/plaintext", headers=(), timeout=None):
        return self.wait_stream(self.request("GET", path, headers=headers), timeout)


def frame_stream(frames, ftype):
    """The received frames of one type."""
    return [f for f in frames if f[0] == ftype]
