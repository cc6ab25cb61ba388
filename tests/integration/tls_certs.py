# SPDX-License-Identifier: MIT
"""Throw-away certificates for the TLS tests, made with the openssl command once per process.

Every key is a fresh ECDSA P-256 key in a temporary directory; nothing here is committed.
`certs()` returns a TestCerts whose attributes are file paths:

- ca, ca_key: the test CA ("CN=Test CA")
- server, server_key: CN=localhost, SANs localhost, *.example.test, 127.0.0.1
- other, other_key: CN=other.test, SAN other.test (a second chain for SNI)
- alice, alice_key: a client certificate from the CA ("CN=alice,O=Example", SANs
  DNS:alice.example and email:alice@example.com)
- stranger, stranger_key: a self-signed client certificate the CA never signed
"""

import atexit
import os
import shutil
import ssl
import subprocess
import tempfile

_certs = None


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _key_and_csr(d, name, subject):
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject, cwd=d,
    )


def _sign(d, name, extensions, days=30):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(extensions + "\n")
    _openssl(
        "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", name + ".pem", "-days", str(days),
        "-extfile", name + ".ext", cwd=d,
    )


class TestCerts:
    def __init__(self, directory):
        self.dir = directory
        d = directory
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Test CA", "-days", "30", cwd=d,
        )
        _key_and_csr(d, "server", "/CN=localhost")
        _sign(d, "server", "subjectAltName=DNS:localhost,DNS:*.example.test,IP:127.0.0.1")
        _key_and_csr(d, "other", "/CN=other.test")
        _sign(d, "other", "subjectAltName=DNS:other.test")
        _key_and_csr(d, "alice", "/O=Example/CN=alice")
        _sign(d, "alice", "subjectAltName=DNS:alice.example,email:alice@example.com\n"
              "extendedKeyUsage=clientAuth")
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "stranger.key", "-out", "stranger.pem", "-subj", "/CN=stranger",
            "-days", "30", cwd=d,
        )
        for name in ("ca", "server", "other", "alice", "stranger"):
            setattr(self, name, os.path.join(d, name + ".pem"))
            setattr(self, name + "_key", os.path.join(d, name + ".key"))

    def server_args(self, listen="127.0.0.1:0"):
        """`wharf serve` flags for a TLS listener with the default chain and the SNI one."""
        return [
            "--tls-listen", listen,
            "--tls-cert", self.server, "--tls-key", self.server_key,
            "--tls-cert", self.other, "--tls-key", self.other_key,
        ]


def certs():
    """The process's test certificates (made on first use, removed at exit)."""
    global _certs
    if _certs is None:
        directory = tempfile.mkdtemp(prefix="wharf-tls-")
        atexit.register(shutil.rmtree, directory, True)
        _certs = TestCerts(directory)
    return _certs


def client_context(alpn=("http/1.1",), cert=None, key=None, check_hostname=True,
                   min_version=None, max_version=None):
    """A client context trusting the test CA."""
    ctx = ssl.create_default_context(cafile=certs().ca)
    ctx.check_hostname = check_hostname
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if cert:
        ctx.load_cert_chain(cert, key)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx
