#!/usr/bin/env python3
"""Repros of the resource-budget issues (issue 9), measured against one wharf binary.

    python3 bench/repro_budget.py BINARY [--only NAME[,NAME...]]

Each repro starts BINARY (`BINARY serve DIR --listen 127.0.0.1:PORT --workers N ...`) on a free
port, drives it with raw sockets, and prints one line of measured figures: the server's RSS
(VmRSS) and peak RSS (VmHWM) from /proc/PID/status before and after, counts and statuses.
Flags are only passed when `BINARY serve --help` lists them (an older binary gets its defaults).

Scaling (2-core machine, each repro seconds to about a minute):
  chunkamp   1-byte chunks with 1000-byte extensions: the issue's 1.5 MB of payload (1.5 GB on
             the wire) is scaled to CHUNKAMP_PAYLOAD (default 150,000 payload bytes = 151 MB
             on the wire); the 8:1 variant is sent unscaled (7 MiB payload, 59 MB on the wire).
  whitespace up to 500 MiB of BWS, unscaled, but cut off after 40 s.
  slowbody   (a) 500 clients, 30 s; (b) 60 clients x 8 MiB, then watched for 45 s after
             the last one has sent (the issue's "one byte every 20 s" would last 2000 s).
Everything else is the issue's size. Every repro is bounded by an alarm (REPRO_TIMEOUT s).

Stdlib only.
"""

import argparse
import collections
import errno
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPRO_TIMEOUT = 150
CHUNKAMP_PAYLOAD = int(os.environ.get("CHUNKAMP_PAYLOAD", "150000"))


# --------------------------------------------------------------------------- server


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return -1
    return -1


def mem(pid):
    """(VmRSS, VmHWM) in KiB."""
    return status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")


def mb(kb):
    return "%.1fM" % (kb / 1024.0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_help_cache = {}


def supported_flags(binary):
    if binary not in _help_cache:
        out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True,
                             timeout=10)
        _help_cache[binary] = out.stdout + out.stderr
    return _help_cache[binary]


class Server:
    def __init__(self, binary, workers, flags=None):
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wharf-repro-")
        with open(os.path.join(self.dir, "index.html"), "w") as f:
            f.write("<p>repro</p>\n")
        help_text = supported_flags(binary)
        self.passed, self.dropped = [], []
        for name, value in (flags or {}).items():
            if (name + " ") in help_text or (name + ",") in help_text or (name + "=") in help_text:
                self.passed += [name, str(value)]
            else:
                self.dropped.append(name)
        self.argv = [binary, "serve", self.dir, "--listen", "127.0.0.1:%d" % self.port,
                     "--workers", str(workers)] + self.passed
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=self.log)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start: %s" % self.argv)
                time.sleep(0.05)
        time.sleep(0.2)

    def mem(self):
        return mem(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def connect(port, rcvbuf=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def status_of(data):
    """The status code of the first response in `data`, or None."""
    if data.startswith(b"HTTP/1.") and len(data) >= 12:
        try:
            return int(data[9:12])
        except ValueError:
            return None
    return None


def read_response(sock, buf=b""):
    """One response (Content-Length or close-delimited): (status, body, leftover)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed before a response head")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0][9:12])
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if length is None:
        length = 0
    while len(rest) < length:
        d = sock.recv(max(65536, length - len(rest)))
        if not d:
            raise ConnectionError("closed in a response body")
        rest += d
    return status, rest[:length], rest[length:]


def tcp_table():
    """Rows of /proc/net/tcp and tcp6: (local_port, remote_port, state, tx_queue, rx_queue)."""
    rows = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    lport = int(p[1].rsplit(":", 1)[1], 16)
                    rport = int(p[2].rsplit(":", 1)[1], 16)
                    tx, rx = p[4].split(":")
                    rows.append((lport, rport, p[3], int(tx, 16), int(rx, 16)))
        except OSError:
            pass
    return rows


TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
              "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
              "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}


def push(sock, pieces, deadline, stop_on_answer=True, after_end=10.0):
    """Sends `pieces` (an iterator of bytes) without blocking while reading what comes back.

    Stops at the first response (stop_on_answer), when the connection is closed or reset, or
    at the deadline; after the last piece it waits up to `after_end` s for an answer.
    Returns a dict: sent, sent_at_answer, status, reply_bytes, closed, error, finished, t.
    """
    sock.setblocking(False)
    t0 = time.monotonic()
    r = {"sent": 0, "sent_at_answer": None, "status": None, "reply": b"", "closed": False,
         "error": None, "finished": False, "t_answer": None}
    cur = None
    end_deadline = None
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    try:
        while True:
            now = time.monotonic()
            if now > deadline or (end_deadline and now > end_deadline):
                break
            if cur is None and not r["finished"]:
                try:
                    cur = memoryview(next(pieces))
                except StopIteration:
                    r["finished"] = True
                    end_deadline = now + after_end
                    sel.modify(sock, selectors.EVENT_READ)
            for key, ev in sel.select(0.05):
                if ev & selectors.EVENT_READ:
                    try:
                        d = sock.recv(65536)
                    except BlockingIOError:
                        d = None
                    except OSError as e:
                        r["error"] = errno.errorcode.get(e.errno, str(e))
                        r["closed"] = True
                        return r
                    if d == b"":
                        r["closed"] = True
                        return r
                    if d:
                        if not r["reply"]:
                            r["sent_at_answer"] = r["sent"]
                            r["t_answer"] = time.monotonic() - t0
                        r["reply"] += d[: max(0, 4096 - len(r["reply"]))] if len(r["reply"]) < 4096 else b""
                        r.setdefault("reply_bytes", 0)
                        r["reply_bytes"] += len(d)
                        if r["status"] is None:
                            r["status"] = status_of(r["reply"])
                        if stop_on_answer and r["status"] is not None:
                            return r
                if ev & selectors.EVENT_WRITE and cur is not None:
                    try:
                        n = sock.send(cur[:65536])
                        r["sent"] += n
                        cur = cur[n:]
                        if not cur:
                            cur = None
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        r["error"] = errno.errorcode.get(e.errno, str(e))
                        # what was answered before the reset may still be readable
                        try:
                            sock.setblocking(True)
                            sock.settimeout(0.5)
                            d = sock.recv(65536)
                            if d and not r["reply"]:
                                r["sent_at_answer"] = r["sent"]
                                r["reply"] = d
                                r["status"] = status_of(d)
                        except OSError:
                            pass
                        r["closed"] = True
                        return r
        return r
    finally:
        r["t"] = time.monotonic() - t0
        sel.close()


def repeat(block, total):
    """`block` repeated until `total` bytes (the last one cut)."""
    sent = 0
    while sent < total:
        b = block if sent + len(block) <= total else block[: total - sent]
        sent += len(b)
        yield b


def chain(*iters):
    for it in iters:
        if isinstance(it, (bytes, bytearray)):
            yield it
        else:
            yield from it


# --------------------------------------------------------------------------- repros


def repro_lookahead(binary):
    srv = Server(binary, 1)
    try:
        m0 = srv.mem()
        a = connect(srv.port)
        a.sendall(b"GET /wait?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n")
        a_port = a.getsockname()[1]
        lat, fails = [], []
        stop = threading.Event()

        def prober():
            time.sleep(0.5)
            while not stop.is_set():
                t = time.monotonic()
                try:
                    b = connect(srv.port, timeout=5)
                    b.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                    st, _, _ = read_response(b)
                    lat.append((time.monotonic() - t) * 1000)
                    b.close()
                except OSError as e:
                    fails.append(type(e).__name__)
                stop.wait(0.5)

        th = threading.Thread(target=prober, daemon=True)
        th.start()
        junk = b"J" * 65536
        r = push(a, iter(lambda: junk, None), time.monotonic() + 8, stop_on_answer=False)
        stop.set()
        th.join(6)
        m1 = srv.mem()
        rows = tcp_table()
        srv_rxq = sum(rx for lp, rp, st, tx, rx in rows if lp == srv.port and rp == a_port)
        cli_txq = sum(tx for lp, rp, st, tx, rx in rows if lp == a_port and rp == srv.port)
        a.close()
        read_by_server = r["sent"] - srv_rxq - cli_txq
        return ("client_sent=%s kernel_queued(srv_rx+cli_tx)=%s => read_by_server=%s "
                "rss %s->%s (+%s) hwm %s->%s (+%s) | plaintext probes n=%d median=%.1fms "
                "max=%.1fms fail=%d%s push_err=%s" % (
                    mb(r["sent"] / 1024), mb((srv_rxq + cli_txq) / 1024),
                    mb(read_by_server / 1024), mb(m0[0]), mb(m1[0]), mb(m1[0] - m0[0]),
                    mb(m0[1]), mb(m1[1]), mb(m1[1] - m0[0]), len(lat),
                    statistics.median(lat) if lat else -1, max(lat) if lat else -1,
                    len(fails), (" " + ",".join(sorted(set(fails)))) if fails else "",
                    r["error"]))
    finally:
        srv.stop()


def _chunked_post(srv, path, chunk, count, deadline_s):
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" % path).encode()
    per_block = max(1, (1 << 20) // len(chunk))
    block = chunk * per_block

    def pieces():
        yield head
        left = count
        while left > 0:
            n = min(left, per_block)
            yield block if n == per_block else chunk * n
            left -= n
        yield b"0\r\n\r\n"

    wire = len(head) + len(chunk) * count + 5
    s = connect(srv.port)
    m0 = srv.mem()
    r = push(s, pieces(), time.monotonic() + deadline_s, stop_on_answer=True, after_end=20)
    m1 = srv.mem()
    s.close()
    return r, m0, m1, wire


def repro_chunkamp(binary):
    out = []
    srv = Server(binary, 1)
    try:
        chunk = b"1;" + b"e" * 1000 + b"\r\nx\r\n"
        r, m0, m1, wire = _chunked_post(srv, "/echo", chunk, CHUNKAMP_PAYLOAD, 60)
        out.append("[1B chunks+1000B ext, payload %d (%s wire), POST /echo] status=%s "
                   "sent_at_answer=%s t=%.1fs rss %s->%s hwm +%s%s" % (
                       CHUNKAMP_PAYLOAD, mb(wire / 1024), r["status"],
                       mb((r["sent_at_answer"] if r["sent_at_answer"] is not None else r["sent"]) / 1024),
                       r["t_answer"] if r["t_answer"] is not None else r["t"],
                       mb(m0[0]), mb(m1[0]), mb(m1[1] - m0[0]),
                       "" if r["status"] else " (no answer; sent=%s closed=%s err=%s)" % (
                           mb(r["sent"] / 1024), r["closed"], r["error"])))
    finally:
        srv.stop()
    srv = Server(binary, 1)
    try:
        chunk = b"64;" + b"e" * 700 + b"\r\n" + b"p" * 100 + b"\r\n"
        count = (7 << 20) // 100
        r, m0, m1, wire = _chunked_post(srv, "/plaintext", chunk, count, 60)
        out.append("[100B chunks+700B ext, payload 7MiB (%s wire), POST /plaintext] status=%s "
                   "sent_at_answer=%s sent_total=%s t=%.1fs rss %s->%s hwm +%s closed=%s err=%s" % (
                       mb(wire / 1024), r["status"],
                       mb((r["sent_at_answer"] or 0) / 1024), mb(r["sent"] / 1024),
                       r["t"], mb(m0[0]), mb(m1[0]), mb(m1[1] - m0[0]), r["closed"],
                       r["error"]))
    finally:
        srv.stop()
    return " ; ".join(out)


def repro_whitespace(binary):
    srv = Server(binary, 1)
    try:
        total = 500 << 20
        head = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1"
        pieces = chain(head, repeat(b" " * (1 << 20), total), b";a\r\nx\r\n0\r\n\r\n")
        s = connect(srv.port)
        m0 = srv.mem()
        r = push(s, pieces, time.monotonic() + 40, stop_on_answer=True, after_end=15)
        m1 = srv.mem()
        s.close()
        return ("status=%s answered_after=%s (of up to 500M spaces) t=%.1fs sent_total=%s "
                "rss %s->%s hwm +%s closed=%s err=%s alive=%s" % (
                    r["status"],
                    mb(r["sent_at_answer"] / 1024) if r["sent_at_answer"] is not None else "never",
                    r["t_answer"] if r["t_answer"] is not None else r["t"],
                    mb(r["sent"] / 1024), mb(m0[0]), mb(m1[0]), mb(m1[1] - m0[0]),
                    r["closed"], r["error"], srv.alive()))
    finally:
        srv.stop()


def repro_slowbody(binary):
    return _slowbody_a(binary) + " ; " + _slowbody_b(binary)


def _slowbody_a(binary):
    n = 500
    srv = Server(binary, 2, {"--max-connections": 20000})
    try:
        m0 = srv.mem()
        socks = []
        for _ in range(n):
            s = connect(srv.port)
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            s.setblocking(False)
            socks.append(s)
        state = {s: {"reply": b"", "status": None, "closed": None} for s in socks}
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        t0 = time.monotonic()
        open_at = {}
        next_byte = t0
        while True:
            now = time.monotonic()
            el = now - t0
            for mark in (15, 30):
                if mark not in open_at and el >= mark:
                    open_at[mark] = sum(1 for v in state.values()
                                        if v["closed"] is None and v["status"] is None)
            if el >= 30:
                break
            if now >= next_byte:
                for s, v in state.items():
                    if v["closed"] is None:
                        try:
                            s.send(b"a")
                        except BlockingIOError:
                            pass
                        except OSError:
                            v["closed"] = el
                            sel.unregister(s)
                next_byte += 1
            for key, ev in sel.select(min(0.2, max(0.0, next_byte - time.monotonic()))):
                s = key.fileobj
                v = state[s]
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if d:
                    if v["status"] is None:
                        v["reply"] += d
                        v["status"] = status_of(v["reply"])
                        if v["status"] is not None:
                            v["t_status"] = time.monotonic() - t0
                else:
                    v["closed"] = time.monotonic() - t0
                    sel.unregister(s)
        m1 = srv.mem()
        statuses = collections.Counter(v["status"] for v in state.values())
        ts = sorted(v["t_status"] for v in state.values() if "t_status" in v)
        for s in socks:
            s.close()
        sel.close()
        return ("(a) %d x CL:100000 at 1 B/s: unanswered&open at 15s=%d at 30s=%d statuses=%s "
                "answered_at=%s rss %s->%s hwm +%s" % (
                    n, open_at.get(15, -1), open_at.get(30, -1),
                    dict(statuses), ("%.1f-%.1fs" % (ts[0], ts[-1])) if ts else "-",
                    mb(m0[0]), mb(m1[0]), mb(m1[1] - m0[0])))
    finally:
        srv.stop()


def _slowbody_b(binary):
    n = 60
    size = 8 << 20
    body = b"b" * (size - 100)
    srv = Server(binary, 2, {"--max-connections": 20000})
    try:
        m0 = srv.mem()
        results = [None] * n
        socks = [None] * n

        def client(i):
            s = connect(srv.port)
            socks[i] = s
            head = ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size).encode()
            r = push(s, chain(head, body), time.monotonic() + 60, stop_on_answer=True,
                     after_end=0)
            r["t_done"] = time.monotonic()
            results[i] = r

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(70)
        t_all = time.monotonic()
        time.sleep(0.5)
        m1 = srv.mem()
        early = collections.Counter(r["status"] for r in results if r and r["status"])
        # phase 2: the rest trickle one byte every 20 s; watch for 45 s
        live = {}
        for i, r in enumerate(results):
            if r and r["status"] is None and not r["closed"]:
                live[socks[i]] = {"t_done": r["t_done"], "status": None, "reply": b"",
                                  "end": None}
        sel = selectors.DefaultSelector()
        for s in live:
            sel.register(s, selectors.EVENT_READ)
        watch = 45
        next_byte = t_all + 20
        while time.monotonic() - t_all < watch and any(v["end"] is None for v in live.values()):
            now = time.monotonic()
            if now >= next_byte:
                for s, v in live.items():
                    if v["end"] is None:
                        try:
                            s.send(b"b")
                        except OSError:
                            v["end"] = now
                            sel.unregister(s)
                next_byte += 20
            for key, ev in sel.select(0.2):
                s = key.fileobj
                v = live[s]
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if d and v["status"] is None:
                    v["reply"] += d
                    v["status"] = status_of(v["reply"])
                if not d or v["status"] is not None:
                    v["end"] = time.monotonic()
                    sel.unregister(s)
        m2 = srv.mem()
        late = collections.Counter(v["status"] for v in live.values())
        held = sorted((v["end"] - v["t_done"]) for v in live.values() if v["end"] is not None)
        still = sum(1 for v in live.values() if v["end"] is None)
        for s in socks:
            if s:
                s.close()
        sel.close()
        return ("(b) %d x 8MiB CL, all but 100 B sent (%.1fs): rss %s->%s (+%s) hwm +%s; "
                "answered while sending=%s; held ones=%d, later statuses=%s, held for %s, "
                "still open after %ds=%d; rss at end %s" % (
                    n, t_all - (min(r["t_done"] - r["t"] for r in results if r) if any(results) else t_all),
                    mb(m0[0]), mb(m1[0]), mb(m1[0] - m0[0]), mb(m1[1] - m0[0]), dict(early),
                    len(live), dict(late),
                    ("%.1f-%.1fs" % (held[0], held[-1])) if held else "-", watch, still,
                    mb(m2[0])))
    finally:
        srv.stop()


def repro_sendq(binary):
    n = 100
    srv = Server(binary, 2)
    try:
        m0 = srv.mem()
        socks = []
        for _ in range(n):
            s = connect(srv.port, rcvbuf=65536)
            s.sendall(b"GET /bytes?n=1073741824 HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        t0 = time.monotonic()
        out = []
        for mark in (15, 25):
            time.sleep(max(0, t0 + mark - time.monotonic()))
            rows = [r for r in tcp_table() if r[0] == srv.port and r[2] != "0A"]
            states = collections.Counter(TCP_STATES.get(r[2], r[2]) for r in rows)
            out.append("@%ds: sockets=%d tx_queue=%s states=%s" % (
                mark, len(rows), mb(sum(r[3] for r in rows) / 1024), dict(states)))
            if mark == 15:
                m1 = srv.mem()
        fds = len(os.listdir("/proc/%d/fd" % srv.pid))
        for s in socks:
            s.close()
        return "%d clients never reading /bytes?n=1GiB: %s; rss %s->%s hwm +%s server_fds=%d" % (
            n, " ; ".join(out), mb(m0[0]), mb(m1[0]), mb(m1[1] - m0[0]), fds)
    finally:
        srv.stop()


def repro_idle(binary):
    n = 2000
    srv = Server(binary, 2, {"--max-connections": 20000})
    try:
        warm = connect(srv.port)
        warm.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(warm)
        warm.close()
        time.sleep(0.3)
        m0 = srv.mem()
        socks = []
        for _ in range(n):
            s = connect(srv.port)
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            st, _, _ = read_response(s)
            socks.append(s)
        time.sleep(1)
        m1 = srv.mem()
        body = b"q" * 15000
        req = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 15000\r\n\r\n" + body) * 4
        bad = 0
        for s in socks:
            s.sendall(req)
            buf = b""
            for _ in range(4):
                st, b, buf = read_response(s, buf)
                if st != 200 or len(b) != 15000:
                    bad += 1
        time.sleep(2)
        m2 = srv.mem()
        for s in socks:
            s.close()
        return ("%d idle conns: rss %s->%s = %.1f KB/conn; after 4x15KB pipelined /echo each "
                "(bad=%d) and 2s idle: rss %s = %.1f KB/conn (hwm %s)" % (
                    n, mb(m0[0]), mb(m1[0]), (m1[0] - m0[0]) / n, bad, mb(m2[0]),
                    (m2[0] - m0[0]) / n, mb(m2[1])))
    finally:
        srv.stop()


def repro_connlimit(binary):
    n = 1000
    srv = Server(binary, 2, {"--max-connections": 1000})
    try:
        sel = selectors.DefaultSelector()
        state = {}
        t0 = time.monotonic()
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", srv.port))
            except BlockingIOError:
                pass
            state[s] = {"sent": False, "reply": b"", "status": None, "t": None}
            sel.register(s, selectors.EVENT_WRITE)
        req = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
        errors = collections.Counter()
        while time.monotonic() - t0 < 3:
            for key, ev in sel.select(0.1):
                s = key.fileobj
                v = state[s]
                try:
                    if ev & selectors.EVENT_WRITE and not v["sent"]:
                        s.send(req)
                        v["sent"] = True
                        sel.modify(s, selectors.EVENT_READ)
                    elif ev & selectors.EVENT_READ:
                        d = s.recv(65536)
                        if not d:
                            errors["eof"] += 1
                            sel.unregister(s)
                            continue
                        v["reply"] += d
                        if v["status"] is None:
                            v["status"] = status_of(v["reply"])
                            if v["status"] is not None:
                                v["t"] = time.monotonic() - t0
                                sel.unregister(s)
                except BlockingIOError:
                    pass
                except OSError as e:
                    errors[errno.errorcode.get(e.errno, str(e))] += 1
                    sel.unregister(s)
        answered = [v for v in state.values() if v["status"] is not None]
        ts = sorted(v["t"] for v in answered)
        rss = srv.mem()
        for s in state:
            s.close()
        sel.close()
        return ("--max-connections 1000 (%s), 1000 keep-alive GET /plaintext: answered within "
                "3s=%d statuses=%s last_answer=%.2fs sent=%d errors=%s rss=%s" % (
                    "passed" if "--max-connections" in srv.passed else "not supported",
                    len(answered), dict(collections.Counter(v["status"] for v in answered)),
                    ts[-1] if ts else -1, sum(1 for v in state.values() if v["sent"]),
                    dict(errors), mb(rss[0])))
    finally:
        srv.stop()


REPROS = collections.OrderedDict([
    ("lookahead", repro_lookahead),
    ("chunkamp", repro_chunkamp),
    ("whitespace", repro_whitespace),
    ("slowbody", repro_slowbody),
    ("sendq", repro_sendq),
    ("idle", repro_idle),
    ("connlimit", repro_connlimit),
])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--only", help="comma-separated repro names: " + ",".join(REPROS))
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    names = args.only.split(",") if args.only else list(REPROS)
    for name in names:
        if name not in REPROS:
            sys.exit("unknown repro %r (have: %s)" % (name, ", ".join(REPROS)))
    signal.signal(signal.SIGALRM, _alarm)
    binary = os.path.abspath(args.binary)
    for name in names:
        t = time.monotonic()
        signal.alarm(REPRO_TIMEOUT)
        try:
            line = REPROS[name](binary)
        except Timeout:
            line = "TIMEOUT after %ds (bounded; see the repro's notes)" % REPRO_TIMEOUT
        except Exception as e:  # report, go on with the next repro
            line = "ERROR %s: %s" % (type(e).__name__, e)
        finally:
            signal.alarm(0)
        print("%-10s %5.1fs  %s" % (name, time.monotonic() - t, line), flush=True)


if __name__ == "__main__":
    main()
