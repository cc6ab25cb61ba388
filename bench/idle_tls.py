#!/usr/bin/env python3
"""Memory per idle TLS connection, for bench/run's tls-idle scenario.

Reads the resident set (VmRSS) of the server's processes, opens N TLS connections to it, each
doing a full TLS 1.3 handshake (TLS_AES_128_GCM_SHA256, X25519) and one keep-alive request
(GET /plaintext, answered 200 "Hello, World!"), leaves them idle, waits a moment, reads the
resident set again and checks that every connection is still open. Prints one line:

  IDLE connections=N open=M baseline_kib=B loaded_kib=L failed=F seconds=S

Usage: idle_tls.py PORT CONNECTIONS PID...
"""
import os
import resource
import select
import socket
import ssl
import sys
import time


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
        print(f"idle_tls.py: {count} connections need more than the {hard} files allowed", file=sys.stderr)
        return 1

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    # Python has no setter for TLS 1.3 suites; the OpenSSL config (OPENSSL_CONF) bench/run
    # passes restricts them to TLS_AES_128_GCM_SHA256 and the groups to X25519:P-256.
    request = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n"

    time.sleep(0.2)
    baseline = rss_kib(pids)
    start = time.monotonic()
    conns, failed = [], 0
    for _ in range(count):
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(request)
            got = b""
            while b"Hello, World!" not in got:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed before the response")
                got += chunk
            if not got.startswith(b"HTTP/1.1 200"):
                raise ConnectionError(got[:40])
            conns.append(s)
        except (OSError, ssl.SSLError, ConnectionError) as e:
            failed += 1
            if failed == 1:
                print(f"idle_tls.py: connection failed: {e}", file=sys.stderr)
            if failed > 20:
                break
    seconds = time.monotonic() - start
    time.sleep(1.0)
    loaded = rss_kib(pids)
    # Still open: nothing to read (a closed connection reads as readable: EOF or close_notify).
    # poll, not select: the descriptors go past FD_SETSIZE.
    open_count = 0
    for s in conns:
        p = select.poll()
        p.register(s, select.POLLIN | select.POLLRDHUP)
        if not p.poll(0) and s.pending() == 0:
            open_count += 1
    print(f"IDLE connections={count} open={open_count} baseline_kib={baseline} loaded_kib={loaded} "
          f"failed={failed} seconds={seconds:.1f}")
    for s in conns:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
